import type { JWK } from 'jose'
import { type FetchLike, unwrapFetch } from './fetch-like.js'
import { clientSecretPost, inferAlgorithm, privateKeyJwt } from './internal/client-auth.js'
import {
  type DiscoveredServer,
  discoverAuthorizationServer,
  discoverFromResourceServer,
} from './internal/discovery.js'
import { createResilientFetch, type ResilientFetch, resolveHttpPolicy } from './internal/http.js'
import {
  BASIC_CREDENTIAL_ENCODINGS,
  type BasicCredentialEncodingName,
  describeList,
  isOneOf,
  PRIVATE_KEY_ALGORITHMS,
  type PrivateKeyAlgorithmName,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethodName,
} from './internal/protocol.js'
import {
  type ClientAuthentication,
  requestToken,
  type TokenRequestContext,
} from './internal/token-request.js'
import { assertSecureUrl } from './internal/url.js'
import { formatScope, isScopeToken, parseScope, scopeKey } from './scope.js'

/** An OAuth 2.0 access token as held by a {@link TokenProvider}. */
export interface AccessToken {
  /** The token itself. Never log it. */
  readonly value: string
  /** `token_type` from the response, e.g. `Bearer`. */
  readonly tokenType: string
  /** When the token expires, epoch milliseconds. */
  readonly expiresAt: number
  /** Scopes the token was granted (the response's `scope`, or the requested scopes when it had none). */
  readonly scopes: readonly string[]
}

/** Options of {@link TokenProvider.getToken}. */
export interface GetTokenOptions {
  /** Aborts this caller's wait. A request other callers share keeps running. */
  signal?: AbortSignal | undefined
  /**
   * Scopes needed on top of the configured ones (step-up); the token covers their union. The list
   * is treated as immutable: pass a new array to change it.
   */
  scopes?: readonly string[] | undefined
}

/** Something that hands out access tokens. */
export interface TokenProvider {
  getToken(options?: GetTokenOptions): Promise<AccessToken>
  /**
   * Drop a cached token. With `rejected`, only the cached token whose value is `rejected` is dropped
   * (compare-and-swap: a token refreshed meanwhile survives); without it, every cached token.
   */
  invalidate(rejected?: string): void
}

/** Client authentication methods at the token endpoint. @see RFC 7591 §2 */
export type TokenEndpointAuthMethod = TokenEndpointAuthMethodName

/** Algorithms accepted for `private_key_jwt` assertions. @see RFC 7523 §3 */
export type PrivateKeyAlgorithm = PrivateKeyAlgorithmName

/**
 * How `client_secret_basic` encodes id and secret before base64: `form-urlencoded` (RFC 6749
 * §2.3.1) or `raw` (for servers that do not form-decode, such as glewlwyd and
 * @node-oauth/oauth2-server).
 */
export type BasicCredentialEncoding = BasicCredentialEncodingName

/** Retry policy for requests to the authorization server. */
export interface RetryOptions {
  /**
   * Retries after the first attempt, on network errors, timeouts, 5xx and 429.
   * @default 2
   */
  limit?: number
  /**
   * Delay before the first retry, milliseconds; doubles each retry, with full jitter.
   * @default 200
   */
  baseDelayMs?: number
  /**
   * Largest delay between attempts, milliseconds.
   * @default 5000
   */
  maxDelayMs?: number
  /**
   * Largest `Retry-After` honoured, milliseconds; a longer one fails at once instead of waiting.
   * @default 30000
   */
  maxRetryAfterMs?: number
}

/** Options of {@link ClientCredentialsTokenProvider}. */
export interface ClientCredentialsTokenProviderOptions {
  /** The OAuth `client_id`. */
  clientId: string
  /** The client secret, for `client_secret_basic` / `client_secret_post`. */
  clientSecret?: string | undefined
  /** Private key for `private_key_jwt`: PKCS#8 PEM, a private JWK, or a `CryptoKey`. */
  privateKey?: string | JWK | CryptoKey | undefined
  /**
   * Algorithm of `privateKey`.
   * @default the JWK's `alg`, else inferred from the key type (RSA → RS256, EC P-256 → ES256, OKP → EdDSA)
   */
  privateKeyAlgorithm?: PrivateKeyAlgorithm | undefined
  /**
   * `kid` put into the assertion header.
   * @default the JWK's `kid`, if any
   */
  privateKeyId?: string | undefined
  /**
   * How the client authenticates at the token endpoint.
   * @default 'client_secret_basic' with a `clientSecret`, 'private_key_jwt' with a `privateKey`
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined
  /**
   * The encoding of `client_secret_basic` credentials tried first. When the server answers
   * `invalid_client` and the two encodings of this id and secret differ (the secret holds
   * characters such as `+`, `/`, `:` or `%`), the request is retried once with the other one,
   * and the one that worked is kept for that token endpoint.
   * @default 'form-urlencoded'
   */
  basicCredentialsEncoding?: BasicCredentialEncoding | undefined
  /** The token endpoint. One of `tokenUrl`, `issuer` or `resourceServerUrl` is required. */
  tokenUrl?: string | URL | undefined
  /** Authorization-server issuer; the token endpoint comes from its RFC 8414 metadata (OIDC discovery as fallback). */
  issuer?: string | URL | undefined
  /** The MCP server's URL; its RFC 9728 metadata names the authorization server. */
  resourceServerUrl?: string | URL | undefined
  /** Scopes always requested (space-delimited string or list). */
  scope?: string | readonly string[] | undefined
  /**
   * RFC 8707 `resource` indicator(s).
   * @default the `resource` from RFC 9728 metadata when discovered through `resourceServerUrl`
   */
  resource?: string | readonly string[] | undefined
  /** `audience` parameter (non-standard, used by Auth0 and others). */
  audience?: string | undefined
  /** More form parameters for the token request; they cannot override the ones above. */
  extraParams?: Readonly<Record<string, string>> | undefined
  /**
   * Refresh this many seconds before expiry; clamped to half the token's lifetime so short-lived
   * tokens are not refetched on every call.
   * @default 60
   */
  refreshSkewSeconds?: number | undefined
  /**
   * Lifetime assumed when the response has no `expires_in`, seconds.
   * @default 300
   */
  defaultExpiresInSeconds?: number | undefined
  /**
   * Longest lifetime a token is cached for, seconds, whatever its `expires_in` says (a token is
   * then refreshed early, never cached forever). The shortest is 1 s: `expires_in: 0` is cached
   * for 1 s. A negative or non-numeric `expires_in` is an invalid token response.
   * @default 86400
   */
  maxTokenLifetimeSeconds?: number | undefined
  /**
   * Timeout of each attempt of a request to the authorization server, milliseconds.
   * @default 10000
   */
  timeoutMs?: number | undefined
  /** Retry policy for token and discovery requests. */
  retry?: RetryOptions | undefined
  /**
   * Allow plain `http:` to hosts that are not loopback. Loopback (127.0.0.0/8, ::1, localhost) is always allowed.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined
  /**
   * The fetch to call, as `(url, init)`; looked up on `globalThis` at call time when absent. A
   * fetch carrying `UNDERLYING_FETCH` (an auth fetch set as `globalThis.fetch`) is unwrapped, so
   * token requests never go through it.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined
  /**
   * Clock, epoch milliseconds.
   * @default Date.now
   */
  now?: (() => number) | undefined
}

interface ResolvedOptions {
  clientId: string
  client: ClientAuthentication
  scopes: readonly string[]
  resource: readonly string[] | undefined
  audience: string | undefined
  extraParams: readonly [string, string][]
  refreshSkewMs: number
  defaultExpiresInMs: number
  maxLifetimeMs: number
  allowInsecureHttp: boolean
  now: () => number
}

interface CacheEntry {
  token: AccessToken
  /** When to start refreshing, epoch ms. */
  refreshAt: number
  /** After a failed refresh, don't start another one before this, epoch ms. */
  retryAt: number
}

/** Distinct scope sets (step-up) cached at most; the least recently fetched goes first. */
const MAX_CACHED_SCOPE_SETS = 64

/** How long a still-valid cached token is served without a new refresh attempt after a failed one. */
const REFRESH_FAILURE_COOLDOWN_MS = 5_000

/** Form parameters the provider sets itself; `extraParams` cannot override them. */
const RESERVED_PARAMS = new Set([
  'grant_type',
  'scope',
  'resource',
  'audience',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
])

/** Scope tokens from a string or list, validated (RFC 6749 §3.3), distinct, in order. */
function toScopeList(scope: string | readonly string[] | undefined, name: string): string[] {
  if (scope === undefined) return []
  if (typeof scope !== 'string' && !(Array.isArray(scope) && scope.every((s) => typeof s === 'string')))
    throw new TypeError(`"${name}" must be a string or a list of strings`)
  const tokens = parseScope(scope)
  if (!tokens.every(isScopeToken)) throw new TypeError(`"${name}" contains an invalid scope token`)
  return tokens
}

function toList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? [value] : [...value]
}

function positiveSeconds(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new TypeError(`"${name}" option must be a ${allowZero ? 'non-negative' : 'positive'} finite number`)
  return value
}

function resolveOptions(
  options: ClientCredentialsTokenProviderOptions,
  assertionAudience: { readonly value: string | undefined },
): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const { clientId, clientSecret, privateKey } = options
  if (typeof clientId !== 'string' || clientId === '')
    throw new TypeError('"clientId" must be a non-empty string')
  if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret === '')) {
    throw new TypeError('"clientSecret" must be a non-empty string')
  }
  const authMethod =
    options.tokenEndpointAuthMethod ??
    (privateKey !== undefined && clientSecret === undefined ? 'private_key_jwt' : 'client_secret_basic')
  if (!isOneOf(TOKEN_ENDPOINT_AUTH_METHODS, authMethod)) {
    throw new TypeError(`"tokenEndpointAuthMethod" must be ${describeList(TOKEN_ENDPOINT_AUTH_METHODS)}`)
  }
  const encoding = options.basicCredentialsEncoding ?? 'form-urlencoded'
  if (!isOneOf(BASIC_CREDENTIAL_ENCODINGS, encoding)) {
    throw new TypeError(`"basicCredentialsEncoding" must be ${describeList(BASIC_CREDENTIAL_ENCODINGS)}`)
  }
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" must be a function')

  let client: ClientAuthentication
  switch (authMethod) {
    case 'client_secret_basic':
      if (clientSecret === undefined) throw new TypeError(`"clientSecret" is required for ${authMethod}`)
      client = {
        method: authMethod,
        clientId,
        clientSecret,
        encoding: encoding as BasicCredentialEncodingName,
      }
      break
    case 'client_secret_post':
      if (clientSecret === undefined) throw new TypeError(`"clientSecret" is required for ${authMethod}`)
      client = { method: authMethod, clientId, clientSecret, auth: clientSecretPost(clientId, clientSecret) }
      break
    case 'private_key_jwt': {
      if (privateKey === undefined || privateKey === null)
        throw new TypeError('"privateKey" is required for private_key_jwt')
      const algorithm = options.privateKeyAlgorithm ?? inferAlgorithm(privateKey)
      if (!isOneOf(PRIVATE_KEY_ALGORITHMS, algorithm)) {
        throw new TypeError(`"privateKeyAlgorithm" must be one of ${describeList(PRIVATE_KEY_ALGORITHMS)}`)
      }
      const jwkKid =
        typeof privateKey === 'object' && 'kid' in privateKey ? (privateKey as JWK).kid : undefined
      client = {
        method: authMethod,
        clientId,
        clientSecret: undefined,
        auth: privateKeyJwt({
          clientId,
          key: privateKey,
          algorithm,
          keyId: options.privateKeyId ?? jwkKid,
          // With metadata the issuer identifies the server (RFC 7523bis); without it, the endpoint.
          audience: (tokenEndpoint) => assertionAudience.value ?? tokenEndpoint,
          now,
        }),
      }
      break
    }
  }

  const refreshSkewSeconds = positiveSeconds(options.refreshSkewSeconds, 'refreshSkewSeconds', 60, true)
  const defaultExpiresIn = positiveSeconds(options.defaultExpiresInSeconds, 'defaultExpiresInSeconds', 300)
  const maxLifetime = positiveSeconds(options.maxTokenLifetimeSeconds, 'maxTokenLifetimeSeconds', 86_400)
  const extra = Object.entries(options.extraParams ?? {})
  for (const [key, value] of extra) {
    if (typeof value !== 'string') throw new TypeError(`"extraParams.${key}" must be a string`)
  }
  const audience = options.audience
  if (audience !== undefined && typeof audience !== 'string')
    throw new TypeError('"audience" must be a string')

  return {
    clientId,
    client,
    scopes: toScopeList(options.scope, 'scope'),
    resource: toList(options.resource),
    audience,
    extraParams: extra.filter(([key]) => !RESERVED_PARAMS.has(key)),
    refreshSkewMs: refreshSkewSeconds * 1000,
    defaultExpiresInMs: defaultExpiresIn * 1000,
    maxLifetimeMs: maxLifetime * 1000,
    allowInsecureHttp: options.allowInsecureHttp === true,
    now,
  }
}

/**
 * OAuth 2.0 client-credentials grant with caching, refresh ahead of expiry, single-flight
 * requests, step-up scopes and bounded retries.
 *
 * @example
 * ```ts
 * const provider = new ClientCredentialsTokenProvider({
 *   resourceServerUrl: 'https://mcp.example.com/mcp', // RFC 9728 discovery
 *   clientId: 'gateway',
 *   clientSecret: process.env.CLIENT_SECRET,
 *   scope: ['mcp:read'],
 * })
 * const { value } = await provider.getToken()
 * ```
 * @see RFC 6749 §4.4, RFC 8414, RFC 9728, RFC 8707, RFC 7523
 */
export class ClientCredentialsTokenProvider implements TokenProvider {
  #options: ResolvedOptions
  #fetch: FetchLike | undefined
  #request: ResilientFetch
  #endpoint: { kind: 'token'; url: URL } | { kind: 'issuer'; url: URL } | { kind: 'resource'; url: URL }
  #discovered: Promise<DiscoveredServer> | undefined
  #assertionAudience: { value: string | undefined }
  #context: TokenRequestContext
  #cache = new Map<string, CacheEntry>()
  #inflight = new Map<string, Promise<AccessToken>>()
  #baseKey: string
  /** The last step-up scope list seen (by identity), merged with the configured scopes. */
  #stepUp: { requested: readonly string[] | undefined; scopes: readonly string[]; key: string } = {
    requested: undefined,
    scopes: [],
    key: '',
  }

  constructor(options: ClientCredentialsTokenProviderOptions) {
    // The assertion audience is the issuer once discovery has found one; the client
    // authentication built now reads it later through this holder.
    this.#assertionAudience = { value: undefined }
    this.#options = resolveOptions(options, this.#assertionAudience)
    const { tokenUrl, issuer, resourceServerUrl } = options
    const given = [tokenUrl, issuer, resourceServerUrl].filter((v) => v !== undefined && v !== null)
    if (given.length !== 1)
      throw new TypeError('exactly one of "tokenUrl", "issuer" or "resourceServerUrl" is required')
    const insecure = this.#options.allowInsecureHttp
    if (tokenUrl !== undefined)
      this.#endpoint = { kind: 'token', url: assertSecureUrl(tokenUrl, 'tokenUrl', insecure) }
    else if (issuer !== undefined)
      this.#endpoint = { kind: 'issuer', url: assertSecureUrl(issuer, 'issuer', insecure) }
    else
      this.#endpoint = {
        kind: 'resource',
        url: assertSecureUrl(resourceServerUrl!, 'resourceServerUrl', insecure),
      }
    if (options.fetch !== undefined && typeof options.fetch !== 'function')
      throw new TypeError('"fetch" must be a function')
    this.#fetch = options.fetch
    this.#request = createResilientFetch(
      resolveHttpPolicy(options.timeoutMs, options.retry),
      // Per call, so msw and auth fetches installed later are seen; never through an auth fetch.
      () => unwrapFetch(this.#fetch ?? globalThis.fetch),
      this.#options.now,
    )
    this.#context = {
      client: this.#options.client,
      fetch: this.#request,
      now: this.#options.now,
      defaultExpiresInMs: this.#options.defaultExpiresInMs,
      maxLifetimeMs: this.#options.maxLifetimeMs,
      // A server that echoes a token we hold must not get it into an error message.
      secrets: () => [...this.#cache.values()].map((entry) => entry.token.value),
      basicEncodings: new Map(),
    }
    this.#baseKey = scopeKey(this.#options.scopes)
  }

  /** The client id (not secret; handy in logs). */
  get clientId(): string {
    return this.#options.clientId
  }

  /**
   * A token covering the configured scopes and `options.scopes`. Served from cache until
   * `refreshSkewSeconds` before expiry; concurrent callers share one request. Inside the refresh
   * window the still-valid token is returned at once and the refresh runs in the background, so
   * a slow or hung authorization server delays nobody who holds a valid token.
   */
  async getToken(options?: GetTokenOptions): Promise<AccessToken> {
    const signal = options?.signal
    if (signal?.aborted) throw signal.reason
    let key = this.#baseKey
    let scopes = this.#options.scopes
    const requested = options?.scopes
    if (requested && requested.length > 0) {
      // Callers such as the auth fetch pass the same step-up array on every request: validate,
      // merge and sort it once, not per request.
      if (requested !== this.#stepUp.requested) {
        const merged = [...new Set([...scopes, ...toScopeList(requested, 'scopes')])]
        this.#stepUp = { requested, scopes: merged, key: scopeKey(merged) }
      }
      scopes = this.#stepUp.scopes
      key = this.#stepUp.key
    }
    const cached = this.#cache.get(key)
    const now = this.#options.now()
    if (cached !== undefined && now < cached.refreshAt) return cached.token
    if (cached !== undefined && now < cached.token.expiresAt) {
      // In the refresh window with a still-valid token: serve it, refresh behind it.
      if (now >= cached.retryAt) this.#refreshInBackground(key, scopes, cached)
      return cached.token
    }
    return this.#wait(this.#shared(key, scopes), signal)
  }

  invalidate(rejected?: string): void {
    if (rejected === undefined) {
      this.#cache.clear()
      return
    }
    for (const [key, entry] of this.#cache) {
      if (entry.token.value === rejected) this.#cache.delete(key)
    }
  }

  #refreshInBackground(key: string, scopes: readonly string[], cached: CacheEntry): void {
    if (this.#inflight.has(key)) return
    this.#shared(key, scopes).catch(() => {
      // The old token keeps serving; no new attempt for a while (not one per call).
      if (this.#cache.get(key) === cached) cached.retryAt = this.#options.now() + REFRESH_FAILURE_COOLDOWN_MS
    })
  }

  #wait<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return promise
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort)
          resolve(value)
        },
        (error) => {
          signal.removeEventListener('abort', onAbort)
          reject(error)
        },
      )
    })
  }

  #shared(key: string, scopes: readonly string[]): Promise<AccessToken> {
    let flight = this.#inflight.get(key)
    if (flight === undefined) {
      flight = this.#requestToken(scopes)
        .then((token) => {
          const lifetime = token.expiresAt - this.#options.now()
          const skew = Math.min(this.#options.refreshSkewMs, Math.max(0, lifetime) / 2)
          this.#store(key, { token, refreshAt: token.expiresAt - skew, retryAt: 0 })
          return token
        })
        .finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, flight)
    }
    return flight
  }

  /** Cache a token; expired entries go, and the cache holds at most MAX_CACHED_SCOPE_SETS keys. */
  #store(key: string, entry: CacheEntry): void {
    const now = this.#options.now()
    for (const [k, e] of this.#cache) if (e.token.expiresAt <= now) this.#cache.delete(k)
    this.#cache.delete(key) // re-insert: Map order is the eviction order
    this.#cache.set(key, entry)
    if (this.#cache.size > MAX_CACHED_SCOPE_SETS) {
      const oldest = this.#cache.keys().next().value
      if (oldest !== undefined && oldest !== key) this.#cache.delete(oldest)
    }
  }

  #discover(): Promise<DiscoveredServer> {
    const endpoint = this.#endpoint
    if (endpoint.kind === 'token') {
      return Promise.resolve({
        as: { issuer: endpoint.url.origin, token_endpoint: endpoint.url.href },
        tokenEndpoint: endpoint.url,
      })
    }
    if (this.#discovered === undefined) {
      const ctx = { fetch: this.#request, allowInsecureHttp: this.#options.allowInsecureHttp }
      const discovered =
        endpoint.kind === 'issuer'
          ? discoverAuthorizationServer(endpoint.url, ctx)
          : discoverFromResourceServer(endpoint.url, ctx)
      this.#discovered = discovered.then((server) => {
        this.#assertionAudience.value = server.as.issuer
        return server
      })
      // A failed discovery is retried by the next caller, not cached.
      this.#discovered.catch(() => {
        this.#discovered = undefined
      })
    }
    return this.#discovered
  }

  async #requestToken(scopes: readonly string[]): Promise<AccessToken> {
    const { as, tokenEndpoint, resource: discoveredResource } = await this.#discover()
    const options = this.#options
    const params: [string, string][] = []
    if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
    for (const resource of options.resource ?? (discoveredResource ? [discoveredResource] : [])) {
      params.push(['resource', resource])
    }
    if (options.audience !== undefined) params.push(['audience', options.audience])
    params.push(...options.extraParams)
    const issued = await requestToken(this.#context, as, tokenEndpoint, params)
    return Object.freeze({
      value: issued.value,
      tokenType: 'Bearer',
      expiresAt: issued.expiresAt,
      // RFC 6749 §5.1: without `scope`, the token has the requested scopes.
      scopes: Object.freeze(issued.scope === undefined ? [...scopes] : parseScope(issued.scope)),
    })
  }
}
