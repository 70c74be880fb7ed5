import type { DpopKey } from './dpop.js'
import { ErrorCode, TokenRequestError } from './errors.js'
import { GrantClient } from './internal/grant-client.js'
import { GRANT_TYPES, TOKEN_TYPE_URNS } from './internal/protocol.js'
import { digest, digestNow, jwtExpiresAt } from './internal/subject-token.js'
import { TokenCache, type TokenSource } from './internal/token-cache.js'
import type { SharedToken } from './internal/token-store-types.js'
import { displayUrl } from './internal/url.js'
import {
  accessTokenOf,
  assertSubjectValid,
  cachedTokenIn,
  capExpiry,
  dpopKeyParams,
  freezeToken,
  MAX_CACHED_SUBJECTS,
  maxEntriesOption,
  requireSubject,
  resolveCommon,
  StepUpScopes,
  type TokenTypeIdentifier,
  tokenTypeUrn,
  toList,
  toScopeList,
  userCacheKey,
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

/** The enterprise identity provider of {@link IdJagTokenProvider}: where ID tokens become ID-JAGs. */
export interface IdJagIdentityProviderOptions extends ClientAuthenticationOptions {
  /** The IdP's token endpoint. One of `tokenUrl` or `issuer` is required. */
  tokenUrl?: string | URL | undefined
  /** The IdP's issuer; its token endpoint comes from RFC 8414 / OpenID metadata. */
  issuer?: string | URL | undefined
  /** The gateway's `client_id` at the IdP. */
  clientId?: string | undefined
  /**
   * The type of the user's token sent as `subject_token`.
   * @default 'id_token'
   */
  subjectTokenType?: TokenTypeIdentifier | undefined
}

/** Options of {@link IdJagTokenProvider}. */
export interface IdJagTokenProviderOptions
  extends ClientAuthenticationOptions,
    TokenEndpointOptions,
    TokenProviderCommonOptions {
  /** The gateway's `client_id` at the MCP authorization server (it must match the ID-JAG's `client_id`). */
  clientId: string
  /**
   * How the gateway authenticates at the MCP authorization server.
   * @default 'client_secret_basic' with a `clientSecret`, 'private_key_jwt' with a `privateKey`
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined
  /** The identity provider that issues ID-JAGs (step 1, RFC 8693 token exchange). */
  idp: IdJagIdentityProviderOptions
  /** Scopes requested (in the ID-JAG request and the jwt-bearer grant). */
  scope?: string | readonly string[] | undefined
  /**
   * The MCP server's resource identifier, sent to the IdP as `resource` and checked by the MCP
   * authorization server against the ID-JAG.
   * @default the `resource` of the MCP server's RFC 9728 metadata, as is (with `resourceServerUrl`)
   */
  resource?: string | undefined
  /**
   * `audience` of the ID-JAG request: the MCP authorization server.
   * @default the MCP authorization server's issuer (from its metadata)
   */
  audience?: string | undefined
  /**
   * Users (ID tokens × scope sets) whose tokens and ID-JAGs are cached at most.
   * @default 1000
   */
  maxCachedSubjects?: number | undefined
}

interface IdJag extends SharedToken {}

/**
 * Enterprise-managed authorization (the MCP extension; the ID-JAG draft): the user's ID token
 * (`getToken({ idToken })`) is exchanged at the enterprise IdP for an ID-JAG (RFC 8693,
 * `requested_token_type=urn:ietf:params:oauth:token-type:id-jag`, `audience` the MCP authorization
 * server's issuer, `resource` the MCP server's RFC 9728 resource as is), which the gateway then
 * presents to the MCP authorization server with the jwt-bearer grant (RFC 7523) to get the access
 * token. Both legs are cached per user (keyed by a digest, never the ID token), bounded, no longer
 * than the ID token lives, with one request per user at a time. An ID-JAG is meant for one use:
 * when the authorization server refuses a cached one (`invalid_grant`), a fresh one is obtained
 * once.
 *
 * @example
 * ```ts
 * const provider = new IdJagTokenProvider({
 *   resourceServerUrl: 'https://mcp.example.com/mcp',
 *   clientId: 'gateway', // at the MCP authorization server
 *   clientSecret: process.env.MCP_AS_SECRET,
 *   idp: { issuer: 'https://idp.example.com', clientId: 'gateway-at-idp', clientSecret: process.env.IDP_SECRET },
 * })
 * declare const usersIdToken: string // the OpenID Connect ID token of the user's sign-in
 * const token = await provider.getToken({ idToken: usersIdToken })
 * ```
 * @see RFC 8693 §2, RFC 7523 §2.1, draft-ietf-oauth-identity-assertion-authz-grant
 */
export class IdJagTokenProvider implements TokenProvider {
  readonly #client: GrantClient
  readonly #idp: GrantClient
  readonly #cache: TokenCache<AccessToken>
  readonly #jags: TokenCache<IdJag>
  readonly #stepUp: StepUpScopes
  readonly #subjectTokenType: string
  readonly #resource: string | undefined
  readonly #audience: string | undefined
  readonly #dpop: DpopKey | undefined
  readonly #now: () => number

  constructor(options: IdJagTokenProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    if (typeof options.clientId !== 'string' || options.clientId === '')
      throw new TypeError('"clientId" must be a non-empty string')
    const idp = options.idp
    if (typeof idp !== 'object' || idp === null) throw new TypeError('"idp" must be an object')
    if ((idp as TokenEndpointOptions).resourceServerUrl !== undefined)
      throw new TypeError('"idp" takes tokenUrl or issuer, not resourceServerUrl')
    const common = resolveCommon(options)
    this.#dpop = common.dpop
    this.#now = common.now
    this.#client = new GrantClient(options, {
      getFetch: common.getFetch,
      now: common.now,
      dpop: common.dpop,
      secrets: () => [...this.#cache.values(), ...this.#jags.values()],
    })
    this.#idp = new GrantClient(
      {
        ...idp,
        timeoutMs: options.timeoutMs,
        retry: options.retry,
        allowInsecureHttp: options.allowInsecureHttp,
        defaultExpiresInSeconds: options.defaultExpiresInSeconds,
        maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds,
      },
      {
        prefix: 'idp.',
        allowNone: true,
        getFetch: common.getFetch,
        now: common.now,
        // The ID-JAG is an assertion, not a token presented to a resource: no DPoP at the IdP.
        dpop: undefined,
        secrets: () => [...this.#cache.values(), ...this.#jags.values()],
      },
    )
    this.#subjectTokenType = tokenTypeUrn(idp.subjectTokenType ?? 'id_token', 'idp.subjectTokenType')
    const resource = options.resource
    if (resource !== undefined && typeof resource !== 'string')
      throw new TypeError('"resource" must be a string')
    this.#resource = resource
    const audience = options.audience
    if (audience !== undefined && typeof audience !== 'string')
      throw new TypeError('"audience" must be a string')
    this.#audience = audience
    toList(resource, 'resource')
    this.#stepUp = new StepUpScopes(toScopeList(options.scope, 'scope'))
    const maxEntries = maxEntriesOption(options.maxCachedSubjects, 'maxCachedSubjects', MAX_CACHED_SUBJECTS)
    const dpop = common.dpop
    this.#cache = new TokenCache<AccessToken>({
      grant: GRANT_TYPES.jwtBearer,
      now: common.now,
      refreshSkewMs: common.refreshSkewMs,
      maxEntries,
      store: common.store,
      storeSettings: common.storeSettings,
      onEvent: common.onEvent,
      adopt: (token) => freezeToken(token, dpop),
    })
    this.#jags = new TokenCache<IdJag>({
      grant: GRANT_TYPES.tokenExchange,
      now: common.now,
      refreshSkewMs: common.refreshSkewMs,
      maxEntries,
      store: undefined,
      storeSettings: {},
      onEvent: undefined,
      adopt: (token) => token,
    })
  }

  /** The DPoP key tokens are bound to, when the `dpop` option is set. */
  get dpopKey(): DpopKey | undefined {
    return this.#dpop
  }

  /**
   * The cached token of this user (`options.idToken`) that `getToken(options)` would return at
   * once, if any (see `TokenProvider.cachedToken`); `undefined` without an idToken.
   */
  cachedToken(options?: GetTokenOptions): AccessToken | undefined {
    const subject = options?.idToken ?? options?.subjectToken
    if (typeof subject !== 'string' || subject === '') return undefined
    const subjectDigest = digestNow([subject])
    return subjectDigest === undefined
      ? undefined
      : cachedTokenIn(this.#cache, this.#stepUp, options, subjectDigest)
  }

  /**
   * The access token for the user whose ID token is `options.idToken` (or, without one,
   * `options.subjectToken`). Rejects with `ERR_SUBJECT_TOKEN_REQUIRED` without either, and with
   * `ERR_SUBJECT_TOKEN_EXPIRED` for an ID token past its `exp`.
   */
  async getToken(options?: GetTokenOptions): Promise<AccessToken> {
    const signal = options?.signal
    if (signal?.aborted) throw signal.reason
    const idToken = requireSubject(options?.idToken ?? options?.subjectToken, 'idToken')
    const { key: scopesKey, scopes } = this.#stepUp.of(options?.scopes)
    const subjectDigest = await digest([idToken])
    const key = userCacheKey(subjectDigest, scopesKey)
    const hit = this.#cache.hit(key, scopes)
    if (hit !== undefined) return hit
    return this.#cache.obtain(key, this.#source(idToken, subjectDigest, key, scopes, scopesKey), signal)
  }

  invalidate(rejected?: string): void {
    this.#cache.invalidate(rejected)
  }

  /** Step 1: the ID-JAG for this user, from the cache or the IdP; `fresh` when it was just issued. */
  async #idJag(
    idToken: string,
    key: string,
    scopes: readonly string[],
    reason: Parameters<TokenSource<IdJag>['fetch']>[0],
  ): Promise<{ jag: IdJag; fresh: boolean }> {
    const cached = this.#jags.hit(key, scopes)
    if (cached !== undefined) return { jag: cached, fresh: false }
    // Inside its refresh window the cached one is served while a new one is fetched behind it:
    // only the one this call minted is fresh.
    let minted: IdJag | undefined
    const jag = await this.#jags.obtain(
      key,
      {
        scopes,
        storeKey: () => Promise.reject(new Error('no store')),
        fetch: async () => {
          minted = await this.#requestIdJag(idToken, scopes, reason)
          return minted
        },
      },
      undefined,
    )
    return { jag, fresh: jag === minted }
  }

  async #requestIdJag(
    idToken: string,
    scopes: readonly string[],
    reason: Parameters<TokenSource<IdJag>['fetch']>[0],
  ): Promise<IdJag> {
    const idTokenExpiresAt = assertSubjectValid(idToken, this.#now(), 'ID token')
    const mcp = await this.#client.discover()
    const params: [string, string][] = [
      ['requested_token_type', TOKEN_TYPE_URNS.id_jag],
      ['subject_token', idToken],
      ['subject_token_type', this.#subjectTokenType],
      ['audience', this.#audience ?? mcp.as.issuer],
    ]
    const resource = this.#resource ?? mcp.resource
    if (resource !== undefined) params.push(['resource', resource])
    if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
    const issued = await this.#idp.request({
      grantType: GRANT_TYPES.tokenExchange,
      params,
      scopes,
      reason,
      acceptNotApplicable: true,
      secrets: [idToken],
    })
    if (issued.issuedTokenType !== TOKEN_TYPE_URNS.id_jag) {
      const { tokenEndpoint } = await this.#idp.discover()
      const endpoint = displayUrl(tokenEndpoint)
      throw new TokenRequestError(
        ErrorCode.TokenResponseInvalid,
        `token request to ${endpoint} returned an issued_token_type that is not an ID-JAG`,
        { endpoint, status: 200, attempts: issued.attempts },
      )
    }
    // Used no longer than it claims to live, nor than the ID token it stands for.
    const claimed = jwtExpiresAt(issued.value)
    const expiresAt = Math.min(issued.expiresAt, claimed ?? Number.POSITIVE_INFINITY)
    return Object.freeze({
      value: issued.value,
      tokenType: 'N_A',
      expiresAt: Math.min(expiresAt, idTokenExpiresAt ?? Number.POSITIVE_INFINITY),
      scopes: Object.freeze([...scopes]),
    })
  }

  #source(
    idToken: string,
    subjectDigest: string,
    key: string,
    scopes: readonly string[],
    scopesKey: string,
  ): TokenSource<AccessToken> {
    return {
      scopes,
      stepUp: scopesKey !== this.#stepUp.baseKey,
      storeKey: async () => {
        const { tokenEndpoint, resource } = await this.#client.discover()
        return tokenCacheKey({
          tokenEndpoint,
          clientId: this.#client.clientId!,
          credential: this.#client.credential,
          authMethod: this.#client.authMethod,
          grantType: GRANT_TYPES.jwtBearer,
          scopes,
          resource: this.#resource ?? resource,
          audience: this.#audience,
          params: { id_token_sha256: subjectDigest, id_jag: 'v1', ...(await dpopKeyParams(this.#dpop)) },
        })
      },
      fetch: async (reason) => {
        const idTokenExpiresAt = assertSubjectValid(idToken, this.#now(), 'ID token')
        const { as, tokenEndpoint } = await this.#client.discover()
        const redeem = async (jag: IdJag) => {
          const params: [string, string][] = [['assertion', jag.value]]
          if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
          return this.#client.requestAt(as, tokenEndpoint, {
            grantType: GRANT_TYPES.jwtBearer,
            params,
            scopes,
            reason,
            secrets: [jag.value, idToken],
          })
        }
        const first = await this.#idJag(idToken, key, scopes, reason)
        let issued: Awaited<ReturnType<typeof redeem>>
        try {
          issued = await redeem(first.jag)
        } catch (error) {
          // A cached ID-JAG the server will not take again (one use, or revoked): one fresh one.
          if (first.fresh || !(error instanceof TokenRequestError) || error.error !== 'invalid_grant')
            throw error
          this.#jags.drop(key)
          issued = await redeem((await this.#idJag(idToken, key, scopes, reason)).jag)
        }
        return accessTokenOf(capExpiry(issued, idTokenExpiresAt), scopes, this.#dpop)
      },
    }
  }
}
