import type { JWK, JWTPayload } from 'jose'
import { InsufficientScopeError, type InvalidTokenError, type InvalidTokenReason } from './errors.js'
import { type FetchLike, unwrapFetch } from './fetch-like.js'
import { checkClaims, deepFreeze } from './internal/jwt-claims.js'
import type { SupportedAlgorithm } from './internal/jwt-crypto.js'
import { verifyJwtSignature } from './internal/jwt-signature.js'
import { sdkErrorClasses } from './internal/mcp-sdk-errors.js'
import { checkSdkErrorClasses, toSdkError } from './internal/mcp-token-verifier.js'
import { type CachedVerification, VerificationCache } from './internal/verification-cache.js'
import {
  invalidToken,
  type ResolvedVerifierOptions,
  resolveVerifierOptions,
  scopeMatchOption,
  type VerifierOptionsInput,
} from './internal/verifier-options.js'
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

/** A scope option (`requiredScopes`): RFC 6749 scope tokens, de-duplicated; a `TypeError` otherwise. */
function scopeList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && isScopeToken(v))) {
    throw new TypeError(
      `"${name}" must be an array of scope tokens (RFC 6749 §3.3: visible ASCII, no spaces)`,
    )
  }
  return parseScope(value as string[])
}

/** Scopes from `scope` (RFC 9068 §2.2.3: a space-delimited string) or `scp` (string or list). */
function scopesOf(claims: Record<string, unknown>): string[] | undefined {
  const raw = claims.scope !== undefined ? claims.scope : claims.scp
  if (raw === undefined) return []
  if (typeof raw === 'string') return parseScope(raw)
  if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return parseScope(raw as string[])
  return undefined
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
 * declare const bearer: string // the token of the request's Authorization header
 * const token = await verifier.verify(bearer, { requiredScopes: ['customer:read'] })
 * token.scopes // ['customer:read', …]
 * ```
 * @see RFC 9068 (JWT access tokens), RFC 7519 §7.2, RFC 6750 §3 (challenges), RFC 8707 (audience)
 */
export class JwtScopeVerifier {
  readonly #o: ResolvedVerifierOptions
  readonly #cache: VerificationCache<VerifiedAccessToken>

  constructor(options: JwtScopeVerifierOptions) {
    this.#o = resolveVerifierOptions(options, { scopeList, unwrapFetch })
    this.#cache = new VerificationCache(this.#o.cacheSize, this.#o.now, this.#o.toleranceS)
  }

  /**
   * Verify `token` and check the required scopes.
   *
   * Rejects with `InvalidTokenError` (see its `reason`), `InsufficientScopeError`, or an
   * `AuthCoreError` with code `ERR_KEYS_UNAVAILABLE` / a `DiscoveryError` when no keys can be had.
   *
   * @example
   * ```ts
   * declare const verifier: JwtScopeVerifier
   * declare const token: string
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

    let result = this.#cache.get(token)
    if (result === undefined) {
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
   * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
   * declare const verifier: JwtScopeVerifier
   * declare const app: { post(path: string, ...handlers: unknown[]): void } // an express app
   * declare const handler: unknown // your MCP endpoint
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
    checkSdkErrorClasses(injected)
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
          throw toSdkError(error, classes)
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
    return invalidToken(this.#o, reason, message, cause)
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

  async #verifyUncached(token: string): Promise<CachedVerification<VerifiedAccessToken>> {
    const o = this.#o
    const { key, claims } = await verifyJwtSignature(token, o)
    const checked = checkClaims(claims, o)
    const scopes = scopesOf(claims)
    if (scopes === undefined)
      throw this.#invalid('claims', 'the token "scope"/"scp" is not a string or list of strings')

    const result: VerifiedAccessToken = deepFreeze({
      token,
      scopes,
      clientId: checked.clientId,
      subject: checked.subject,
      audience: [...checked.audience],
      issuer: checked.issuer,
      expiresAt: checked.expiresAt,
      claims: claims as JWTPayload,
    })
    return { result, key, keys: o.keys }
  }
}

// The resolver reads its own input type (internal/ imports nothing public), so an option added
// here but not there would be silently ignored: that is a compile error instead.
type NoneMissing<Missing extends never> = Missing
type _EveryOptionResolved = NoneMissing<Exclude<keyof JwtScopeVerifierOptions, keyof VerifierOptionsInput>>
