/**
 * `JwtScopeVerifier`'s cache of verified tokens, keyed by the token itself (LRU, `cacheSize`
 * entries; `0` keeps none). An entry serves until the token's `exp` (with the clock tolerance)
 * and only while the key that verified it is one of the current keys.
 */
import type { KeyEntry, KeyStore } from './jwks.js'
import { LruCache } from './lru.js'

/** A verification result with the key that verified it. */
export interface CachedVerification<T> {
  readonly result: T
  readonly key: KeyEntry
  readonly keys: KeyStore
}

/** Verified tokens until they expire or their key goes. */
export class VerificationCache<T extends { readonly expiresAt: number }> {
  readonly #entries: LruCache<string, CachedVerification<T>>
  readonly #now: () => number
  readonly #toleranceS: number

  /** `now` in epoch milliseconds; `toleranceS` is the clock skew allowed on `exp`. */
  constructor(size: number, now: () => number, toleranceS: number) {
    this.#entries = new LruCache(size)
    this.#now = now
    this.#toleranceS = toleranceS
  }

  /** The result for `token` while it is still valid; a stale entry is dropped. */
  get(token: string): T | undefined {
    const cached = this.#entries.get(token)
    if (cached === undefined) return undefined
    if (this.#stillValid(cached)) return cached.result
    this.#entries.delete(token)
    return undefined
  }

  set(token: string, entry: CachedVerification<T>): void {
    this.#entries.set(token, entry)
  }

  #stillValid(entry: CachedVerification<T>): boolean {
    const nowS = Math.floor(this.#now() / 1000)
    return entry.result.expiresAt > nowS - this.#toleranceS && entry.keys.isCurrent(entry.key)
  }
}
