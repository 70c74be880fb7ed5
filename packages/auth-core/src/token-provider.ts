import type { DpopKey } from './dpop.js'
import { GrantClient } from './internal/grant-client.js'
import { GRANT_TYPES } from './internal/protocol.js'
import { TokenCache, type TokenSource } from './internal/token-cache.js'
import {
  accessTokenOf,
  cachedTokenIn,
  dpopKeyParams,
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
  TokenEndpointAuthMethod,
  TokenEndpointOptions,
  TokenProviderCommonOptions,
} from './token-provider-options.js'
import type { AccessToken, GetTokenOptions, TokenProvider } from './token-provider-types.js'
import { tokenCacheKey } from './token-store.js'

export type { AccessToken, GetTokenOptions, TokenProvider } from './token-provider-types.js'

/** Options of {@link ClientCredentialsTokenProvider}. */
export interface ClientCredentialsTokenProviderOptions
  extends ClientAuthenticationOptions,
    TokenEndpointOptions,
    TokenProviderCommonOptions {
  /** The OAuth `client_id`. */
  clientId: string
  /**
   * How the client authenticates at the token endpoint.
   * @default 'client_secret_basic' with a `clientSecret`, 'private_key_jwt' with a `privateKey`
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined
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
}

/** Distinct scope sets (step-up) cached at most; the least recently fetched goes first. */
const MAX_CACHED_SCOPE_SETS = 64

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

/**
 * OAuth 2.0 client-credentials grant with caching, refresh ahead of expiry, single-flight
 * requests, step-up scopes, bounded retries, an optional fleet-wide token store and DPoP.
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
 * @see RFC 6749 §4.4, RFC 8414, RFC 9728, RFC 8707, RFC 7523, RFC 9449
 */
export class ClientCredentialsTokenProvider implements TokenProvider {
  readonly #client: GrantClient
  readonly #cache: TokenCache<AccessToken>
  readonly #stepUp: StepUpScopes
  readonly #resource: readonly string[] | undefined
  readonly #audience: string | undefined
  readonly #extraParams: readonly [string, string][]
  readonly #dpop: DpopKey | undefined

  constructor(options: ClientCredentialsTokenProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    if (typeof options.clientId !== 'string' || options.clientId === '')
      throw new TypeError('"clientId" must be a non-empty string')
    const common = resolveCommon(options)
    this.#dpop = common.dpop
    this.#client = new GrantClient(options, {
      getFetch: common.getFetch,
      now: common.now,
      dpop: common.dpop,
      // A server that echoes a token we hold must not get it into an error message.
      secrets: () => this.#cache.values(),
    })
    const audience = options.audience
    if (audience !== undefined && typeof audience !== 'string')
      throw new TypeError('"audience" must be a string')
    this.#audience = audience
    this.#resource = toList(options.resource, 'resource')
    this.#extraParams = toExtraParams(options.extraParams, RESERVED_PARAMS)
    this.#stepUp = new StepUpScopes(toScopeList(options.scope, 'scope'))
    const dpop = common.dpop
    this.#cache = new TokenCache<AccessToken>({
      grant: GRANT_TYPES.clientCredentials,
      now: common.now,
      refreshSkewMs: common.refreshSkewMs,
      maxEntries: MAX_CACHED_SCOPE_SETS,
      store: common.store,
      storeSettings: common.storeSettings,
      onEvent: common.onEvent,
      adopt: (token) => freezeToken(token, dpop),
    })
  }

  /** The client id (not secret; handy in logs). */
  get clientId(): string {
    return this.#client.clientId!
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
   * A token covering the configured scopes and `options.scopes`. Served from cache until
   * `refreshSkewSeconds` before expiry; concurrent callers share one request. Inside the refresh
   * window the still-valid token is returned at once and the refresh runs in the background, so
   * a slow or hung authorization server delays nobody who holds a valid token.
   */
  async getToken(options?: GetTokenOptions): Promise<AccessToken> {
    const signal = options?.signal
    if (signal?.aborted) throw signal.reason
    const { key, scopes } = this.#stepUp.of(options?.scopes)
    const hit = this.#cache.hit(key, scopes)
    if (hit !== undefined) return hit
    return this.#cache.obtain(key, this.#source(key, scopes), signal)
  }

  invalidate(rejected?: string): void {
    this.#cache.invalidate(rejected)
  }

  #source(key: string, scopes: readonly string[]): TokenSource<AccessToken> {
    return {
      scopes,
      stepUp: key !== this.#stepUp.baseKey,
      storeKey: async () => {
        const { tokenEndpoint, resource } = await this.#client.discover()
        return tokenCacheKey({
          tokenEndpoint,
          clientId: this.#client.clientId!,
          credential: this.#client.credential,
          authMethod: this.#client.authMethod,
          scopes,
          resource: this.#resource ?? (resource === undefined ? [] : [resource]),
          audience: this.#audience,
          params: { ...Object.fromEntries(this.#extraParams), ...(await dpopKeyParams(this.#dpop)) },
        })
      },
      fetch: async (reason) => {
        const { as, tokenEndpoint, resource: discovered } = await this.#client.discover()
        const params: [string, string][] = []
        if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
        for (const resource of this.#resource ?? (discovered ? [discovered] : []))
          params.push(['resource', resource])
        if (this.#audience !== undefined) params.push(['audience', this.#audience])
        params.push(...this.#extraParams)
        const issued = await this.#client.requestAt(as, tokenEndpoint, {
          grantType: GRANT_TYPES.clientCredentials,
          params,
          scopes,
          reason,
        })
        return accessTokenOf(issued, scopes, this.#dpop)
      },
    }
  }
}
