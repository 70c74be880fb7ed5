import {
  AuthorizationResponseError,
  type AuthorizationServer,
  calculatePKCECodeChallenge,
  generateRandomCodeVerifier,
  generateRandomState,
  OperationProcessingError,
  validateAuthResponse,
} from 'oauth4webapi'
import type { DpopKey } from './dpop.js'
import { AuthCoreError, DiscoveryError, ErrorCode, TokenRequestError } from './errors.js'
import { GrantClient } from './internal/grant-client.js'
import { GRANT_TYPES } from './internal/protocol.js'
import { TokenCache, type TokenSource } from './internal/token-cache.js'
import type { IssuedToken } from './internal/token-request.js'
import { assertSecureUrl, displayUrl } from './internal/url.js'
import {
  accessTokenOf,
  cachedTokenIn,
  freezeToken,
  resolveCommon,
  StepUpScopes,
  toExtraParams,
  toList,
  toScopeList,
} from './provider-support.js'
import { formatScope } from './scope.js'
import type {
  ClientAuthenticationOptions,
  TokenEndpointOptions,
  TokenProviderCommonOptions,
} from './token-provider-options.js'
import type { AccessToken, GetTokenOptions, TokenProvider } from './token-provider-types.js'

/** What {@link AuthorizationCodeTokenProviderOptions.authorize} is given. */
export interface AuthorizationRequest {
  /** The authorization URL to send the user (or user agent) to. */
  readonly url: URL
  /** The `state` of this request (the callback must carry it back). */
  readonly state: string
  /** Aborts when the caller of `getToken` gave up. */
  readonly signal?: AbortSignal | undefined
}

/** Options of {@link AuthorizationCodeTokenProvider}. */
export interface AuthorizationCodeTokenProviderOptions
  extends ClientAuthenticationOptions,
    TokenEndpointOptions,
    Omit<TokenProviderCommonOptions, 'store' | 'storeOptions' | 'onEvent'> {
  /** The `client_id` (registered, or from dynamic client registration). */
  clientId: string
  /** The `redirect_uri` registered for the client. */
  redirectUri: string | URL
  /**
   * Sends the user through the authorization step and resolves with the URL the authorization
   * server redirected back to (the redirect URI with `code`, `state` and, RFC 9207, `iss`): open a
   * browser and wait for the loopback callback, or, for a test server that answers at once, read
   * the `Location` of the authorization endpoint's redirect.
   */
  authorize: (request: AuthorizationRequest) => Promise<string | URL>
  /**
   * The authorization endpoint.
   * @default `authorization_endpoint` of the discovered metadata (`issuer` or `resourceServerUrl`)
   */
  authorizationUrl?: string | URL | undefined
  /** Scopes requested. */
  scope?: string | readonly string[] | undefined
  /**
   * RFC 8707 `resource`, sent in the authorization and token requests.
   * @default the `resource` from RFC 9728 metadata when discovered through `resourceServerUrl`
   */
  resource?: string | readonly string[] | undefined
  /** More authorization request parameters (`prompt`, `login_hint`, …); they cannot override the ones above. */
  extraAuthorizationParams?: Readonly<Record<string, string>> | undefined
}

const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'dpop_jkt',
])

/** Distinct scope sets (step-up) cached at most. */
const MAX_CACHED_SCOPE_SETS = 16

/**
 * The authorization-code grant with PKCE (S256) for a user at an interactive client, or a public
 * client (`tokenEndpointAuthMethod` defaults to `none` without a credential): the authorization
 * request (state, `code_challenge`, `resource`, with DPoP `dpop_jkt`), the callback checked with
 * oauth4webapi (`state`, the RFC 9207 `iss`, an OAuth `error`), the code redeemed with its
 * verifier, and refresh tokens used before the user is asked again. Caching, refresh, single
 * flight, discovery and DPoP work as in `ClientCredentialsTokenProvider`; tokens are the user's
 * and are not shared through a store.
 *
 * @example
 * ```ts
 * declare function openBrowserAndWaitForCallback(url: URL): Promise<string> // your UI: returns the redirect URL
 * const provider = new AuthorizationCodeTokenProvider({
 *   resourceServerUrl: 'https://mcp.example.com/mcp',
 *   clientId: 'my-desktop-app',
 *   redirectUri: 'http://127.0.0.1:8765/callback',
 *   dpop: true,
 *   authorize: async ({ url }) => openBrowserAndWaitForCallback(url),
 * })
 * const token = await provider.getToken() // tokenType 'DPoP', token.dpopKey for the resource proofs
 * ```
 * @see RFC 6749 §4.1, RFC 7636, RFC 9207, RFC 8707, RFC 9449 §10
 */
export class AuthorizationCodeTokenProvider implements TokenProvider {
  readonly #client: GrantClient
  readonly #clientId: string
  readonly #cache: TokenCache<AccessToken>
  readonly #stepUp: StepUpScopes
  readonly #redirectUri: string
  readonly #authorize: AuthorizationCodeTokenProviderOptions['authorize']
  readonly #authorizationUrl: URL | undefined
  readonly #resource: readonly string[] | undefined
  readonly #extra: readonly [string, string][]
  readonly #dpop: DpopKey | undefined
  /** Refresh tokens by cache key (memory only). */
  readonly #refreshTokens = new Map<string, string>()
  readonly #allowInsecureHttp: boolean

  constructor(options: AuthorizationCodeTokenProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    if (typeof options.clientId !== 'string' || options.clientId === '')
      throw new TypeError('"clientId" must be a non-empty string')
    if (typeof options.authorize !== 'function') throw new TypeError('"authorize" must be a function')
    const common = resolveCommon(options)
    this.#dpop = common.dpop
    this.#clientId = options.clientId
    this.#client = new GrantClient(options, {
      allowNone: true,
      getFetch: common.getFetch,
      now: common.now,
      dpop: common.dpop,
      secrets: () => [...this.#cache.values(), ...this.#refreshTokens.values()],
    })
    let redirect: URL
    try {
      redirect = new URL(options.redirectUri)
    } catch {
      throw new TypeError('"redirectUri" must be an absolute URL')
    }
    this.#redirectUri = redirect.href
    this.#allowInsecureHttp = options.allowInsecureHttp === true
    this.#authorize = options.authorize
    this.#authorizationUrl =
      options.authorizationUrl === undefined
        ? undefined
        : assertSecureUrl(options.authorizationUrl, 'authorizationUrl', options.allowInsecureHttp === true)
    this.#resource = toList(options.resource, 'resource')
    this.#extra = toExtraParams(options.extraAuthorizationParams, RESERVED_AUTHORIZATION_PARAMS)
    this.#stepUp = new StepUpScopes(toScopeList(options.scope, 'scope'))
    const dpop = common.dpop
    this.#cache = new TokenCache<AccessToken>({
      grant: GRANT_TYPES.authorizationCode,
      now: common.now,
      refreshSkewMs: common.refreshSkewMs,
      maxEntries: MAX_CACHED_SCOPE_SETS,
      store: undefined,
      storeSettings: {},
      onEvent: undefined,
      adopt: (token) => freezeToken(token, dpop),
    })
  }

  /** The DPoP key tokens are bound to, when the `dpop` option is set. */
  get dpopKey(): DpopKey | undefined {
    return this.#dpop
  }

  /** The cached token `getToken(options)` would return at once, if any (see `TokenProvider.cachedToken`). */
  cachedToken(options?: GetTokenOptions): AccessToken | undefined {
    return cachedTokenIn(this.#cache, this.#stepUp, options)
  }

  /**
   * A token: from the cache, refreshed with the refresh token, or, without one (or when it is
   * refused), through the authorization step (`authorize`). Concurrent callers share one.
   */
  async getToken(options?: GetTokenOptions): Promise<AccessToken> {
    const signal = options?.signal
    if (signal?.aborted) throw signal.reason
    const { key, scopes } = this.#stepUp.of(options?.scopes)
    const hit = this.#cache.hit(key, scopes)
    if (hit !== undefined) return hit
    return this.#cache.obtain(key, this.#source(key, scopes, signal), signal)
  }

  /** Drops cached tokens (see `TokenProvider.invalidate`); without `rejected`, the refresh tokens too. */
  invalidate(rejected?: string): void {
    if (rejected === undefined) this.#refreshTokens.clear()
    this.#cache.invalidate(rejected)
  }

  #source(key: string, scopes: readonly string[], signal: AbortSignal | undefined): TokenSource<AccessToken> {
    return {
      scopes,
      stepUp: key !== this.#stepUp.baseKey,
      storeKey: () => Promise.reject(new Error('no store')),
      fetch: async (reason) => {
        const server = await this.#client.discover()
        const resource = this.#resource ?? (server.resource === undefined ? [] : [server.resource])
        const refreshToken = this.#refreshTokens.get(key)
        let issued: IssuedToken | undefined
        if (refreshToken !== undefined) {
          const params: [string, string][] = [['refresh_token', refreshToken]]
          if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
          for (const r of resource) params.push(['resource', r])
          try {
            issued = await this.#client.requestAt(server.as, server.tokenEndpoint, {
              grantType: GRANT_TYPES.refreshToken,
              params,
              scopes,
              reason,
              secrets: [refreshToken],
            })
          } catch (error) {
            // A refresh token that is no longer good (RFC 6749 §5.2 invalid_grant): ask the user.
            if (!(error instanceof TokenRequestError && error.error === 'invalid_grant')) throw error
            this.#refreshTokens.delete(key)
          }
        }
        issued ??= await this.#authorizationCode(
          server.as,
          server.tokenEndpoint,
          scopes,
          resource,
          reason,
          signal,
        )
        if (issued.refreshToken !== undefined) this.#refreshTokens.set(key, issued.refreshToken)
        return accessTokenOf(issued, scopes, this.#dpop)
      },
    }
  }

  async #authorizationCode(
    as: AuthorizationServer,
    tokenEndpoint: URL,
    scopes: readonly string[],
    resource: readonly string[],
    reason: Parameters<TokenSource<AccessToken>['fetch']>[0],
    signal: AbortSignal | undefined,
  ): Promise<IssuedToken> {
    const endpoint = this.#authorizationUrl ?? authorizationEndpointOf(as, this.#allowInsecureHttp)
    const verifier = generateRandomCodeVerifier()
    const state = generateRandomState()
    const url = new URL(endpoint)
    const query = url.searchParams
    query.set('response_type', 'code')
    query.set('client_id', this.#clientId)
    query.set('redirect_uri', this.#redirectUri)
    query.set('code_challenge', await calculatePKCECodeChallenge(verifier))
    query.set('code_challenge_method', 'S256')
    query.set('state', state)
    if (scopes.length > 0) query.set('scope', formatScope(scopes))
    for (const r of resource) query.append('resource', r)
    // RFC 9449 §10: binds the code to the DPoP key.
    if (this.#dpop !== undefined) query.set('dpop_jkt', await this.#dpop.thumbprint())
    for (const [name, value] of this.#extra) query.set(name, value)

    let callback: URL
    try {
      callback = new URL(await this.#authorize({ url, state, signal }))
    } catch (error) {
      if (error instanceof TypeError)
        throw new AuthCoreError(ErrorCode.AuthorizationFailed, 'the authorization callback URL is not a URL')
      throw error
    }
    let params: URLSearchParams
    try {
      params = validateAuthResponse(as, { client_id: this.#clientId }, callback, state)
    } catch (error) {
      if (error instanceof AuthorizationResponseError) {
        throw new AuthCoreError(
          ErrorCode.AuthorizationFailed,
          `the authorization server refused the authorization: ${/^[\x21-\x7e]{1,64}$/.test(error.error) ? error.error : 'error'}`,
        )
      }
      if (error instanceof OperationProcessingError) {
        // No parameter values: the callback may hold a code.
        throw new AuthCoreError(
          ErrorCode.AuthorizationFailed,
          `the authorization callback is not this request's (${/"(\w+)"/.exec(error.message)?.[1] ?? 'state'} does not match)`,
        )
      }
      throw error
    }
    const code = params.get('code')
    if (code === null || code === '')
      throw new AuthCoreError(ErrorCode.AuthorizationFailed, 'the authorization callback has no code')
    const body: [string, string][] = [
      ['code', code],
      ['redirect_uri', this.#redirectUri],
      ['code_verifier', verifier],
    ]
    for (const r of resource) body.push(['resource', r])
    return this.#client.requestAt(as, tokenEndpoint, {
      grantType: GRANT_TYPES.authorizationCode,
      params: body,
      scopes,
      reason,
      secrets: [code, verifier],
    })
  }
}

function authorizationEndpointOf(as: AuthorizationServer, allowInsecureHttp: boolean): URL {
  const endpoint = as.authorization_endpoint
  if (typeof endpoint !== 'string')
    throw new DiscoveryError(
      ErrorCode.DiscoveryInvalidMetadata,
      `authorization server metadata of ${displayUrl(as.issuer)} has no authorization_endpoint: configure authorizationUrl`,
      { urls: [], status: 200 },
    )
  return assertSecureUrl(endpoint, 'authorization_endpoint', allowInsecureHttp)
}
