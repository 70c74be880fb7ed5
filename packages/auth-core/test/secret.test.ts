import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { Secret } from '../src/secret.js'

const VALUE = 'super-secret-value-42'

describe('Secret', () => {
  it('reveals its value only through reveal()', () => {
    expect(new Secret(VALUE).reveal()).toBe(VALUE)
  })

  it('shows [redacted] in String(), template literals, + and JSON.stringify', () => {
    const secret = new Secret(VALUE)
    expect(String(secret)).toBe('[redacted]')
    expect(`${secret}`).toBe('[redacted]')
    expect('x' + secret).toBe('x[redacted]')
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}')
  })

  it('shows [redacted] in util.inspect and console-style formatting, also when nested', () => {
    const secret = new Secret(VALUE)
    expect(inspect(secret)).toBe('[redacted]')
    const nested = inspect({ a: { b: [secret] } }, { depth: 10 })
    expect(nested).not.toContain(VALUE)
    expect(nested).toContain('[redacted]')
  })

  it('has no enumerable property holding the value', () => {
    const secret = new Secret(VALUE)
    expect(Object.keys(secret)).toEqual([])
    expect(JSON.stringify({ ...secret })).toBe('{}')
    expect(JSON.stringify(structuredClone(secret))).toBe('{}')
  })

  it('compares values in memory with equals(), JWKs by content regardless of key order', () => {
    expect(new Secret('a').equals(new Secret('a'))).toBe(true)
    expect(new Secret('a').equals(new Secret('b'))).toBe(false)
    expect(new Secret({ kty: 'EC', d: '1', x: '2' }).equals(new Secret({ x: '2', d: '1', kty: 'EC' }))).toBe(
      true,
    )
    expect(new Secret({ kty: 'EC', d: '1' }).equals(new Secret({ kty: 'EC', d: '2' }))).toBe(false)
    expect(new Secret<unknown>('a').equals(new Secret<unknown>({ a: 1 }))).toBe(false)
  })

  it('recognises secrets with isSecret', () => {
    expect(Secret.isSecret(new Secret('x'))).toBe(true)
    expect(Secret.isSecret({ reveal: () => 'x' })).toBe(false)
    expect(Secret.isSecret('x')).toBe(false)
    expect(Secret.isSecret(null)).toBe(false)
  })
})
