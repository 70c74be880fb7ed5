import type {
  SharedTokenEntry,
  TokenInvalidation,
  TokenStore,
  TokenStoreLockResult,
  TokenStoreOperationOptions,
  TokenStoreSetOptions,
} from '@mcp-oauth2/auth-core'

/** A token store that can be closed (`RedisTokenStore`). */
export type ClosableTokenStore = TokenStore & { close?(): Promise<void> }

/**
 * A token store loaded on first use (the manager's `fromConfig` is synchronous; the store's
 * package is an optional peer, imported dynamically). Every operation waits for the load and
 * then delegates; a load that failed fails every operation, which the token providers treat as a
 * store outage: they fetch on their own and report it once. Invalidation listeners registered
 * before the load are attached when it completes.
 */
export class LazyTokenStore implements TokenStore {
  readonly #loading: Promise<ClosableTokenStore>
  #store: ClosableTokenStore | undefined
  readonly #listeners = new Map<(notice: TokenInvalidation) => void, (() => void) | undefined>()
  #closed = false

  constructor(load: () => Promise<ClosableTokenStore>) {
    this.#loading = load().then((store) => {
      this.#store = store
      if (this.#closed) void store.close?.().catch(() => {})
      for (const listener of this.#listeners.keys())
        this.#listeners.set(listener, store.onInvalidate(listener))
      return store
    })
    // A failed load is reported by the first operation (and `ready`), never as an unhandled rejection.
    this.#loading.catch(() => {})
  }

  /** Resolves when the store is loaded; rejects with the load's error. */
  get ready(): Promise<ClosableTokenStore> {
    return this.#loading
  }

  get(key: string, options?: TokenStoreOperationOptions): Promise<SharedTokenEntry | undefined> {
    return this.#loading.then((s) => s.get(key, options))
  }

  set(key: string, entry: SharedTokenEntry, options?: TokenStoreSetOptions): Promise<void> {
    return this.#loading.then((s) => s.set(key, entry, options))
  }

  lock(
    key: string,
    owner: string,
    ttlMs: number,
    options?: TokenStoreOperationOptions,
  ): Promise<TokenStoreLockResult> {
    return this.#loading.then((s) => s.lock(key, owner, ttlMs, options))
  }

  unlock(key: string, owner: string, options?: TokenStoreOperationOptions): Promise<boolean> {
    return this.#loading.then((s) => s.unlock(key, owner, options))
  }

  waitFor(key: string, timeoutMs: number, options?: TokenStoreOperationOptions): Promise<boolean> {
    return this.#loading.then((s) => s.waitFor(key, timeoutMs, options))
  }

  invalidate(key: string, rejected: string, options?: TokenStoreOperationOptions): Promise<boolean> {
    return this.#loading.then((s) => s.invalidate(key, rejected, options))
  }

  onInvalidate(listener: (notice: TokenInvalidation) => void): () => void {
    this.#listeners.set(listener, this.#store?.onInvalidate(listener))
    return () => {
      this.#listeners.get(listener)?.()
      this.#listeners.delete(listener)
    }
  }

  /** Closes the store once it is loaded (at once when it is). */
  async close(): Promise<void> {
    this.#closed = true
    const store = this.#store
    if (store) await store.close?.()
  }
}
