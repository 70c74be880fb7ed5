/**
 * The JWS half of `JwtScopeVerifier`'s checks (RFC 7515): compact serialization, the JOSE header
 * (`alg` allowlist, `crit`, `typ`, `kid`), the key and the signature. The payload is parsed only
 * once its signature is known to be good; its claims are checked in `jwt-claims.ts`.
 *
 * @see RFC 7515 §5.2, RFC 8725 §3.1
 */
import type { KeyEntry } from './jwks.js'
import {
  asciiBytes,
  decodeBase64url,
  decodeBase64urlText,
  isSupportedAlgorithm,
  verifySignature,
} from './jwt-crypto.js'
import { invalidToken, normaliseTyp, type ResolvedVerifierOptions } from './verifier-options.js'

/** A token whose signature is good: the key that verified it and its (unchecked) claims. */
export interface SignedClaims {
  readonly key: KeyEntry
  readonly claims: Record<string, unknown>
}

/** A base64url segment holding a JSON object, or `undefined`. */
function parseJsonObject(segment: string): Record<string, unknown> | undefined {
  const text = decodeBase64urlText(segment)
  if (text === undefined) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Check `token`'s structure, header and signature with the verifier's keys; rejects with an
 * `InvalidTokenError` (or the key store's error when no keys can be had).
 */
export async function verifyJwtSignature(token: string, o: ResolvedVerifierOptions): Promise<SignedClaims> {
  const firstDot = token.indexOf('.')
  const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1)
  if (firstDot <= 0 || secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) {
    throw invalidToken(o, 'malformed', 'the token is not a JWS in compact serialization')
  }
  const header = parseJsonObject(token.slice(0, firstDot))
  if (header === undefined)
    throw invalidToken(o, 'malformed', 'the token header is not a base64url JSON object')

  const alg = header.alg
  if (!isSupportedAlgorithm(alg) || !o.algorithms.has(alg)) {
    throw invalidToken(o, 'algorithm', 'the token algorithm is not allowed')
  }
  // RFC 7515 §4.1.11: we understand no extension, so any "crit" makes the token unusable.
  if (header.crit !== undefined) throw invalidToken(o, 'malformed', 'the token header has "crit" extensions')
  if (o.typ !== undefined && (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== o.typ)) {
    throw invalidToken(o, 'type', `the token "typ" must be ${o.typ}`)
  }
  const kid = header.kid
  if (kid !== undefined && typeof kid !== 'string')
    throw invalidToken(o, 'malformed', 'the token "kid" is not a string')

  const signature = decodeBase64url(token.slice(secondDot + 1))
  if (signature === undefined || signature.length === 0)
    throw invalidToken(o, 'malformed', 'the token signature is not base64url')
  const payloadSegment = token.slice(firstDot + 1, secondDot)

  const candidates = await o.keys.candidates(kid, alg)
  const signingInput = asciiBytes(token.slice(0, secondDot))
  let key: KeyEntry | undefined
  let usable = false
  // Several candidates only when the token has no "kid" and the key set has several keys for alg.
  for (const candidate of candidates) {
    const pending = candidate.importFor(alg)
    const imported = pending instanceof Promise ? await pending : pending
    if (imported === null) continue
    usable = true
    const ok = verifySignature(imported, signingInput, signature)
    if (ok === true || (ok !== false && (await ok))) {
      key = candidate
      break
    }
  }
  if (key === undefined) {
    if (!usable) throw invalidToken(o, 'algorithm', 'the key for this token cannot verify its algorithm')
    throw invalidToken(o, 'signature', 'the token signature is invalid')
  }

  // The payload is parsed only once its signature is known to be good.
  const claims = parseJsonObject(payloadSegment)
  if (claims === undefined)
    throw invalidToken(o, 'malformed', 'the token payload is not a base64url JSON object')
  return { key, claims }
}
