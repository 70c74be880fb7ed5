/**
 * The claims half of `JwtScopeVerifier`'s checks, on a payload whose signature is good: nesting
 * depth, `exp` (required), `nbf`, `iat`, `iss`, `aud` and `sub` (RFC 7519 §4.1, RFC 9068 §4), and
 * the client id. Scopes are read by the verifier itself (`scope.ts`).
 *
 * @see RFC 7519 §7.2, RFC 9068 §4
 */
import { invalidToken, type ResolvedVerifierOptions } from './verifier-options.js'

/**
 * How deeply claims may nest (an object or array counts one level). Real access tokens nest a few
 * levels (`resource_access.<client>.roles`); a deeper payload is refused before anything walks it
 * recursively, so it can never end in a `RangeError`.
 */
const MAX_CLAIMS_DEPTH = 32

/** The registered claims of an accepted token. */
export interface CheckedClaims {
  readonly expiresAt: number
  readonly issuer: string
  readonly audience: readonly string[]
  readonly subject: string | undefined
  /** `client_id` (RFC 9068 §2.2), else `azp`, else `cid`. */
  readonly clientId: string | undefined
}

/** Whether `value` nests deeper than `max` levels of objects and arrays (iterative: no recursion). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth > max) return true
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
    }
  }
  return false
}

/** Freeze `value` and everything in it (iteratively; depth is bounded by {@link checkClaims}). */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null || Object.isFrozen(node)) continue
    Object.freeze(node)
    for (const child of Object.values(node)) stack.push(child)
  }
  return value
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** Check the registered claims against the verifier's options and clock; an `InvalidTokenError` otherwise. */
export function checkClaims(claims: Record<string, unknown>, o: ResolvedVerifierOptions): CheckedClaims {
  if (nestsDeeperThan(claims, MAX_CLAIMS_DEPTH))
    throw invalidToken(o, 'claims', `the token claims nest deeper than ${MAX_CLAIMS_DEPTH} levels`)
  const nowS = Math.floor(o.now() / 1000)
  const { exp, nbf, iat, iss, aud, sub } = claims
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw invalidToken(o, 'claims', 'the token has no numeric "exp"')
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf)))
    throw invalidToken(o, 'claims', 'the token "nbf" is not a number')
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat)))
    throw invalidToken(o, 'claims', 'the token "iat" is not a number')
  if (exp <= nowS - o.toleranceS) throw invalidToken(o, 'expired', 'the token has expired')
  if (nbf !== undefined && nbf > nowS + o.toleranceS)
    throw invalidToken(o, 'not_yet_valid', 'the token is not valid yet ("nbf")')
  if (typeof iss !== 'string' || !o.issuers.has(iss))
    throw invalidToken(o, 'issuer', 'the token "iss" is not an accepted issuer')
  const audience =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud) && aud.every((a) => typeof a === 'string')
        ? (aud as string[])
        : undefined
  if (audience === undefined || !audience.some((a) => o.audiences.has(a))) {
    throw invalidToken(o, 'audience', 'the token "aud" does not include an accepted audience')
  }
  if (sub !== undefined && typeof sub !== 'string')
    throw invalidToken(o, 'claims', 'the token "sub" is not a string')
  return {
    expiresAt: exp,
    issuer: iss,
    audience,
    subject: sub,
    clientId: optionalString(claims.client_id) ?? optionalString(claims.azp) ?? optionalString(claims.cid),
  }
}
