import type { DpopKey } from './dpop.js'
import { GrantClient } from './internal/grant-client.js'
import { GRANT_TYPES } from './internal/protocol.js'
import { digest, digestNow } from './internal/subject-token.js'
import { TokenCache, type TokenSource } from './internal/token-cache.js'
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
  toExtraParams,
  tokenTypeUrn,
  toList,
  toScopeList,
  userCacheKey,
} from './provider-support.js'
import { formatScope } from './scope.js'
import type {
  ClientAuthenticationOptions,
  TokenEndpointOptions,
  TokenProviderCommonOptions,
} from './token-provider-options.js'
import type { AccessToken, GetTokenOptions, TokenProvider } from './token-provider-types.js'
import { tokenCacheKey } from './token-store.js'

export type { TokenTypeIdentifier } from './provider-support.js'

/** The actor of a delegation: whose token goes as RFC 8693 `actor_token`. */
export interface TokenExchangeActor {
  /** Hands out the actor's token (e.g. the gateway's `ClientCredentialsTokenProvider`). */
  provider: TokenProvider
  /**
   * The type of that token.
   * @default 'access_token'
   */
  tokenType?: TokenTypeIdentifier | undefined
}

/** Options of {@link TokenExchangeTokenProvider}. */
export interface TokenExchangeTokenProviderOptions
  extends ClientAuthenticationOptions,
    TokenEndpointOptions,
    TokenProviderCommonOptions {
  /**
   * The type of the users' tokens passed as `getToken({ subjectToken })`: a short name
   * (`access_token`, `id_token`, `jwt`, `refresh_token`, `saml2`) or the full URN.
   * @default 'access_token'
   */
  subjectTokenType?: TokenTypeIdentifier | undefined
  /**
   * `requested_token_type`: the type of token asked for.
   * @default none: the authorization server's choice (an access token)
   */
  requestedTokenType?: TokenTypeIdentifier | undefined
  /**
   * The actor (RFC 8693 §4.1 `act`): another provider's token sent as `actor_token`, so the token
   * issued says the gateway acts for the user. The server checks the subject's `may_act`.
   */
  actor?: TokenProvider | TokenExchangeActor | undefined
  /** `audience` (RFC 8693 §2.1): logical names of the target service(s). */
  audience?: string | readonly string[] | undefined
  /**
   * RFC 8707 `resource`: where the issued token will be used.
   * @default the `resource` from RFC 9728 metadata when discovered through `resourceServerUrl`
   */
  resource?: string | readonly string[] | undefined
  /** Scopes always requested. */
  scope?: string | readonly string[] | undefined
  /** More form parameters; they cannot override the ones above. */
  extraParams?: Readonly<Record<string, string>> | undefined
  /**
   * Users (subject tokens × scope sets) whose tokens are cached at most; the least recently
   * fetched goes first.
   * @default 1000
   */
  maxCachedSubjects?: number | undefined
}

const RESERVED_PARAMS = new Set([
  'grant_type',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'scope',
  'resource',
  'audience',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
])

/**
 * RFC 8693 token exchange for a user: the user's token (`getToken({ subjectToken })`) is exchanged
 * at the authorization server for a token the MCP server accepts, optionally with the gateway as
 * actor. Exchanged tokens are cached per user (the key is a digest of the subject token and the
 * scopes, never the token), bounded, until the earlier of the issued token's and the subject
 * token's expiry; concurrent calls for one user share one exchange. Client authentication,
 * discovery, retries, the store and DPoP work as in `ClientCredentialsTokenProvider`.
 *
 * @example
 * ```ts
 * declare const tokenUrl: string, clientSecret: string
 * declare const usersAccessToken: string // the token your gateway received from the user
 * const service = new ClientCredentialsTokenProvider({ tokenUrl, clientId: 'gateway', clientSecret })
 * const exchange = new TokenExchangeTokenProvider({
 *   resourceServerUrl: 'https://mcp.example.com/mcp', // RFC 9728: its authorization server and resource
 *   clientId: 'gateway',
 *   clientSecret,
 *   actor: service, // act: { sub: gateway }
 * })
 * const token = await exchange.getToken({ subjectToken: usersAccessToken })
 * ```
 * @see RFC 8693 §2, §4.1, RFC 8707
 */
export class TokenExchangeTokenProvider implements TokenProvider {
  readonly #client: GrantClient
  readonly #cache: TokenCache<AccessToken>
  readonly #stepUp: StepUpScopes
  readonly #subjectTokenType: string
  readonly #requestedTokenType: string | undefined
  readonly #actor: { provider: TokenProvider; tokenType: string } | undefined
  readonly #audience: readonly string[]
  readonly #resource: readonly string[] | undefined
  readonly #extraParams: readonly [string, string][]
  readonly #dpop: DpopKey | undefined
  readonly #now: () => number

  constructor(options: TokenExchangeTokenProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    const common = resolveCommon(options)
    this.#dpop = common.dpop
    this.#now = common.now
    this.#client = new GrantClient(options, {
      allowNone: true,
      getFetch: common.getFetch,
      now: common.now,
      dpop: common.dpop,
      secrets: () => this.#cache.values(),
    })
    this.#subjectTokenType = tokenTypeUrn(options.subjectTokenType ?? 'access_token', 'subjectTokenType')
    this.#requestedTokenType =
      options.requestedTokenType === undefined
        ? undefined
        : tokenTypeUrn(options.requestedTokenType, 'requestedTokenType')
    this.#actor = resolveActor(options.actor)
    this.#audience = toList(options.audience, 'audience') ?? []
    this.#resource = toList(options.resource, 'resource')
    this.#extraParams = toExtraParams(options.extraParams, RESERVED_PARAMS)
    this.#stepUp = new StepUpScopes(toScopeList(options.scope, 'scope'))
    const dpop = common.dpop
    this.#cache = new TokenCache<AccessToken>({
      grant: GRANT_TYPES.tokenExchange,
      now: common.now,
      refreshSkewMs: common.refreshSkewMs,
      maxEntries: maxEntriesOption(options.maxCachedSubjects, 'maxCachedSubjects', MAX_CACHED_SUBJECTS),
      store: common.store,
      storeSettings: common.storeSettings,
      onEvent: common.onEvent,
      adopt: (token) => freezeToken(token, dpop),
    })
  }

  /** The DPoP key tokens are bound to, when the `dpop` option is set. */
  get dpopKey(): DpopKey | undefined {
    return this.#dpop
  }

  /**
   * The cached token of this user (`options.subjectToken`) that `getToken(options)` would return at
   * once, if any (see `TokenProvider.cachedToken`); `undefined` without a subjectToken.
   */
  cachedToken(options?: GetTokenOptions): AccessToken | undefined {
    const subject = options?.subjectToken
    if (typeof subject !== 'string' || subject === '') return undefined
    const subjectDigest = digestNow([subject])
    return subjectDigest === undefined
      ? undefined
      : cachedTokenIn(this.#cache, this.#stepUp, options, subjectDigest)
  }

  /**
   * The token for the user whose token is `options.subjectToken` (required): from the cache, or
   * exchanged (once for concurrent calls). Rejects with `ERR_SUBJECT_TOKEN_REQUIRED` without a
   * subject token and `ERR_SUBJECT_TOKEN_EXPIRED` when it is a JWT past its `exp`.
   */
  async getToken(options?: GetTokenOptions): Promise<AccessToken> {
    const signal = options?.signal
    if (signal?.aborted) throw signal.reason
    const subject = requireSubject(options?.subjectToken, 'subjectToken')
    const { key: scopesKey, scopes } = this.#stepUp.of(options?.scopes)
    const subjectDigest = await digest([subject])
    const key = userCacheKey(subjectDigest, scopesKey)
    const hit = this.#cache.hit(key, scopes)
    if (hit !== undefined) return hit
    return this.#cache.obtain(key, this.#source(subject, subjectDigest, scopes, scopesKey), signal)
  }

  invalidate(rejected?: string): void {
    this.#cache.invalidate(rejected)
  }

  #source(
    subject: string,
    subjectDigest: string,
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
          clientId: this.#client.clientId ?? 'token-exchange',
          credential: this.#client.credential,
          authMethod: this.#client.authMethod,
          grantType: GRANT_TYPES.tokenExchange,
          scopes,
          resource: this.#resource ?? (resource === undefined ? [] : [resource]),
          audience: this.#audience.join(' ') || undefined,
          params: {
            ...Object.fromEntries(this.#extraParams),
            subject_token_sha256: subjectDigest,
            subject_token_type: this.#subjectTokenType,
            requested_token_type: this.#requestedTokenType ?? '',
            actor_token_type: this.#actor?.tokenType ?? '',
            ...(await dpopKeyParams(this.#dpop)),
          },
        })
      },
      fetch: async (reason) => {
        const subjectExpiresAt = assertSubjectValid(subject, this.#now(), 'subject token')
        const { as, tokenEndpoint, resource: discovered } = await this.#client.discover()
        const params: [string, string][] = [
          ['subject_token', subject],
          ['subject_token_type', this.#subjectTokenType],
        ]
        const secrets = [subject]
        if (this.#requestedTokenType !== undefined)
          params.push(['requested_token_type', this.#requestedTokenType])
        if (this.#actor !== undefined) {
          const actor = await this.#actor.provider.getToken()
          params.push(['actor_token', actor.value], ['actor_token_type', this.#actor.tokenType])
          secrets.push(actor.value)
        }
        for (const audience of this.#audience) params.push(['audience', audience])
        for (const resource of this.#resource ?? (discovered ? [discovered] : []))
          params.push(['resource', resource])
        if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
        params.push(...this.#extraParams)
        const issued = await this.#client.requestAt(as, tokenEndpoint, {
          grantType: GRANT_TYPES.tokenExchange,
          params,
          scopes,
          reason,
          secrets,
        })
        return accessTokenOf(capExpiry(issued, subjectExpiresAt), scopes, this.#dpop)
      },
    }
  }
}

function resolveActor(
  actor: TokenExchangeTokenProviderOptions['actor'],
): { provider: TokenProvider; tokenType: string } | undefined {
  if (actor === undefined) return undefined
  const isProvider = (value: unknown): value is TokenProvider =>
    typeof value === 'object' && value !== null && typeof (value as TokenProvider).getToken === 'function'
  if (isProvider(actor))
    return { provider: actor, tokenType: tokenTypeUrn('access_token', 'actor.tokenType') }
  if (typeof actor === 'object' && actor !== null && isProvider(actor.provider)) {
    return {
      provider: actor.provider,
      tokenType: tokenTypeUrn(actor.tokenType ?? 'access_token', 'actor.tokenType'),
    }
  }
  throw new TypeError('"actor" must be a TokenProvider or { provider, tokenType }')
}
