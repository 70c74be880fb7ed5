import type { DpopKey } from './dpop.js'
import { AuthCoreError, ErrorCode } from './errors.js'
import { AssertionFile, AssertionFileError } from './internal/assertion-file.js'
import { GrantClient } from './internal/grant-client.js'
import { GRANT_TYPES } from './internal/protocol.js'
import { digest, jwtExpiresAt, peekClaims } from './internal/subject-token.js'
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
  TokenEndpointOptions,
  TokenProviderCommonOptions,
} from './token-provider-options.js'
import type { AccessToken, GetTokenOptions, TokenProvider } from './token-provider-types.js'
import { tokenCacheKey } from './token-store.js'

/** Options of {@link JwtBearerTokenProvider}. */
export interface JwtBearerTokenProviderOptions
  extends ClientAuthenticationOptions,
    TokenEndpointOptions,
    TokenProviderCommonOptions {
  /**
   * The assertion (a JWT the authorization server trusts: a workload identity token), or a
   * function that returns the current one (called for every token request). One of `assertion`
   * or `assertionFile` is required.
   */
  assertion?: string | (() => string | Promise<string>) | undefined
  /**
   * A file that holds the assertion and is replaced when it rotates (a Kubernetes projected
   * service-account token, e.g. `/var/run/secrets/tokens/mcp`): read for a token request, again
   * whenever it changed. Node only (read through `node:fs`).
   */
  assertionFile?: string | undefined
  /** Scopes always requested. */
  scope?: string | readonly string[] | undefined
  /**
   * RFC 8707 `resource` indicator(s).
   * @default the `resource` from RFC 9728 metadata when discovered through `resourceServerUrl`
   */
  resource?: string | readonly string[] | undefined
  /** `audience` parameter. */
  audience?: string | undefined
  /** More form parameters; they cannot override the ones above. */
  extraParams?: Readonly<Record<string, string>> | undefined
}

const RESERVED_PARAMS = new Set([
  'grant_type',
  'assertion',
  'scope',
  'resource',
  'audience',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
])

/** Distinct scope sets (step-up) cached at most. */
const MAX_CACHED_SCOPE_SETS = 64

/**
 * The RFC 7523 §2.1 jwt-bearer grant: a JWT assertion (workload identity federation: a
 * Kubernetes service-account token, a cloud identity token) is the authorization grant. Client
 * authentication is optional (`tokenEndpointAuthMethod` defaults to `none` without a credential).
 * An assertion that is a JWT past its `exp` is refused before it is sent
 * (`ERR_ASSERTION_EXPIRED`); a failed request is reported, never retried with another grant.
 * Caching, refresh, single flight, discovery, the store and DPoP work as in
 * `ClientCredentialsTokenProvider`.
 *
 * @example
 * ```ts
 * const provider = new JwtBearerTokenProvider({
 *   issuer: 'https://auth.example.com',
 *   assertionFile: '/var/run/secrets/tokens/mcp', // projected service-account token, re-read when rotated
 *   scope: 'mcp:read',
 * })
 * const { value } = await provider.getToken()
 * ```
 * @see RFC 7523 §2.1, §3, RFC 7521 §4.1
 */
export class JwtBearerTokenProvider implements TokenProvider {
  readonly #client: GrantClient
  readonly #cache: TokenCache<AccessToken>
  readonly #stepUp: StepUpScopes
  readonly #assertion: () => Promise<string>
  readonly #resource: readonly string[] | undefined
  readonly #audience: string | undefined
  readonly #extraParams: readonly [string, string][]
  readonly #dpop: DpopKey | undefined
  readonly #now: () => number

  constructor(options: JwtBearerTokenProviderOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    const common = resolveCommon(options)
    this.#dpop = common.dpop
    this.#now = common.now
    this.#assertion = resolveAssertion(options)
    this.#client = new GrantClient(options, {
      allowNone: true,
      getFetch: common.getFetch,
      now: common.now,
      dpop: common.dpop,
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
      grant: GRANT_TYPES.jwtBearer,
      now: common.now,
      refreshSkewMs: common.refreshSkewMs,
      maxEntries: MAX_CACHED_SCOPE_SETS,
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

  /** The cached token `getToken(options)` would return at once, if any (see `TokenProvider.cachedToken`). */
  cachedToken(options?: GetTokenOptions): AccessToken | undefined {
    return cachedTokenIn(this.#cache, this.#stepUp, options)
  }

  /** A token for the workload: from the cache, or one jwt-bearer request (shared by concurrent callers). */
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

  /** The current assertion, refused when it has expired. */
  async #currentAssertion(): Promise<string> {
    const assertion = await this.#assertion()
    const expiresAt = jwtExpiresAt(assertion)
    if (expiresAt !== undefined && expiresAt <= this.#now())
      throw new AuthCoreError(ErrorCode.AssertionExpired, 'the jwt-bearer assertion has expired: not sent')
    return assertion
  }

  #source(key: string, scopes: readonly string[]): TokenSource<AccessToken> {
    return {
      scopes,
      stepUp: key !== this.#stepUp.baseKey,
      storeKey: async () => {
        const { tokenEndpoint, resource } = await this.#client.discover()
        // The workload, not this assertion: a rotated assertion of the same workload keeps the key.
        const assertion = await this.#assertion()
        const claims = peekClaims(assertion)
        const workload =
          typeof claims?.['iss'] === 'string' && typeof claims['sub'] === 'string'
            ? `${claims['iss']} ${claims['sub']}`
            : await digest([assertion])
        return tokenCacheKey({
          tokenEndpoint,
          clientId: this.#client.clientId ?? 'jwt-bearer',
          credential: this.#client.authMethod === 'none' ? `jwt-bearer:${workload}` : this.#client.credential,
          authMethod: this.#client.authMethod,
          grantType: GRANT_TYPES.jwtBearer,
          scopes,
          resource: this.#resource ?? (resource === undefined ? [] : [resource]),
          audience: this.#audience,
          params: {
            ...Object.fromEntries(this.#extraParams),
            workload,
            ...(await dpopKeyParams(this.#dpop)),
          },
        })
      },
      fetch: async (reason) => {
        const assertion = await this.#currentAssertion()
        const { as, tokenEndpoint, resource: discovered } = await this.#client.discover()
        const params: [string, string][] = [['assertion', assertion]]
        if (scopes.length > 0) params.push(['scope', formatScope(scopes)])
        for (const resource of this.#resource ?? (discovered ? [discovered] : []))
          params.push(['resource', resource])
        if (this.#audience !== undefined) params.push(['audience', this.#audience])
        params.push(...this.#extraParams)
        const issued = await this.#client.requestAt(as, tokenEndpoint, {
          grantType: GRANT_TYPES.jwtBearer,
          params,
          scopes,
          reason,
          secrets: [assertion],
        })
        return accessTokenOf(issued, scopes, this.#dpop)
      },
    }
  }
}

function resolveAssertion(options: JwtBearerTokenProviderOptions): () => Promise<string> {
  const { assertion, assertionFile } = options
  if ((assertion === undefined) === (assertionFile === undefined))
    throw new TypeError('exactly one of "assertion" or "assertionFile" is required')
  if (assertionFile !== undefined) {
    if (typeof assertionFile !== 'string' || assertionFile === '')
      throw new TypeError('"assertionFile" must be a non-empty path')
    const file = new AssertionFile(assertionFile, 'assertionFile')
    return () =>
      file.read().catch((error: unknown) => {
        const reason = error instanceof AssertionFileError ? error.reason : 'cannot be read'
        throw new AuthCoreError(ErrorCode.AssertionUnavailable, `the assertion file ${file.path} ${reason}`)
      })
  }
  if (typeof assertion === 'string') {
    if (assertion === '') throw new TypeError('"assertion" must not be empty')
    return () => Promise.resolve(assertion)
  }
  if (typeof assertion !== 'function') throw new TypeError('"assertion" must be a string or a function')
  return async () => {
    let value: unknown
    try {
      value = await assertion()
    } catch (error) {
      throw new AuthCoreError(ErrorCode.AssertionUnavailable, 'the assertion callback failed', {
        cause: error instanceof Error ? new Error(error.name) : undefined,
      })
    }
    if (typeof value !== 'string' || value.trim() === '')
      throw new AuthCoreError(ErrorCode.AssertionUnavailable, 'the assertion callback returned no assertion')
    return value.trim()
  }
}
