import type { JWK, JWTPayload } from 'jose'
import {
  AuthCoreError,
  InsufficientScopeError,
  InvalidTokenError,
  type InvalidTokenReason,
} from './errors.js'
import { type FetchLike, unwrapFetch } from './fetch-like.js'
import { createResilientFetch, resolveHttpPolicy } from './internal/http.js'
import {
  DiscoveredKeyStore,
  KeyEntry,
  type KeyStore,
  parseJwks,
  RemoteKeyStore,
  SingleKeyStore,
  StaticKeyStore,
} from './internal/jwks.js'
import {
  asciiBytes,
  decodeBase64url,
  decodeBase64urlText,
  isSupportedAlgorithm,
  type SupportedAlgorithm,
  verifySignature,
} from './internal/jwt-crypto.js'
import { LruCache } from './internal/lru.js'
import { sdkErrorClasses } from './internal/mcp-sdk-errors.js'
import { JWT_ALGORITHMS } from './internal/protocol.js'
import { assertSecureUrl } from './internal/url.js'
import { formatScope, isScopeToken, parseScope } from './scope.js'
import type { RetryOptions } from './token-provider-options.js'

/** A JWS algorithm {@link JwtScopeVerifier} can accept (asymmetric only; never `none` or HMAC). */
export type JwtAlgorithm = SupportedAlgorithm

/**
 * A public key given as PEM (SPKI or X.509 certificate), a public JWK, a WebCrypto `CryptoKey`, or
 * a Node `KeyObject` (anything with `export({ format: 'jwk' })`).
 */
export type JwtPublicKey =
  | string
  | JWK
  | CryptoKey
  | { readonly type: string; export(options: { format: 'jwk' }): unknown }

/** Options of {@link JwtScopeVerifier}. Give exactly one of `jwksUri`, `jwks`, `publicKey`, or only `issuer`. */
export interface JwtScopeVerifierOptions {
  /**
   * URL of the authorization server's JWK Set (RFC 7517 §5). Fetched lazily and cached; an
   * unknown `kid` triggers one rate-limited refetch; cached keys keep serving while it is down.
   * Without `jwksUri`, `jwks` or `publicKey`, it is discovered from `issuer` (RFC 8414).
   */
  jwksUri?: string | URL
  /** A static JWK Set (`{ keys: [...] }`). Private and symmetric keys in it are ignored. */
  jwks?: { keys: readonly JWK[] }
  /** One static public key; the token's `kid` is not consulted. */
  publicKey?: JwtPublicKey
  /** Accepted `iss` value(s), compared exactly. Required. */
  issuer: string | readonly string[]
  /**
   * Accepted `aud` value(s), e.g. this MCP server's RFC 8707 resource URL. A token is accepted when
   * one of its audiences is one of these. Required.
   */
  audience: string | readonly string[]
  /**
   * Accepted JWS algorithms. Only asymmetric algorithms can be listed: `none` and HMAC are never
   * accepted, so a public key can never be abused as an HMAC secret.
   * @default ['RS256','RS384','RS512','PS256','PS384','PS512','ES256','ES384','ES512','EdDSA','Ed25519']
   */
  algorithms?: readonly JwtAlgorithm[]
  /**
   * Clock skew allowed on `exp` and `nbf`, in seconds.
   * @default 5
   */
  clockToleranceSeconds?: number
  /**
   * Scopes every verification requires unless the call gives its own `requiredScopes`.
   * @default []
   */
  requiredScopes?: readonly string[]
  /**
   * Whether the token needs `all` of the required scopes or `any` one of them.
   * @default 'all'
   */
  scopeMatch?: 'all' | 'any'
  /**
   * Required JWS `typ` header, e.g. `'at+jwt'` (RFC 9068 §2.1); compared case-insensitively with
   * an optional `application/` prefix. Unset: `typ` is not checked.
   * @default undefined
   */
  typ?: string
  /**
   * Largest token accepted, in bytes; longer tokens are rejected before any parsing.
   * @default 16384
   */
  maxTokenBytes?: number
  /**
   * How many verified tokens to remember (until their `exp`) so that re-verifying them is cheap;
   * `0` disables the cache.
   * @default 1000
   */
  cacheSize?: number
  /**
   * Minimum time between two JWKS fetches triggered by an unknown `kid` or a failed fetch, in seconds.
   * @default 5
   */
  jwksCooldownSeconds?: number
  /**
   * Age after which the cached JWKS is refetched, in seconds (the old keys serve if that fails).
   * @default 600
   */
  jwksCacheMaxAgeSeconds?: number
  /**
   * Timeout of each attempt of a JWKS or metadata request, in milliseconds. It covers the whole
   * response, body included. A verification waits for the network only when it holds no key for
   * the token's `kid`, and then for at most one JWKS request (before the first discovery with only
   * `issuer`, also the metadata requests), each at most `jwksTimeoutMs` × (1 + `retry.limit`).
   * @default 5000
   */
  jwksTimeoutMs?: number
  /**
   * Retry policy of JWKS and metadata requests (the token provider's policy, other defaults):
   * a failed fetch is tried again after `jwksCooldownSeconds` anyway, so by default there is no
   * retry inside one verification.
   * @default { limit: 0, baseDelayMs: 200, maxDelayMs: 1000, maxRetryAfterMs: 1000 }
   */
  retry?: RetryOptions
  /**
   * `fetch` used for the JWKS and metadata, called as `(url, init)`. Looked up on `globalThis` at
   * call time when unset; a fetch carrying `UNDERLYING_FETCH` (an auth fetch) is unwrapped.
   * @default globalThis.fetch
   */
  fetch?: FetchLike
  /**
   * Clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number
  /**
   * RFC 9728 protected-resource metadata URL, put into `WWW-Authenticate` challenges as
   * `resource_metadata`.
   * @default undefined
   */
  resourceMetadata?: string | URL
}

/** Per-call options of {@link JwtScopeVerifier.verify}. */
export interface JwtVerifyOptions {
  /**
   * Scopes this call requires; replaces the verifier's `requiredScopes`. `null` is rejected with a
   * `TypeError` (it is what `ToolScopePolicy.requiredScopesFor` returns for a denied tool).
   * @default the verifier's requiredScopes
   */
  requiredScopes?: readonly string[]
  /**
   * `all` or `any` of `requiredScopes`.
   * @default the verifier's scopeMatch
   */
  scopeMatch?: 'all' | 'any'
}

/** The verified content of a JWT access token. Frozen; shared between calls that hit the cache. */
export interface VerifiedAccessToken {
  /** The token itself. */
  readonly token: string
  /** Scopes from `scope` (space-delimited) or `scp` (array or string), de-duplicated. */
  readonly scopes: readonly string[]
  /** `client_id` (RFC 9068 §2.2), else `azp`, else `cid`. */
  readonly clientId: string | undefined
  /** `sub`. */
  readonly subject: string | undefined
  /** `aud`, always as a list. */
  readonly audience: readonly string[]
  /** `iss`. */
  readonly issuer: string
  /** `exp`, in epoch seconds. */
  readonly expiresAt: number
  /** All claims of the payload. */
  readonly claims: Readonly<JWTPayload>
}

/** The MCP SDK's `AuthInfo` (from `@modelcontextprotocol/sdk/server/auth/types.js`), structurally. */
export interface McpAuthInfo {
  token: string
  clientId: string
  scopes: string[]
  /** Epoch seconds. */
  expiresAt?: number
  resource?: URL
  extra?: Record<string, unknown>
}

/** The MCP SDK's `OAuthTokenVerifier` (from `@modelcontextprotocol/sdk/server/auth/provider.js`), structurally. */
export interface McpTokenVerifier {
  verifyAccessToken(token: string): Promise<McpAuthInfo>
}

type SdkErrorClass = new (message: string) => Error

/**
 * The MCP SDK's error classes (`@modelcontextprotocol/sdk/server/auth/errors.js`) that its
 * `requireBearerAuth` maps to HTTP statuses with `instanceof`.
 */
export interface McpSdkErrorClasses {
  InvalidTokenError: SdkErrorClass
  InsufficientScopeError: SdkErrorClass
  ServerError: SdkErrorClass
}

/** Options of {@link JwtScopeVerifier.toMcpTokenVerifier}. */
export interface McpTokenVerifierOptions {
  /**
   * Scopes every request requires; replaces the verifier's `requiredScopes`. (`requireBearerAuth`
   * has its own `requiredScopes` too.)
   * @default the verifier's requiredScopes
   */
  requiredScopes?: readonly string[]
  /**
   * The SDK's error classes, so that `requireBearerAuth` answers 401/403 (it tests `instanceof`
   * against its own copy's classes). Without them, the classes come from the SDK copy that calls
   * the verifier (found in the stack: `…/@modelcontextprotocol/sdk/dist/<esm|cjs>/…`), which works
   * with several copies installed; pass them when your server is bundled (no such path in the
   * stack) and may not share this package's copy:
   * `import * as errors from '@modelcontextprotocol/sdk/server/auth/errors.js'`.
   * @default the calling SDK copy's classes, else a dynamic import of '@modelcontextprotocol/sdk/server/auth/errors.js'
   */
  errors?: McpSdkErrorClasses
}

interface Resolved {
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

interface CacheEntry {
  readonly result: VerifiedAccessToken
  readonly key: KeyEntry
  readonly keys: KeyStore
}

/** The verifier's request policy: short, and no retry inside a verification (see `retry`). */
const VERIFIER_HTTP_DEFAULTS = { timeoutMs: 5_000, limit: 0, maxDelayMs: 1_000, maxRetryAfterMs: 1_000 }

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

function scopeList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && isScopeToken(v))) {
    throw new TypeError(
      `"${name}" must be an array of scope tokens (RFC 6749 §3.3: visible ASCII, no spaces)`,
    )
  }
  return parseScope(value as string[])
}

function scopeMatchOption(value: unknown, name: string, fallback: 'all' | 'any'): 'all' | 'any' {
  if (value === undefined) return fallback
  if (value !== 'all' && value !== 'any') throw new TypeError(`"${name}" must be 'all' or 'any'`)
  return value
}

function normaliseTyp(typ: string): string {
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

function resolveOptions(options: JwtScopeVerifierOptions): Resolved {
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
    options.requiredScopes === undefined ? [] : scopeList(options.requiredScopes, 'requiredScopes')
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
  const request = createResilientFetch(policy, () => unwrapFetch(customFetch ?? globalThis.fetch), now)

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

/** Scopes from `scope` (RFC 9068 §2.2.3: a space-delimited string) or `scp` (string or list). */
function scopesOf(claims: Record<string, unknown>): string[] | undefined {
  const raw = claims.scope !== undefined ? claims.scope : claims.scp
  if (raw === undefined) return []
  if (typeof raw === 'string') return parseScope(raw)
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return parseScope(raw as string[])
  return undefined
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/**
 * How deeply claims may nest (an object or array counts one level). Real access tokens nest a few
 * levels (`resource_access.<client>.roles`); a deeper payload is refused before anything walks it
 * recursively, so it can never end in a `RangeError`.
 */
const MAX_CLAIMS_DEPTH = 32

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

/** Freeze `value` and everything in it (iteratively; depth is bounded by the caller). */
function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()
    if (typeof node !== 'object' || node === null || Object.isFrozen(node)) continue
    Object.freeze(node)
    for (const child of Object.values(node)) stack.push(child)
  }
  return value
}

/**
 * Verifies JWT access tokens (RFC 9068) and their scopes; fails closed.
 *
 * Checks, in order: size cap, structure, `alg` allowlist, `crit`, `typ`, key (by `kid`),
 * signature, `exp` (required), `nbf`, `iss`, `aud`, then the required scopes. Verified tokens are
 * cached until their `exp`, keyed by the token itself; the scope check runs on every call.
 *
 * @example
 * ```ts
 * const verifier = new JwtScopeVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://mcp.example.com/mcp',
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   typ: 'at+jwt',
 * })
 * const token = await verifier.verify(bearer, { requiredScopes: ['customer:read'] })
 * token.scopes // ['customer:read', …]
 * ```
 * @see RFC 9068 (JWT access tokens), RFC 7519 §7.2, RFC 6750 §3 (challenges), RFC 8707 (audience)
 */
export class JwtScopeVerifier {
  readonly #o: Resolved
  readonly #cache: LruCache<string, CacheEntry>

  constructor(options: JwtScopeVerifierOptions) {
    this.#o = resolveOptions(options)
    this.#cache = new LruCache(this.#o.cacheSize)
  }

  /**
   * Verify `token` and check the required scopes.
   *
   * Rejects with `InvalidTokenError` (see its `reason`), `InsufficientScopeError`, or an
   * `AuthCoreError` with code `ERR_KEYS_UNAVAILABLE` / a `DiscoveryError` when no keys can be had.
   *
   * @example
   * ```ts
   * const { clientId, scopes } = await verifier.verify(token, { requiredScopes: ['mcp:read'] })
   * ```
   */
  async verify(token: string, options?: JwtVerifyOptions): Promise<VerifiedAccessToken> {
    const o = this.#o
    // Resolve per-call options first: a programming error is a TypeError, never a token error.
    let required = o.requiredScopes
    let match = o.scopeMatch
    if (options !== undefined) {
      // `null` is what a tool policy answers for a denied tool: never read it as "the defaults".
      if (options.requiredScopes !== undefined) required = scopeList(options.requiredScopes, 'requiredScopes')
      match = scopeMatchOption(options.scopeMatch, 'scopeMatch', match)
    }
    if (typeof token !== 'string' || token.length === 0)
      throw this.#invalid('malformed', 'the token is not a non-empty string')
    if (token.length > o.maxTokenBytes)
      throw this.#invalid('too_large', `the token is larger than ${o.maxTokenBytes} bytes`)

    const cached = this.#cache.get(token)
    let result: VerifiedAccessToken
    if (cached !== undefined && this.#stillValid(cached)) {
      result = cached.result
    } else {
      if (cached !== undefined) this.#cache.delete(token)
      const verified = await this.#verifyUncached(token)
      this.#cache.set(token, verified)
      result = verified.result
    }
    this.#checkScopes(result.scopes, required, match)
    return result
  }

  /**
   * An adapter for MCP SDK servers: the SDK's `OAuthTokenVerifier`, for `requireBearerAuth`.
   * `expiresAt` is in seconds and `resource` is the token's audience that this verifier accepts.
   * Errors become the SDK's `InvalidTokenError` (401), `InsufficientScopeError` (403) or
   * `ServerError` (500, keys unavailable).
   *
   * @example
   * ```ts
   * app.post('/mcp', requireBearerAuth({ verifier: verifier.toMcpTokenVerifier() }), handler)
   * ```
   * @see RFC 6750 §3.1
   */
  toMcpTokenVerifier(options?: McpTokenVerifierOptions): McpTokenVerifier {
    const verifyOptions: JwtVerifyOptions | undefined =
      options?.requiredScopes === undefined
        ? undefined
        : { requiredScopes: scopeList(options.requiredScopes, 'requiredScopes') }
    const injected = options?.errors
    if (
      injected !== undefined &&
      !(
        typeof injected.InvalidTokenError === 'function' &&
        typeof injected.InsufficientScopeError === 'function' &&
        typeof injected.ServerError === 'function'
      )
    ) {
      throw new TypeError(
        '"errors" must hold the SDK classes InvalidTokenError, InsufficientScopeError and ServerError',
      )
    }
    const audiences = this.#o.audiences
    const verify = (token: string) => this.verify(token, verifyOptions)
    return {
      async verifyAccessToken(token: string): Promise<McpAuthInfo> {
        let verified: VerifiedAccessToken
        try {
          verified = await verify(token)
        } catch (error) {
          // Created here, after the await: V8's async stack trace names the SDK frame awaiting
          // us, hence the SDK copy whose classes requireBearerAuth checks with instanceof.
          const classes = injected ?? (await sdkErrorClasses(new Error().stack))
          if (!classes) throw error
          const Mapped =
            error instanceof InvalidTokenError
              ? classes.InvalidTokenError
              : error instanceof InsufficientScopeError
                ? classes.InsufficientScopeError
                : classes.ServerError
          // requireBearerAuth puts the message into its WWW-Authenticate header unescaped.
          const message = (
            error instanceof AuthCoreError ? error.message : 'token verification failed'
          ).replace(/["\\]/g, "'")
          throw Object.assign(new Mapped(message), { cause: error })
        }
        const resourceAud = verified.audience.find((a) => audiences.has(a) && URL.canParse(a))
        const info: McpAuthInfo = {
          token: verified.token,
          clientId: verified.clientId ?? '',
          scopes: [...verified.scopes],
          expiresAt: verified.expiresAt,
          extra: {
            subject: verified.subject,
            issuer: verified.issuer,
            audience: verified.audience,
            claims: verified.claims,
          },
        }
        if (resourceAud !== undefined) info.resource = new URL(resourceAud)
        return info
      },
    }
  }

  #invalid(reason: InvalidTokenReason, message: string, cause?: unknown): InvalidTokenError {
    return new InvalidTokenError(message, { reason, resourceMetadata: this.#o.resourceMetadata, cause })
  }

  #stillValid(entry: CacheEntry): boolean {
    const nowS = Math.floor(this.#o.now() / 1000)
    return entry.result.expiresAt > nowS - this.#o.toleranceS && entry.keys.isCurrent(entry.key)
  }

  #checkScopes(held: readonly string[], required: readonly string[], match: 'all' | 'any'): void {
    if (required.length === 0) return
    const missing = required.filter((s) => !held.includes(s))
    if (missing.length === 0 || (match === 'any' && missing.length < required.length)) return
    throw new InsufficientScopeError(
      match === 'any'
        ? `the token has none of the required scopes: ${formatScope(required)}`
        : `the token lacks the scopes: ${formatScope(missing)}`,
      { missingScopes: missing, requiredScopes: required, resourceMetadata: this.#o.resourceMetadata },
    )
  }

  async #verifyUncached(token: string): Promise<CacheEntry> {
    const o = this.#o
    const firstDot = token.indexOf('.')
    const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1)
    if (firstDot <= 0 || secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) {
      throw this.#invalid('malformed', 'the token is not a JWS in compact serialization')
    }
    const header = parseJsonObject(token.slice(0, firstDot))
    if (header === undefined)
      throw this.#invalid('malformed', 'the token header is not a base64url JSON object')

    const alg = header.alg
    if (!isSupportedAlgorithm(alg) || !o.algorithms.has(alg)) {
      throw this.#invalid('algorithm', 'the token algorithm is not allowed')
    }
    // RFC 7515 §4.1.11: we understand no extension, so any "crit" makes the token unusable.
    if (header.crit !== undefined) throw this.#invalid('malformed', 'the token header has "crit" extensions')
    if (o.typ !== undefined && (typeof header.typ !== 'string' || normaliseTyp(header.typ) !== o.typ)) {
      throw this.#invalid('type', `the token "typ" must be ${o.typ}`)
    }
    const kid = header.kid
    if (kid !== undefined && typeof kid !== 'string')
      throw this.#invalid('malformed', 'the token "kid" is not a string')

    const signature = decodeBase64url(token.slice(secondDot + 1))
    if (signature === undefined || signature.length === 0)
      throw this.#invalid('malformed', 'the token signature is not base64url')
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
      if (!usable) throw this.#invalid('algorithm', 'the key for this token cannot verify its algorithm')
      throw this.#invalid('signature', 'the token signature is invalid')
    }

    // The payload is parsed only once its signature is known to be good.
    const claims = parseJsonObject(payloadSegment)
    if (claims === undefined)
      throw this.#invalid('malformed', 'the token payload is not a base64url JSON object')
    if (nestsDeeperThan(claims, MAX_CLAIMS_DEPTH))
      throw this.#invalid('claims', `the token claims nest deeper than ${MAX_CLAIMS_DEPTH} levels`)
    const nowS = Math.floor(o.now() / 1000)
    const { exp, nbf, iat, iss, aud, sub } = claims
    if (typeof exp !== 'number' || !Number.isFinite(exp))
      throw this.#invalid('claims', 'the token has no numeric "exp"')
    if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf)))
      throw this.#invalid('claims', 'the token "nbf" is not a number')
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat)))
      throw this.#invalid('claims', 'the token "iat" is not a number')
    if (exp <= nowS - o.toleranceS) throw this.#invalid('expired', 'the token has expired')
    if (nbf !== undefined && nbf > nowS + o.toleranceS)
      throw this.#invalid('not_yet_valid', 'the token is not valid yet ("nbf")')
    if (typeof iss !== 'string' || !o.issuers.has(iss))
      throw this.#invalid('issuer', 'the token "iss" is not an accepted issuer')
    const audience =
      typeof aud === 'string'
        ? [aud]
        : Array.isArray(aud) && aud.every((a) => typeof a === 'string')
          ? (aud as string[])
          : undefined
    if (audience === undefined || !audience.some((a) => o.audiences.has(a))) {
      throw this.#invalid('audience', 'the token "aud" does not include an accepted audience')
    }
    if (sub !== undefined && typeof sub !== 'string')
      throw this.#invalid('claims', 'the token "sub" is not a string')
    const scopes = scopesOf(claims)
    if (scopes === undefined)
      throw this.#invalid('claims', 'the token "scope"/"scp" is not a string or list of strings')

    const result: VerifiedAccessToken = deepFreeze({
      token,
      scopes,
      clientId: optionalString(claims.client_id) ?? optionalString(claims.azp) ?? optionalString(claims.cid),
      subject: sub,
      audience: [...audience],
      issuer: iss,
      expiresAt: exp,
      claims: claims as JWTPayload,
    })
    return { result, key, keys: o.keys }
  }
}
