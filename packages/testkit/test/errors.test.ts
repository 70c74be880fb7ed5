import { describe, expect, expectTypeOf, it } from 'vitest'
import { TestkitError, TestkitErrorCode } from '../src/index.js'

describe('TestkitError', () => {
  it('types code as the union of the registry, with one distinct value per name', () => {
    expectTypeOf<TestkitError['code']>().toEqualTypeOf<TestkitErrorCode>()
    const values = Object.values(TestkitErrorCode)
    expect(new Set(values).size).toBe(values.length)
    for (const value of values) expect(value).toMatch(/^ERR_TESTKIT_[A-Z_]+$/)
  })

  it('carries its code, name and cause', () => {
    const cause = new Error('inner')
    const error = new TestkitError(TestkitErrorCode.ListenFailed, 'cannot listen', { cause })
    expect(error).toMatchObject({ code: 'ERR_TESTKIT_LISTEN_FAILED', name: 'TestkitError', cause })
  })
})
