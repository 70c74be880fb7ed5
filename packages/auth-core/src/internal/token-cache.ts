/**
 * The cache every token provider keeps, keyed by what identifies one token (a scope set; for
 * per-user providers, a digest of the subject token and the scopes):
 *
 * - the hot path ({@link TokenCache.hit}) is one map lookup and a clock read: no I/O, no store,
 *   no allocation when nobody observes the diagnostics channel;
 * - a token is refreshed `refreshSkewMs` before expiry (clamped to half its lifetime); inside the
 *   refresh window the valid token is served at once and the refresh runs behind it; a refresh
 *   that fails keeps the valid token (and is not retried on every call);
 * - concurrent callers of one key share one request (single flight), and a caller's abort ends
 *   only its own wait;
 * - at most `maxEntries` keys are kept; expired entries and then the least recently fetched go;
 * - with a {@link TokenStore}, a miss or a refresh goes through `fetchShared` (fleet-wide single
 *   flight, falling back to this replica's own request on any store trouble), `invalidate` is
 *   compare-and-swap here and then across the fleet, and the fleet's invalidation notices drop
 *   the matching local token.
 */
import { publishTokenCache, type TokenRequestContext, tokenCacheObserved } from './diagnostics.js'
import {
  fetchShared,
  invalidateShared,
  type SharedTokenEvent,
  type SharedTokenOptions,
} from './shared-token.js'
import type { SharedToken, SharedTokenEntry, TokenInvalidation, TokenStore } from './token-store-types.js'

/** How long a still-valid cached token is served without a new refresh attempt after a failed one. */
export const REFRESH_FAILURE_COOLDOWN_MS = 5_000

/** Store settings a provider passes on to `fetchShared`. */
export type StoreSettings = Pick<
  SharedTokenOptions,
  'lockTtlMs' | 'waitMs' | 'pollMs' | 'operationTimeoutMs' | 'retryStoreAfterMs'
>

export interface TokenCacheOptions<T extends SharedToken> {
  /** The grant, as named on the diagnostics channels. */
  grant: string
  now: () => number
  refreshSkewMs: number
  maxEntries: number
  store: TokenStore | undefined
  storeSettings: StoreSettings
  onEvent: ((event: SharedTokenEvent) => void) | undefined
  /** Makes a token read from the store this provider's own (attaches what cannot be stored). */
  adopt: (token: SharedToken) => T
}

/** How to get the token of one key; built by the provider on a miss only. */
export interface TokenSource<T extends SharedToken> {
  /** Scopes of the token (diagnostics). */
  readonly scopes: readonly string[]
  /** The key of this token in the store (computed at most once per key). */
  storeKey(): Promise<string>
  /** Requests the token from the authorization server. */
  fetch(reason: TokenRequestContext['reason']): Promise<T>
  /** Whether a miss is a step-up (a scope set beyond the configured one). */
  readonly stepUp?: boolean | undefined
}

interface Entry<T> {
  token: T
  /** When to start refreshing, epoch ms. */
  refreshAt: number
  /** After a failed refresh, don't start another one before this, epoch ms. */
  retryAt: number
  /** Another replica is refreshing: serve this token without asking again until then, epoch ms. */
  recheckAt: number
}

/** Store keys remembered per local key; and the way back, for the fleet's notices. */
interface StoreKeys {
  readonly byKey: Map<string, Promise<string>>
  readonly byStoreKey: Map<string, string>
}

export class TokenCache<T extends SharedToken> {
  readonly #options: TokenCacheOptions<T>
  readonly #entries = new Map<string, Entry<T>>()
  readonly #inflight = new Map<string, Promise<T>>()
  /** Keys whose token was rejected (a 401) and dropped, with the rejected value, until a new one arrives. */
  readonly #rejected = new Map<string, string>()
  readonly #storeKeys: StoreKeys = { byKey: new Map(), byStoreKey: new Map() }
  #listening = false

  constructor(options: TokenCacheOptions<T>) {
    this.#options = options
  }

  /** Token values held (scrubbed from what servers say). */
  *values(): Iterable<string> {
    for (const entry of this.#entries.values()) yield entry.token.value
  }

  /**
   * The hot path: the cached token of `key` when it needs no refresh (before its refresh point, or
   * while another replica refreshes it), else `undefined`. No I/O.
   */
  hit(key: string, scopes: readonly string[]): T | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    const now = this.#options.now()
    if (now < entry.refreshAt || (now < entry.recheckAt && now < entry.token.expiresAt)) {
      if (tokenCacheObserved())
        publishTokenCache(() => ({ grant: this.#options.grant, result: 'hit', scopes }))
      return entry.token
    }
    return undefined
  }

  /**
   * What follows a {@link hit} that missed: a still-valid token in its refresh window is served and
   * refreshed behind it; otherwise the caller waits for the (shared) request.
   */
  obtain(key: string, source: TokenSource<T>, signal: AbortSignal | undefined): Promise<T> {
    const entry = this.#entries.get(key)
    const now = this.#options.now()
    if (entry !== undefined && now < entry.token.expiresAt) {
      if (now >= entry.retryAt) this.#refreshInBackground(key, source, entry)
      if (tokenCacheObserved())
        publishTokenCache(() => ({ grant: this.#options.grant, result: 'hit', scopes: source.scopes }))
      return Promise.resolve(entry.token)
    }
    if (tokenCacheObserved())
      publishTokenCache(() => ({ grant: this.#options.grant, result: 'miss', scopes: source.scopes }))
    const reason: TokenRequestContext['reason'] =
      entry !== undefined
        ? 'expired'
        : this.#rejected.has(key)
          ? 'invalidated'
          : source.stepUp
            ? 'step_up'
            : 'cold'
    return wait(this.#shared(key, source, reason), signal)
  }

  /**
   * Drops cached tokens. With `rejected`, only a token whose value it is (compare-and-swap: a token
   * refreshed meanwhile survives), and then the same across the fleet; without, every token here.
   */
  invalidate(rejected?: string): void {
    if (rejected === undefined) {
      this.#entries.clear()
      return
    }
    for (const [key, entry] of this.#entries) {
      if (entry.token.value !== rejected) continue
      this.#entries.delete(key)
      this.#rejected.set(key, rejected)
      const store = this.#options.store
      const storeKey = this.#storeKeys.byKey.get(key)
      if (store !== undefined && storeKey !== undefined) {
        storeKey.then(
          (k) => invalidateShared(store, k, rejected, this.#sharedOptions(undefined)),
          () => {},
        )
      }
    }
  }

  /** Drops `key`'s token (a subject whose own token expired, a failed second leg). */
  drop(key: string): void {
    this.#entries.delete(key)
  }

  #refreshInBackground(key: string, source: TokenSource<T>, cached: Entry<T>): void {
    if (this.#inflight.has(key)) return
    this.#shared(key, source, 'refresh').catch(() => {
      // The old token keeps serving; no new attempt for a while (not one per call).
      if (this.#entries.get(key) === cached)
        cached.retryAt = this.#options.now() + REFRESH_FAILURE_COOLDOWN_MS
    })
  }

  #shared(key: string, source: TokenSource<T>, reason: TokenRequestContext['reason']): Promise<T> {
    let flight = this.#inflight.get(key)
    if (flight === undefined) {
      const store = this.#options.store
      flight = (
        store === undefined ? this.#local(source, reason) : this.#fromStore(store, key, source, reason)
      )
        .then((entry) => {
          this.#rejected.delete(key)
          this.#put(key, entry)
          return entry.token
        })
        .finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, flight)
    }
    return flight
  }

  async #local(source: TokenSource<T>, reason: TokenRequestContext['reason']): Promise<Entry<T>> {
    const token = await source.fetch(reason)
    return { token, refreshAt: this.#refreshAt(token), retryAt: 0, recheckAt: 0 }
  }

  async #fromStore(
    store: TokenStore,
    key: string,
    source: TokenSource<T>,
    reason: TokenRequestContext['reason'],
  ): Promise<Entry<T>> {
    const storeKey = await this.#storeKey(store, key, source)
    let fetched: T | undefined
    const result = await fetchShared(
      store,
      storeKey,
      async (): Promise<SharedTokenEntry> => {
        const token = await source.fetch(reason)
        fetched = token
        return { token, refreshAt: this.#refreshAt(token) }
      },
      this.#sharedOptions(this.#rejected.get(key)),
    )
    const { entry } = result
    // The token this replica fetched keeps what the store cannot hold (a DPoP key); one read from
    // the store is adopted.
    const token =
      fetched !== undefined && entry.token === fetched ? fetched : this.#options.adopt(entry.token)
    if (result.source === 'store' && tokenCacheObserved())
      publishTokenCache(() => ({ grant: this.#options.grant, result: 'shared', scopes: source.scopes }))
    return { token, refreshAt: entry.refreshAt, retryAt: 0, recheckAt: result.recheckAt ?? 0 }
  }

  #storeKey(store: TokenStore, key: string, source: TokenSource<T>): Promise<string> {
    const { byKey, byStoreKey } = this.#storeKeys
    let storeKey = byKey.get(key)
    if (storeKey === undefined) {
      storeKey = source.storeKey()
      byKey.set(key, storeKey)
      storeKey.then(
        (k) => {
          byStoreKey.set(k, key)
          this.#listen(store)
        },
        () => {
          // Discovery failed: the next miss computes it again.
          if (byKey.get(key) === storeKey) byKey.delete(key)
        },
      )
    }
    return storeKey
  }

  /**
   * One listener per cache for the fleet's invalidations. It holds the cache weakly: a provider
   * that is dropped is collected, and its listener removes itself at the next notice.
   */
  #listen(store: TokenStore): void {
    if (this.#listening) return
    this.#listening = true
    const ref = new WeakRef(this)
    let stop: (() => void) | undefined
    let stopped = false
    stop = store.onInvalidate((notice) => {
      const cache = ref.deref()
      if (cache === undefined) {
        stopped = true
        stop?.()
        return
      }
      cache.#onNotice(notice)
    })
    if (stopped) stop()
  }

  #onNotice(notice: TokenInvalidation): void {
    const key = this.#storeKeys.byStoreKey.get(notice.key)
    if (key === undefined) return
    const entry = this.#entries.get(key)
    if (entry !== undefined && notice.matches(entry.token.value)) {
      this.#entries.delete(key)
      this.#rejected.set(key, entry.token.value)
    }
  }

  #sharedOptions(rejected: string | undefined): SharedTokenOptions {
    return {
      ...this.#options.storeSettings,
      now: this.#options.now,
      onEvent: this.#options.onEvent,
      rejected,
    }
  }

  #refreshAt(token: SharedToken): number {
    const lifetime = token.expiresAt - this.#options.now()
    const skew = Math.min(this.#options.refreshSkewMs, Math.max(0, lifetime) / 2)
    return token.expiresAt - skew
  }

  /** Cache an entry; expired entries go, and the cache holds at most `maxEntries` keys. */
  #put(key: string, entry: Entry<T>): void {
    const now = this.#options.now()
    for (const [k, e] of this.#entries) if (e.token.expiresAt <= now) this.#entries.delete(k)
    this.#entries.delete(key) // re-insert: Map order is the eviction order
    this.#entries.set(key, entry)
    while (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined || oldest === key) break
      this.#entries.delete(oldest)
      this.#forget(oldest)
    }
    if (this.#storeKeys.byKey.size > this.#options.maxEntries * 2) this.#trimStoreKeys()
  }

  #forget(key: string): void {
    const storeKey = this.#storeKeys.byKey.get(key)
    this.#storeKeys.byKey.delete(key)
    this.#rejected.delete(key)
    storeKey?.then(
      (k) => {
        if (this.#storeKeys.byStoreKey.get(k) === key) this.#storeKeys.byStoreKey.delete(k)
      },
      () => {},
    )
  }

  #trimStoreKeys(): void {
    for (const key of [...this.#storeKeys.byKey.keys()]) {
      if (!this.#entries.has(key) && !this.#inflight.has(key)) this.#forget(key)
    }
  }
}

/** `promise`, or the signal's reason when the caller aborts first (the request keeps running). */
export function wait<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
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
