/**
 * `JwtScopeVerifier`'s options, checked and resolved once at construction (the caller's object is
 * never kept): every bad value is a `TypeError` naming the option, and the key source (`jwksUri`,
 * `jwks`, `publicKey`, or discovery from `issuer`) becomes one {@link KeyStore}.
 */
import type { JWK } from 'jose'
import { InvalidTokenError, type InvalidTokenReason } from '../errors.js'
import { createResilientFetch, type RetryInput, resolveHttpPolicy } from './http.js'
import {
  DiscoveredKeyStore,
  KeyEntry,
  type KeyStore,
  parseJwks,
  RemoteKeyStore,
  SingleKeyStore,
  StaticKeyStore,
} from './jwks.js'
import { isSupportedAlgorithm } from './jwt-crypto.js'
import { JWT_ALGORITHMS } from './protocol.js'
import { assertSecureUrl } from './url.js'

/** The `fetch` a caller may give (the public `FetchLike` has this shape). */
type FetchInput = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** The options as given, not yet checked (the public `JwtScopeVerifierOptions` has this shape). */
export interface VerifierOptionsInput {
  readonly jwksUri?: string | URL | undefined
  readonly jwks?: { readonly keys: readonly JWK[] } | undefined
  readonly publicKey?: unknown
  readonly issuer: string | readonly string[]
  readonly audience: string | readonly string[]
  readonly algorithms?: readonly string[] | undefined
  readonly clockToleranceSeconds?: number | undefined
  readonly requiredScopes?: readonly string[] | undefined
  readonly scopeMatch?: 'all' | 'any' | undefined
  readonly typ?: string | undefined
  readonly maxTokenBytes?: number | undefined
  readonly cacheSize?: number | undefined
  readonly jwksCooldownSeconds?: number | undefined
  readonly jwksCacheMaxAgeSeconds?: number | undefined
  readonly jwksTimeoutMs?: number | undefined
  readonly retry?: RetryInput | undefined
  readonly fetch?: FetchInput | undefined
  readonly now?: (() => number) | undefined
  readonly resourceMetadata?: string | URL | undefined
}

/**
 * What the resolver needs from public modules of the package, passed in by `jwt-verifier.ts`
 * (nothing in internal/ imports a public file).
 */
export interface VerifierOptionsSeams {
  /** `scope.ts`-checked scope tokens of an option, de-duplicated (a `TypeError` otherwise). */
  readonly scopeList: (value: unknown, name: string) => string[]
  /** `unwrapFetch` of `fetch-like.ts`: the fetch underneath any auth-fetch wrappers. */
  readonly unwrapFetch: (fetch: FetchInput) => FetchInput
}

/** The verifier's options, checked, with their defaults. */
export interface ResolvedVerifierOptions {
  readonly keys: KeyStore
  readonly issuers: ReadonlySet<string>
  readonly audiences: ReadonlySet<string>
  readonly audienceList: readonly string[]
  readonly algorithms: ReadonlySet<string>
  readonly toleranceS: number
  readonly requiredScopes: readonly string[]
  readonly scopeMatch: 'all' | 'any'
  readonly typ: string | undefined
  readonly maxTokenBytes: number
  readonly now: () => number
  readonly resourceMetadata: string | undefined
  readonly cacheSize: number
}

/** The verifier's request policy: short, and no retry inside a verification (see `retry`). */
const VERIFIER_HTTP_DEFAULTS = { timeoutMs: 5_000, limit: 0, maxDelayMs: 1_000, maxRetryAfterMs: 1_000 }

/** An `InvalidTokenError` whose challenge carries the verifier's `resource_metadata`. */
export function invalidToken(
  o: ResolvedVerifierOptions,
  reason: InvalidTokenReason,
  message: string,
  cause?: unknown,
): InvalidTokenError {
  return new InvalidTokenError(message, { reason, resourceMetadata: o.resourceMetadata, cause })
}

function nonNegativeNumber(value: unknown, name: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < 0 ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value))
  ) {
    throw new TypeError(`"${name}" must be a non-negative ${integer ? 'integer' : 'finite number'}`)
  }
  return value
}

function stringList(value: unknown, name: string, allowEmpty: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    (!allowEmpty && list.length === 0) ||
    !list.every((v) => typeof v === 'string' && v.length > 0)
  ) {
    throw new TypeError(
      `"${name}" must be a non-empty string or ${allowEmpty ? 'an' : 'a non-empty'} array of non-empty strings`,
    )
  }
  return [...list]
}

/** `scopeMatch` of the options or of one call. */
export function scopeMatchOption(value: unknown, name: string, fallback: 'all' | 'any'): 'all' | 'any' {
  if (value === undefined) return fallback
  if (value !== 'all' && value !== 'any') throw new TypeError(`"${name}" must be 'all' or 'any'`)
  return value
}

/** A JWS `typ` as compared: lower case, without an `application/` prefix (RFC 7515 §4.1.9). */
export function normaliseTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey
}

function publicKeyEntry(value: unknown): KeyEntry {
  if (typeof value === 'string') {
    if (!value.includes('-----BEGIN PUBLIC KEY-----') && !value.includes('-----BEGIN CERTIFICATE-----')) {
      throw new TypeError(
        '"publicKey" must be a PEM public key (SPKI) or certificate, a public JWK, a CryptoKey or a KeyObject',
      )
    }
    return new KeyEntry({ pem: value })
  }
  if (isCryptoKey(value)) {
    if (value.type !== 'public') throw new TypeError('"publicKey" must be a public key')
    return new KeyEntry({ cryptoKey: value })
  }
  if (typeof value === 'object' && value !== null) {
    let jwk: unknown = value
    const maybeKeyObject = value as { type?: unknown; export?: unknown }
    if (typeof maybeKeyObject.export === 'function') {
      if (maybeKeyObject.type !== 'public') throw new TypeError('"publicKey" must be a public key')
      jwk = (maybeKeyObject.export as (o: { format: 'jwk' }) => unknown)({ format: 'jwk' })
    }
    const [entry, ...rest] = parseJwks({ keys: [jwk] }, '"publicKey"')
    if (!entry || rest.length > 0)
      throw new TypeError('"publicKey" must be a public asymmetric JWK (no "d", not "oct")')
    return entry
  }
  throw new TypeError(
    '"publicKey" must be a PEM public key (SPKI) or certificate, a public JWK, a CryptoKey or a KeyObject',
  )
}

/** Check `options` and resolve their defaults (a `TypeError` naming the first bad option). */
export function resolveVerifierOptions(
  options: VerifierOptionsInput,
  seams: VerifierOptionsSeams,
): ResolvedVerifierOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('JwtScopeVerifier options must be an object')
  const issuers = stringList(options.issuer, 'issuer', false)
  const audiences = stringList(options.audience, 'audience', false)
  const algorithms = options.algorithms === undefined ? [...JWT_ALGORITHMS] : [...options.algorithms]
  if (algorithms.length === 0 || !algorithms.every((a) => isSupportedAlgorithm(a))) {
    throw new TypeError(
      `"algorithms" must be a non-empty list of asymmetric JWS algorithms (${JWT_ALGORITHMS.join(', ')}); "none" and HMAC are not supported`,
    )
  }
  const toleranceS = nonNegativeNumber(options.clockToleranceSeconds, 'clockToleranceSeconds', 5)
  const maxTokenBytes = nonNegativeNumber(options.maxTokenBytes, 'maxTokenBytes', 16_384, true)
  const cacheSize = nonNegativeNumber(options.cacheSize, 'cacheSize', 1000, true)
  const cooldownS = nonNegativeNumber(options.jwksCooldownSeconds, 'jwksCooldownSeconds', 5)
  const maxAgeS = nonNegativeNumber(options.jwksCacheMaxAgeSeconds, 'jwksCacheMaxAgeSeconds', 600)
  const requiredScopes =
    options.requiredScopes === undefined ? [] : seams.scopeList(options.requiredScopes, 'requiredScopes')
  const scopeMatch = scopeMatchOption(options.scopeMatch, 'scopeMatch', 'all')
  if (options.typ !== undefined && (typeof options.typ !== 'string' || options.typ === '')) {
    throw new TypeError('"typ" must be a non-empty string')
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw new TypeError('"fetch" must be a function')
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new TypeError('"now" must be a function')
  const resourceMetadata =
    options.resourceMetadata === undefined
      ? undefined
      : assertSecureUrl(options.resourceMetadata, 'resourceMetadata', false).href
  const now = options.now ?? Date.now
  const customFetch = options.fetch
  const policy = resolveHttpPolicy(options.jwksTimeoutMs, options.retry, VERIFIER_HTTP_DEFAULTS, {
    timeout: 'jwksTimeoutMs',
  })
  // Looked up at call time: msw and other interceptors patch globalThis.fetch after import.
  const request = createResilientFetch(policy, () => seams.unwrapFetch(customFetch ?? globalThis.fetch), now)

  const sources = [options.jwksUri, options.jwks, options.publicKey].filter((v) => v !== undefined).length
  if (sources > 1) throw new TypeError('give only one of "jwksUri", "jwks" and "publicKey"')
  const remote = {
    fetch: request,
    now,
    cooldownMs: cooldownS * 1000,
    maxAgeMs: maxAgeS * 1000,
    resourceMetadata,
  }
  let keys: KeyStore
  if (options.jwksUri !== undefined) {
    keys = new RemoteKeyStore({ ...remote, url: assertSecureUrl(options.jwksUri, 'jwksUri', false) })
  } else if (options.jwks !== undefined) {
    const entries = parseJwks(options.jwks, '"jwks"')
    if (entries.length === 0) throw new TypeError('"jwks" must hold at least one public asymmetric key')
    keys = new StaticKeyStore(entries, resourceMetadata)
  } else if (options.publicKey !== undefined) {
    keys = new SingleKeyStore(publicKeyEntry(options.publicKey), resourceMetadata)
  } else {
    const [issuer, ...more] = issuers
    if (issuer === undefined || more.length > 0) {
      throw new TypeError('give "jwksUri", "jwks" or "publicKey" when "issuer" lists several issuers')
    }
    assertSecureUrl(issuer, 'issuer', false)
    keys = new DiscoveredKeyStore({ ...remote, issuer })
  }
  return {
    keys,
    issuers: new Set(issuers),
    audiences: new Set(audiences),
    audienceList: audiences,
    algorithms: new Set(algorithms),
    toleranceS,
    requiredScopes,
    scopeMatch,
    typ: options.typ === undefined ? undefined : normaliseTyp(options.typ),
    maxTokenBytes,
    now,
    resourceMetadata,
    cacheSize,
  }
}
