import { describe, expect, it } from 'vitest'
import { closest, editDistance } from '../src/internal/cli-suggest.js'

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and swaps as one edit each', () => {
    expect(editDistance('json', 'json')).toBe(0)
    expect(editDistance('jsn', 'json')).toBe(1)
    expect(editDistance('jsoon', 'json')).toBe(1)
    expect(editDistance('jsan', 'json')).toBe(1)
    expect(editDistance('sjon', 'json')).toBe(1)
    expect(editDistance('', 'json')).toBe(4)
    expect(editDistance('kitten', 'sitting')).toBe(3)
  })
})

describe('closest', () => {
  const options = ['config', 'server', 'args', 'cookie', 'show-token', 'json', 'help', 'version']

  it('suggests the option a typo was meant to be', () => {
    expect(closest('jsn', options)).toBe('json')
    expect(closest('sever', options)).toBe('server')
    expect(closest('confgi', options)).toBe('config')
    expect(closest('Version', options)).toBe('version')
    expect(closest('show', options)).toBe('show-token')
  })

  it('suggests nothing for a word that is not close to any', () => {
    expect(closest('frobnicate', options)).toBeUndefined()
    expect(closest('x', options)).toBeUndefined()
    expect(closest('verbose', options)).toBeUndefined()
  })
})
