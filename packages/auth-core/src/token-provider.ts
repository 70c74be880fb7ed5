import type { JWK } from 'jose'
import {
  allowInsecureRequests,
  type ClientAuth,
  clientCredentialsGrantRequest,
  customFetch,
  processClientCredentialsResponse,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from 'oauth4webapi'
import { AuthCoreError, ErrorCode, TokenRequestError } from './errors.js'
import { clientSecretBasic, clientSecretPost, inferAlgorithm, privateKeyJwt } from './internal/client-auth.js'
import {
  type DiscoveredServer,
  discoverAuthorizationServer,
  discoverFromResourceServer,
} from './internal/discovery.js'
import {
  AttemptTimeoutError,
  type CallStats,
  type CustomFetchInit,
  createResilientFetch,
  NetworkFailureError,
  resolveHttpPolicy,
} from './internal/http.js'
import { assertSecureUrl, displayUrl } from './internal/url.js'

/** The `fetch` shape this package calls: the WHATWG `fetch` or anything with its signature. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

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
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** Algorithms accepted for `private_key_jwt` assertions. */
export type PrivateKeyAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

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
   * The fetch to call; looked up on `globalThis` at call time when absent.
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
  clientAuth: ClientAuth
  authMethod: TokenEndpointAuthMethod
  scopes: readonly string[]
  resource: readonly string[] | undefined
  audience: string | undefined
  extraParams: readonly [string, string][]
  refreshSkewMs: number
  defaultExpiresInMs: number
  allowInsecureHttp: boolean
  now: () => number
}

interface CacheEntry {
  token: AccessToken
  /** When to start refreshing, epoch ms. */
  refreshAt: number
  /** After a failed refresh, don't make callers wait for another attempt before this, epoch ms. */
  retryAt: number
}

/** Distinct scope sets (step-up) cached at most; the least recently fetched goes first. */
const MAX_CACHED_SCOPE_SETS = 64

/** How long callers are served the still-valid cached token without waiting after a failed refresh. */
const REFRESH_FAILURE_COOLDOWN_MS = 5_000

function toScopeList(scope: string | readonly string[] | undefined, name: string): string[] {
  if (scope === undefined) return []
  const list = typeof scope === 'string' ? scope.split(' ') : [...scope]
  for (const s of list) {
    if (typeof s !== 'string') throw new TypeError(`"${name}" must be a string or a list of strings`)
  }
  // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
  const tokens = list.filter((s) => s !== '')
  for (const s of tokens) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))
      throw new TypeError(`"${name}" contains an invalid scope token`)
  }
  return [...new Set(tokens)]
}

function toList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? [value] : [...value]
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
  const authMethod: TokenEndpointAuthMethod =
    options.tokenEndpointAuthMethod ??
    (privateKey !== undefined && clientSecret === undefined ? 'private_key_jwt' : 'client_secret_basic')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" must be a function')

  let clientAuth: ClientAuth
  switch (authMethod) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (clientSecret === undefined) throw new TypeError(`"clientSecret" is required for ${authMethod}`)
      clientAuth =
        authMethod === 'client_secret_basic'
          ? clientSecretBasic(clientId, clientSecret)
          : clientSecretPost(clientId, clientSecret)
      break
    case 'private_key_jwt': {
      if (privateKey === undefined || privateKey === null)
        throw new TypeError('"privateKey" is required for private_key_jwt')
      const algorithm = options.privateKeyAlgorithm ?? inferAlgorithm(privateKey)
      if (!['ES256', 'RS256', 'PS256', 'EdDSA'].includes(algorithm)) {
        throw new TypeError('"privateKeyAlgorithm" must be one of ES256, RS256, PS256, EdDSA')
      }
      const jwkKid =
        typeof privateKey === 'object' && 'kid' in privateKey ? (privateKey as JWK).kid : undefined
      clientAuth = privateKeyJwt({
        clientId,
        key: privateKey,
        algorithm,
        keyId: options.privateKeyId ?? jwkKid,
        // With metadata the issuer identifies the server (RFC 7523bis); without it, the endpoint.
        audience: (tokenEndpoint) => assertionAudience.value ?? tokenEndpoint,
        now,
      })
      break
    }
    default:
      throw new TypeError(
        '"tokenEndpointAuthMethod" must be client_secret_basic, client_secret_post or private_key_jwt',
      )
  }

  const refreshSkewSeconds = options.refreshSkewSeconds ?? 60
  if (!(refreshSkewSeconds >= 0))
    throw new TypeError('"refreshSkewSeconds" option must be a non-negative number')
  const defaultExpiresInSeconds = options.defaultExpiresInSeconds ?? 300
  if (!(defaultExpiresInSeconds > 0))
    throw new TypeError('"defaultExpiresInSeconds" option must be a positive number')
  const extra = Object.entries(options.extraParams ?? {})
  for (const [key, value] of extra) {
    if (typeof value !== 'string') throw new TypeError(`"extraParams.${key}" must be a string`)
  }
  const audience = options.audience
  if (audience !== undefined && typeof audience !== 'string')
    throw new TypeError('"audience" must be a string')

  return {
    clientId,
    clientAuth,
    authMethod,
    scopes: toScopeList(options.scope, 'scope'),
    resource: toList(options.resource),
    audience,
    extraParams: extra,
    refreshSkewMs: refreshSkewSeconds * 1000,
    defaultExpiresInMs: defaultExpiresInSeconds * 1000,
    allowInsecureHttp: options.allowInsecureHttp === true,
    now,
  }
}

function mapTokenError(error: unknown, endpoint: string, attempts: number): Error {
  const where = `token request to ${endpoint}`
  if (error instanceof AttemptTimeoutError) {
    return new TokenRequestError(ErrorCode.Timeout, `${where} timed out after ${error.attempts} attempt(s)`, {
      endpoint,
      attempts: error.attempts,
    })
  }
  if (error instanceof NetworkFailureError) {
    return new TokenRequestError(
      ErrorCode.TokenNetwork,
      `${where} failed: network error after ${error.attempts} attempt(s)`,
      {
        endpoint,
        attempts: error.attempts,
        cause: error.cause,
      },
    )
  }
  if (error instanceof ResponseBodyError) {
    return new TokenRequestError(ErrorCode.OAuthErrorResponse, `${where} failed: ${error.error}`, {
      endpoint,
      status: error.status,
      error: error.error,
      errorDescription: error.error_description,
      attempts,
    })
  }
  if (error instanceof AuthCoreError) return error
  return new TokenRequestError(ErrorCode.TokenNetwork, `${where} failed`, { endpoint, attempts })
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
  #request: ReturnType<typeof createResilientFetch>
  #endpoint: { kind: 'token'; url: URL } | { kind: 'issuer'; url: URL } | { kind: 'resource'; url: URL }
  #discovered: Promise<DiscoveredServer> | undefined
  #assertionAudience: { value: string | undefined }
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
      () => this.#fetch ?? globalThis.fetch,
    )
    this.#baseKey = this.#options.scopes.slice().sort().join(' ')
  }

  /** The client id (not secret; handy in logs). */
  get clientId(): string {
    return this.#options.clientId
  }

  /**
   * A token covering the configured scopes and `options.scopes`. Served from cache until
   * `refreshSkewSeconds` before expiry; concurrent callers share one request.
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
        this.#stepUp = { requested, scopes: merged, key: merged.slice().sort().join(' ') }
      }
      scopes = this.#stepUp.scopes
      key = this.#stepUp.key
    }
    const cached = this.#cache.get(key)
    const now = this.#options.now()
    if (cached !== undefined && now < cached.refreshAt) return cached.token
    if (cached !== undefined && now < cached.token.expiresAt) {
      // In the refresh window with a still-valid token.
      if (now < cached.retryAt) return cached.token
      try {
        return await this.#wait(this.#shared(key, scopes), signal)
      } catch (error) {
        if (signal?.aborted) throw error
        if (this.#cache.get(key) === cached && this.#options.now() < cached.token.expiresAt) {
          cached.retryAt = this.#options.now() + REFRESH_FAILURE_COOLDOWN_MS
          return cached.token
        }
        throw error
      }
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
    const endpoint = displayUrl(tokenEndpoint)
    const params: [string, string][] = []
    if (scopes.length > 0) params.push(['scope', scopes.join(' ')])
    for (const resource of options.resource ?? (discoveredResource ? [discoveredResource] : [])) {
      params.push(['resource', resource])
    }
    if (options.audience !== undefined) params.push(['audience', options.audience])
    const reserved = new Set([
      'grant_type',
      'scope',
      'resource',
      'audience',
      'client_id',
      'client_secret',
      'client_assertion',
      'client_assertion_type',
    ])
    for (const [key, value] of options.extraParams) if (!reserved.has(key)) params.push([key, value])

    const stats: CallStats = { attempts: 0 }
    const started = options.now()
    const client = { client_id: options.clientId, token_endpoint_auth_method: options.authMethod }
    if (options.authMethod === 'private_key_jwt') {
      stats.renewForm = async (body) => {
        await options.clientAuth(as, client, body, new Headers())
        return body
      }
    }
    let result: Awaited<ReturnType<typeof processClientCredentialsResponse>>
    let response: Response
    try {
      response = await clientCredentialsGrantRequest(as, client, options.clientAuth, params, {
        [allowInsecureRequests]: tokenEndpoint.protocol === 'http:',
        [customFetch]: (url, init) => this.#request(url, init as CustomFetchInit, stats),
      })
    } catch (error) {
      throw mapTokenError(error, endpoint, stats.attempts)
    }
    const status = response.status
    try {
      result = await processClientCredentialsResponse(as, client, response)
    } catch (error) {
      if (error instanceof WWWAuthenticateChallengeError) {
        throw await challengeError(error, endpoint, stats.attempts)
      }
      if (error instanceof ResponseBodyError) throw mapTokenError(error, endpoint, stats.attempts)
      // Anything else is a response we cannot use. Its cause may hold the body, and with it a
      // token: keep only the status.
      const code = status >= 200 && status < 300 ? ErrorCode.TokenResponseInvalid : ErrorCode.TokenHttpStatus
      throw new TokenRequestError(
        code,
        code === ErrorCode.TokenHttpStatus
          ? `token request to ${endpoint} failed: HTTP ${status}`
          : `token request to ${endpoint} returned an invalid token response`,
        { endpoint, status, attempts: stats.attempts },
      )
    }
    if (typeof result.access_token !== 'string' || result.access_token === '') {
      throw new TokenRequestError(
        ErrorCode.TokenResponseInvalid,
        `token request to ${endpoint} returned no access_token`,
        {
          endpoint,
        },
      )
    }
    if (result.token_type.toLowerCase() !== 'bearer') {
      throw new TokenRequestError(
        ErrorCode.TokenResponseInvalid,
        `token request to ${endpoint} returned an unsupported token_type`,
        { endpoint },
      )
    }
    const expiresInMs =
      typeof result.expires_in === 'number' && result.expires_in > 0
        ? result.expires_in * 1000
        : options.defaultExpiresInMs
    const granted = typeof result.scope === 'string' ? result.scope.split(' ').filter(Boolean) : [...scopes]
    return Object.freeze({
      value: result.access_token,
      tokenType: 'Bearer',
      // From the request's start: the server issued it no earlier, so this errs on the safe side.
      expiresAt: started + expiresInMs,
      scopes: Object.freeze(granted),
    })
  }
}

async function challengeError(error: WWWAuthenticateChallengeError, endpoint: string, attempts: number) {
  let body: Record<string, unknown> = {}
  try {
    const parsed: unknown = await error.response.clone().json()
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>
  } catch {}
  const params = error.cause[0]?.parameters ?? {}
  const oauthError = typeof body.error === 'string' ? body.error : (params.error ?? 'invalid_client')
  const description =
    typeof body.error_description === 'string' ? body.error_description : params.error_description
  return new TokenRequestError(
    ErrorCode.OAuthErrorResponse,
    `token request to ${endpoint} failed: ${oauthError}`,
    {
      endpoint,
      status: error.status,
      error: oauthError,
      errorDescription: description,
      attempts,
    },
  )
}
