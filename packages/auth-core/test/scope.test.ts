import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatScope, isScopeToken, parseScope, scopeKey } from '../src/scope.js'

describe('scope', () => {
  it('splits on spaces, drops empty tokens and duplicates, keeps order', () => {
    expect(parseScope('mcp:read  customer:read mcp:read')).toEqual(['mcp:read', 'customer:read'])
    expect(parseScope(['a', '', 'b', 'a'])).toEqual(['a', 'b'])
    expect(parseScope(undefined)).toEqual([])
    expect(parseScope('')).toEqual([])
  })

  it('accepts exactly the RFC 6749 scope-token characters', () => {
    expect(isScopeToken('customer:read')).toBe(true)
    expect(isScopeToken('https://api.example/x!#$%&()*+,-./:;<=>?@[]^_`{|}~')).toBe(true)
    for (const bad of ['', 'a b', 'a"b', 'a\\b', 'a\tb', 'ä', '\x7f']) expect(isScopeToken(bad)).toBe(false)
  })

  it('round-trips: formatScope ∘ parseScope is the identity on distinct valid tokens', () => {
    const token = fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,12}$/)
    fc.assert(
      fc.property(fc.uniqueArray(token, { maxLength: 8 }), (tokens) => {
        expect(parseScope(formatScope(tokens))).toEqual(tokens)
      }),
    )
  })

  it('gives one key per set, whatever the order or repetition', () => {
    expect(scopeKey(['b', 'a', 'b'])).toBe(scopeKey(['a', 'b']))
    expect(scopeKey(['a'])).not.toBe(scopeKey(['a', 'b']))
  })
})
