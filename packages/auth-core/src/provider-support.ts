/**
 * What the token providers resolve alike from their options: the clock and fetch seams, the
 * refresh skew, the DPoP key, the store and its settings, and the shape of the tokens they hand
 * out. Not exported from the package, yet not in `internal/`: it builds public values
 * (`DpopKey`, `AccessToken`).
 */
import { DpopKey } from './dpop.js'
import { AuthCoreError, ErrorCode } from './errors.js'
import { type FetchLike, unwrapFetch } from './fetch-like.js'
import type { UrlFetch } from './internal/http.js'
import { TOKEN_TYPE_URNS } from './internal/protocol.js'
import { jwtExpiresAt } from './internal/subject-token.js'
import type { StoreSettings, TokenCache } from './internal/token-cache.js'
import type { IssuedToken } from './internal/token-request.js'
import type { SharedToken, TokenStore } from './internal/token-store-types.js'
import { isScopeToken, parseScope, scopeKey } from './scope.js'
import type { TokenProviderCommonOptions, TokenProviderEvent } from './token-provider-options.js'
import type { AccessToken, GetTokenOptions } from './token-provider-types.js'

export interface ResolvedCommon {
  now: () => number
  getFetch: () => UrlFetch
  refreshSkewMs: number
  dpop: DpopKey | undefined
  store: TokenStore | undefined
  storeSettings: StoreSettings
  onEvent: ((event: TokenProviderEvent) => void) | undefined
}

const STORE_METHODS = ['get', 'set', 'lock', 'unlock', 'waitFor', 'invalidate', 'onInvalidate'] as const

export function resolveCommon(options: TokenProviderCommonOptions): ResolvedCommon {
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" must be a function')
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw new TypeError('"fetch" must be a function')
  const fetch: FetchLike | undefined = options.fetch
  const skew = options.refreshSkewSeconds ?? 60
  if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0)
    throw new TypeError('"refreshSkewSeconds" option must be a non-negative finite number')
  const { store } = options
  if (store !== undefined) {
    if (
      typeof store !== 'object' ||
      store === null ||
      STORE_METHODS.some((m) => typeof store[m] !== 'function')
    )
      throw new TypeError('"store" must be a TokenStore')
  }
  const storeOptions = options.storeOptions ?? {}
  if (typeof storeOptions !== 'object' || storeOptions === null)
    throw new TypeError('"storeOptions" must be an object')
  const storeSettings: StoreSettings = {
    lockTtlMs: storeOptions.lockTtlMs,
    waitMs: storeOptions.waitMs,
    pollMs: storeOptions.pollMs,
    operationTimeoutMs: storeOptions.operationTimeoutMs,
    retryStoreAfterMs: storeOptions.retryStoreAfterMs,
  }
  for (const [name, value] of Object.entries(storeSettings)) {
    if (value !== undefined && (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)))
      throw new TypeError(`"storeOptions.${name}" option must be a positive number`)
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw new TypeError('"onEvent" must be a function')
  const onEvent = options.onEvent
  return {
    now,
    // Per call, so msw and auth fetches installed later are seen; never through an auth fetch.
    getFetch: () => unwrapFetch(fetch ?? globalThis.fetch),
    refreshSkewMs: skew * 1000,
    dpop: resolveDpop(options.dpop),
    store,
    storeSettings,
    // A listener that throws must not break the token path.
    onEvent:
      onEvent === undefined
        ? undefined
        : (event) => {
            try {
              onEvent(event)
            } catch {}
          },
  }
}

function resolveDpop(dpop: TokenProviderCommonOptions['dpop']): DpopKey | undefined {
  if (dpop === undefined || dpop === false) return undefined
  if (dpop === true) return new DpopKey()
  if (dpop instanceof DpopKey) return dpop
  if (typeof dpop === 'object' && dpop !== null) return new DpopKey(dpop)
  throw new TypeError('"dpop" must be a boolean, a DpopKey or DpopKey options')
}

/** The `AccessToken` of an issued token: frozen, with the DPoP key of a DPoP-bound one. */
export function accessTokenOf(
  issued: Pick<IssuedToken, 'value' | 'tokenType' | 'expiresAt' | 'scope'>,
  requestedScopes: readonly string[],
  dpop: DpopKey | undefined,
): AccessToken {
  return freezeToken(
    {
      value: issued.value,
      tokenType: issued.tokenType,
      expiresAt: issued.expiresAt,
      // RFC 6749 §5.1: without `scope`, the token has the requested scopes.
      scopes: issued.scope === undefined ? [...requestedScopes] : parseScope(issued.scope),
    },
    dpop,
  )
}

/** A token read from a store, made this provider's (a DPoP-bound one gets this provider's key). */
export function freezeToken(token: SharedToken, dpop: DpopKey | undefined): AccessToken {
  const out: { -readonly [K in keyof AccessToken]: AccessToken[K] } = {
    value: token.value,
    tokenType: token.tokenType,
    expiresAt: token.expiresAt,
    scopes: Object.freeze([...token.scopes]),
  }
  if (token.tokenType === 'DPoP' && dpop !== undefined) out.dpopKey = dpop
  return Object.freeze(out)
}

/** Store-key parameters that a DPoP key adds: replicas share a DPoP-bound token only with the same key. */
export async function dpopKeyParams(dpop: DpopKey | undefined): Promise<Record<string, string>> {
  return dpop === undefined ? {} : { dpop_jkt: await dpop.thumbprint() }
}

/** Scope tokens from a string or list, validated (RFC 6749 §3.3), distinct, in order. */
export function toScopeList(scope: string | readonly string[] | undefined, name: string): string[] {
  if (scope === undefined) return []
  if (typeof scope !== 'string' && !(Array.isArray(scope) && scope.every((s) => typeof s === 'string')))
    throw new TypeError(`"${name}" must be a string or a list of strings`)
  const tokens = parseScope(scope)
  if (!tokens.every(isScopeToken)) throw new TypeError(`"${name}" contains an invalid scope token`)
  return tokens
}

/** A string or list of strings as a list (`resource`). */
export function toList(value: string | readonly string[] | undefined, name: string): string[] | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') return [value]
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new TypeError(`"${name}" must be a string or a list of strings`)
  return [...value]
}

/** Validated extra form parameters, without the ones the provider sets itself. */
export function toExtraParams(
  extraParams: Readonly<Record<string, string>> | undefined,
  reserved: ReadonlySet<string>,
): [string, string][] {
  const extra = Object.entries(extraParams ?? {})
  for (const [key, value] of extra) {
    if (typeof value !== 'string') throw new TypeError(`"extraParams.${key}" must be a string`)
  }
  return extra.filter(([key]) => !reserved.has(key))
}

/** Scopes and their cache key: what a call asks for, merged with the configured ones. */
export interface ScopeSet {
  readonly scopes: readonly string[]
  readonly key: string
}

/**
 * The last step-up scope list seen (by identity), merged with the configured scopes: callers such
 * as the auth fetch pass the same array on every request, so it is validated, merged and sorted
 * once, not per request.
 */
export class StepUpScopes {
  readonly #base: ScopeSet
  #requested: readonly string[] | undefined
  #resolved: ScopeSet | undefined

  constructor(base: readonly string[]) {
    this.#base = { scopes: base, key: scopeKey(base) }
  }

  get baseKey(): string {
    return this.#base.key
  }

  /**
   * The scopes a call asks for (`GetTokenOptions.scopes`) merged with the configured ones, and
   * their cache key: the configured set without step-up scopes. The same object while the list
   * is the same (providers treat it as immutable), so the hot path allocates nothing.
   */
  of(requested: readonly string[] | undefined): ScopeSet {
    if (requested === undefined || requested.length === 0) return this.#base
    if (requested !== this.#requested || this.#resolved === undefined) {
      const merged = [...new Set([...this.#base.scopes, ...toScopeList(requested, 'scopes')])]
      this.#requested = requested
      this.#resolved = { scopes: merged, key: scopeKey(merged) }
    }
    return this.#resolved
  }
}

/** The cache key of a per-user provider's token: the digest of the user's token, and the scopes. */
export function userCacheKey(subjectDigest: string, scopesKey: string): string {
  return `${subjectDigest}:${scopesKey}`
}

/**
 * What `TokenProvider.cachedToken(options)` answers for a provider's `cache`: the token
 * `getToken(options)` would return at once, or `undefined` (an aborted signal included). `user`:
 * the digest of the user's token, for per-user providers.
 */
export function cachedTokenIn<T extends SharedToken>(
  cache: TokenCache<T>,
  stepUp: StepUpScopes,
  options: GetTokenOptions | undefined,
  user?: string,
): T | undefined {
  if (options?.signal?.aborted) return undefined
  const { key, scopes } = stepUp.of(options?.scopes)
  return cache.hit(user === undefined ? key : userCacheKey(user, key), scopes)
}

/** The subject token of a call, or the typed error that there is none. */
export function requireSubject(value: unknown, what: 'subjectToken' | 'idToken'): string {
  if (typeof value === 'string' && value !== '') return value
  throw new AuthCoreError(
    ErrorCode.SubjectTokenRequired,
    `a token for the user is needed: getToken({ ${what} }) (inside the user's context)`,
  )
}

/** Refuses a subject token that is a JWT past its `exp` (never sent, never cached against). */
export function assertSubjectValid(subject: string, now: number, what: string): number | undefined {
  const expiresAt = jwtExpiresAt(subject)
  if (expiresAt !== undefined && expiresAt <= now) {
    throw new AuthCoreError(ErrorCode.SubjectTokenExpired, `the user's ${what} has expired`)
  }
  return expiresAt
}

/** Users (subject tokens × scope sets) cached at most by a per-user provider, by default. */
export const MAX_CACHED_SUBJECTS = 1000

/** A positive integer option (a cache bound), or its default. */
export function maxEntriesOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new TypeError(`"${name}" option must be a positive integer`)
  return value
}

/**
 * A token type (RFC 8693 §3): a short name or the full URN (any absolute URI is taken as is).
 */
export type TokenTypeIdentifier = keyof typeof TOKEN_TYPE_URNS | 'id-jag' | (string & {})

/** The URN of a token type given by its short name or as a URI. */
export function tokenTypeUrn(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`"${name}" must be a token type`)
  if (value === 'id-jag') return TOKEN_TYPE_URNS.id_jag
  if (Object.hasOwn(TOKEN_TYPE_URNS, value)) return TOKEN_TYPE_URNS[value as keyof typeof TOKEN_TYPE_URNS]
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value)) return value
  throw new TypeError(
    `"${name}" must be access_token, id_token, jwt, refresh_token, saml2, id-jag or a token type URI`,
  )
}

/** An issued token whose expiry is at most `notAfter` (the subject token's), epoch ms. */
export function capExpiry<T extends { expiresAt: number }>(issued: T, notAfter: number | undefined): T {
  return notAfter === undefined || issued.expiresAt <= notAfter ? issued : { ...issued, expiresAt: notAfter }
}
