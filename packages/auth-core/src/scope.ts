/**
 * OAuth 2.0 scopes on the wire (RFC 6749 §3.3): a list of space-delimited, case-sensitive
 * scope tokens, each `1*( %x21 / %x23-5B / %x5D-7E )`. One parser and one serialiser for every
 * package, so a scope set means the same thing in a token request, a JWT claim, a
 * `WWW-Authenticate` challenge and a cache key.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Whether `value` is one RFC 6749 scope token (no space, quote or backslash, visible ASCII).
 *
 * @example
 * isScopeToken('customer:read') // true
 * isScopeToken('a b') // false
 */
export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value)
}

/**
 * Splits a `scope` value (string, or an already split list such as a JWT `scp` claim) into its
 * distinct tokens, in order. Runs of spaces count as one separator. Tokens are not validated:
 * use {@link isScopeToken} where input must be well formed.
 *
 * @example
 * parseScope('mcp:read  customer:read mcp:read') // ['mcp:read', 'customer:read']
 * parseScope(['a', '', 'b']) // ['a', 'b']
 */
export function parseScope(value: string | readonly string[] | undefined | null): string[] {
  if (value === undefined || value === null) return []
  const list = typeof value === 'string' ? value.split(' ') : value
  const tokens = new Set<string>()
  for (const token of list) if (token !== '') tokens.add(token)
  return [...tokens]
}

/**
 * Joins scope tokens into a `scope` value (one space between tokens, duplicates dropped).
 *
 * @example
 * formatScope(['mcp:read', 'customer:read']) // 'mcp:read customer:read'
 */
export function formatScope(scopes: Iterable<string>): string {
  return [...new Set(scopes)].join(' ')
}

/**
 * An order-independent identity of a scope set (sorted, distinct tokens), for cache keys and
 * comparisons: `scopeKey(['b', 'a']) === scopeKey(['a', 'b', 'a'])`.
 *
 * @example
 * scopeKey(['customer:read', 'mcp:read', 'customer:read']) // 'customer:read mcp:read'
 */
export function scopeKey(scopes: Iterable<string>): string {
  return [...new Set(scopes)].sort().join(' ')
}
