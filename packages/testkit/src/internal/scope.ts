import type { JWTPayload } from 'jose'

/**
 * A space-delimited `scope` value as its scope tokens, in order, without empty ones. The testkit
 * parses scopes on its own (not with auth-core's parser), so a bug there cannot hide one here.
 *
 * @see RFC 6749 §3.3
 */
export function splitScope(value: string | null | undefined): string[] {
  return (value ?? '').split(' ').filter(Boolean)
}

/**
 * A token's scopes, from its `scope` claim (a string, RFC 8693 §4.2) or `scp` (an array, or a
 * string, as some issuers write it).
 */
export function scopesOfClaims(payload: JWTPayload): string[] {
  const scope = payload['scope'] ?? payload['scp']
  if (typeof scope === 'string') return splitScope(scope)
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string')
  return []
}
