/**
 * The shape of a shared token store, in an internal file so that internal/shared-token.ts can use
 * it without importing a public file. `src/token-store.ts` re-exports every name here; users see
 * them there.
 */

/** A token as a store holds it: the fields of an `AccessToken`. */
export interface SharedToken {
  /** The token itself. A store keeps it encrypted or in memory, never readable at rest. */
  readonly value: string
  /** `token_type`, e.g. `Bearer`. */
  readonly tokenType: string
  /** When the token expires, epoch milliseconds. */
  readonly expiresAt: number
  /** Scopes the token was granted. */
  readonly scopes: readonly string[]
}

/** What a store keeps under a cache key: the token and the point at which the fleet refreshes it. */
export interface SharedTokenEntry {
  readonly token: SharedToken
  /**
   * When to start refreshing, epoch milliseconds (before `token.expiresAt`). Written by the replica
   * that fetched the token, so every replica refreshes at the same point whatever its own clock
   * skew setting computed later.
   */
  readonly refreshAt: number
}

/** Per-operation options of a {@link TokenStore}. */
export interface TokenStoreOperationOptions {
  /** Abandons the caller's wait (the operation may still complete on the server). */
  signal?: AbortSignal | undefined
}

/** Options of {@link TokenStore.set}. */
export interface TokenStoreSetOptions extends TokenStoreOperationOptions {
  /**
   * The owner token of the lock the writer holds on this key: the write also releases that lock
   * (compare-and-delete: only if it still holds `owner`), in one step where the store can.
   */
  owner?: string | undefined
}

/** The answer of {@link TokenStore.lock}. */
export type TokenStoreLockResult =
  | { readonly acquired: true }
  | {
      readonly acquired: false
      /** How long the current holder's lock still lasts, milliseconds (an upper bound on the wait). */
      readonly expiresInMs: number
    }

/** A fleet-wide notice that a token was rejected (a 401 somewhere) and dropped from the store. */
export interface TokenInvalidation {
  /** The cache key whose token was dropped. */
  readonly key: string
  /**
   * Whether `value` is the token that was rejected. Notices carry no token value (only a keyed
   * fingerprint, or nothing at all), so a replica asks this of its local copy and drops it only
   * on a match: a token refreshed meanwhile survives.
   */
  matches(value: string): boolean
}

/**
 * A token cache shared by every replica of a gateway: the second tier behind each provider's
 * in-memory cache. The provider's hot path never calls it; a provider calls it on a local miss or
 * at its refresh point, through one bounded algorithm (read, lock, fetch or wait, write).
 *
 * Contract every implementation keeps, and that providers rely on:
 * - Every method settles: it resolves or rejects, and a failure (store down, slow, refusing
 *   authentication, evicted data) is a rejection, never a wrong answer. Callers bound each call in
 *   time as well and fall back to their own single-flight on any rejection, so a store must not
 *   retry for long on its own.
 * - Keys are opaque strings (see `tokenCacheKey`); a store may hash them further.
 * - A token is never returned after its `expiresAt`.
 * - Nothing a store writes outside the process shows a token value.
 */
export interface TokenStore {
  /** The entry under `key`, or `undefined` when there is none or it has expired. */
  get(key: string, options?: TokenStoreOperationOptions): Promise<SharedTokenEntry | undefined>

  /**
   * Stores `entry` under `key` until `entry.token.expiresAt`, replacing what was there, and wakes
   * every {@link waitFor} on `key` in the fleet. With `options.owner`, also releases that lock.
   */
  set(key: string, entry: SharedTokenEntry, options?: TokenStoreSetOptions): Promise<void>

  /**
   * Takes the fleet-wide lock of `key` for `ttlMs` with the owner token `owner` (a random value
   * unique to this attempt), if nobody holds it. A holder that crashes loses the lock by itself
   * when `ttlMs` has passed.
   */
  lock(
    key: string,
    owner: string,
    ttlMs: number,
    options?: TokenStoreOperationOptions,
  ): Promise<TokenStoreLockResult>

  /**
   * Releases the lock of `key` if `owner` still holds it (compare-and-delete: a lock that expired
   * and went to another replica stays theirs) and wakes every {@link waitFor} on `key`. Resolves
   * whether it released.
   */
  unlock(key: string, owner: string, options?: TokenStoreOperationOptions): Promise<boolean>

  /**
   * Resolves `true` when a {@link set} or {@link unlock} of `key` happens anywhere in the fleet,
   * `false` after `timeoutMs` or on `options.signal`. Listening starts synchronously, when this is
   * called: a write that happens after the call returns wakes it, so a caller calls this first and
   * then reads. Notices may be lost (the store's subscription may be reconnecting): callers wait
   * in short slices and read again.
   */
  waitFor(key: string, timeoutMs: number, options?: TokenStoreOperationOptions): Promise<boolean>

  /**
   * Drops the token under `key` if its value is `rejected` (compare-and-swap: a token written
   * meanwhile survives) and, when it dropped one, tells every replica once (see
   * {@link onInvalidate}). Resolves whether it dropped one.
   */
  invalidate(key: string, rejected: string, options?: TokenStoreOperationOptions): Promise<boolean>

  /**
   * Calls `listener` for every fleet-wide invalidation, this replica's own included. Returns the
   * function that stops it. A listener must not throw (a throw is ignored).
   */
  onInvalidate(listener: (notice: TokenInvalidation) => void): () => void
}
