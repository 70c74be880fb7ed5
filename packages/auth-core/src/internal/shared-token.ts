/**
 * Fleet-wide single-flight over a {@link TokenStore}: what a token provider runs on a local cache
 * miss or at its refresh point (inside its own per-process single-flight, so one call per process
 * and cache key at a time).
 *
 * 1. Read the store. A fresh entry (before its `refreshAt`) is the answer.
 * 2. Otherwise take the fleet lock (owner token, expiry). The holder reads once more (another
 *    replica may have just written), fetches from the authorization server, writes the entry
 *    (which releases the lock and wakes the waiters) and returns it.
 * 3. A replica that does not get the lock returns the stored token if it is still valid (the
 *    refresh window: nobody waits while a valid token exists) and otherwise waits for the
 *    holder's write, in short slices, reading after each, and tries the lock again when the
 *    holder's lock ends (a crashed holder's lock expires by itself); for at most `waitMs`, then it
 *    fetches on its own.
 * 4. Any store failure or timeout, at any step, falls back to fetching on its own: the call never
 *    fails because of the store. The first failure starts an outage (one `token_store_unavailable`
 *    event); during the outage the store is skipped except for one probe every
 *    `retryStoreAfterMs`; the first success ends it (one `token_store_recovered` event).
 *
 * Errors of `fetchToken` (the authorization server's) pass through unchanged.
 */
import { storeHealth } from './store-health.js'
import type { SharedTokenEntry, TokenStore } from './token-store-types.js'

/** Events of the shared path, for the provider's `onEvent`. They never carry a token or secret. */
export type SharedTokenEvent =
  | {
      readonly type: 'token_store_unavailable'
      /** The failing operation. */
      readonly operation: StoreOperation
      /** The store error's `code` (e.g. `ERR_REDIS_TIMEOUT`), else its name. */
      readonly code: string
    }
  | {
      readonly type: 'token_store_recovered'
      /** How long the outage lasted, milliseconds (by the injected clock). */
      readonly outageMs: number
    }

/** An operation of the store, as named in events. */
export type StoreOperation = 'get' | 'set' | 'lock' | 'unlock' | 'waitFor' | 'invalidate'

/** Options of {@link fetchShared} and {@link invalidateShared}. */
export interface SharedTokenOptions {
  /**
   * How long the fleet lock lasts if its holder never releases it (a crash), milliseconds. Make it
   * longer than a token request can take, retries included.
   * @default 30000
   */
  lockTtlMs?: number | undefined
  /**
   * How long a replica waits for the lock holder's token before fetching on its own, milliseconds.
   * @default 15000
   */
  waitMs?: number | undefined
  /**
   * The longest wait between two reads while waiting (notices of the holder's write may be lost),
   * milliseconds.
   * @default 1000
   */
  pollMs?: number | undefined
  /**
   * Deadline of every store operation, milliseconds; past it the operation counts as failed.
   * @default 1000
   */
  operationTimeoutMs?: number | undefined
  /**
   * During an outage, how often one call probes the store again, milliseconds.
   * @default 5000
   */
  retryStoreAfterMs?: number | undefined
  /**
   * Clock, epoch milliseconds (freshness of entries, outage bookkeeping).
   * @default Date.now
   */
  now?: (() => number) | undefined
  /** Receives `token_store_unavailable` once per outage and `token_store_recovered` after it. */
  onEvent?: ((event: SharedTokenEvent) => void) | undefined
  /** A token value known to be rejected: a stored entry holding it counts as absent. */
  rejected?: string | undefined
  /**
   * Makes the lock's owner token.
   * @default crypto.randomUUID
   */
  owner?: (() => string) | undefined
}

/** What {@link fetchShared} answers. */
export interface SharedTokenResult {
  readonly entry: SharedTokenEntry
  /**
   * `store`: read from the store (another replica fetched it); `fetched`: this replica held the
   * lock and fetched it; `local`: fetched on its own (store failing or skipped, or the wait ran out).
   */
  readonly source: 'store' | 'fetched' | 'local'
  /**
   * Set when the entry is in its refresh window and another replica is refreshing it: the entry is
   * still valid; ask again (call {@link fetchShared}) no earlier than this, epoch milliseconds.
   */
  readonly recheckAt?: number | undefined
}

interface Resolved {
  lockTtlMs: number
  waitMs: number
  pollMs: number
  operationTimeoutMs: number
  retryStoreAfterMs: number
  now: () => number
  onEvent: ((event: SharedTokenEvent) => void) | undefined
  rejected: string | undefined
  owner: () => string
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
    throw new TypeError(`"${name}" option must be a positive number`)
  return v
}

function resolve(options: SharedTokenOptions): Resolved {
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" option must be a function')
  const owner = options.owner ?? (() => crypto.randomUUID())
  if (typeof owner !== 'function') throw new TypeError('"owner" option must be a function')
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw new TypeError('"onEvent" option must be a function')
  return {
    lockTtlMs: positive(options.lockTtlMs, 30_000, 'lockTtlMs'),
    waitMs: positive(options.waitMs, 15_000, 'waitMs'),
    pollMs: positive(options.pollMs, 1_000, 'pollMs'),
    operationTimeoutMs: positive(options.operationTimeoutMs, 1_000, 'operationTimeoutMs'),
    retryStoreAfterMs: positive(options.retryStoreAfterMs, 5_000, 'retryStoreAfterMs'),
    now,
    onEvent: options.onEvent,
    rejected: options.rejected,
    owner,
  }
}

/** A store operation failed or ran out of time; the shared path falls back. Never leaves here. */
class StoreFailure extends Error {
  readonly operation: StoreOperation
  readonly code: string

  constructor(operation: StoreOperation, code: string) {
    super(`token store ${operation} failed: ${code}`)
    this.operation = operation
    this.code = code
  }
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code !== '') return code
    const name = (error as { name?: unknown }).name
    if (typeof name === 'string' && name !== '') return name
  }
  return 'ERR_TOKEN_STORE'
}

function emit(options: Resolved, event: SharedTokenEvent): void {
  if (options.onEvent === undefined) return
  try {
    options.onEvent(event)
  } catch {}
}

/** Runs store operations under a deadline and keeps the store's health up to date. */
class Session {
  readonly #store: TokenStore
  readonly #options: Resolved

  constructor(store: TokenStore, options: Resolved) {
    this.#store = store
    this.#options = options
  }

  get store(): TokenStore {
    return this.#store
  }

  /** Whether the store is in an outage and no probe is due: skip it. */
  skipping(): boolean {
    return storeHealth(this.#store).skipping(this.#options.now())
  }

  /**
   * `run(signal)` bounded by `timeoutMs` (default: the operation deadline). Rejects with a
   * {@link StoreFailure} on a rejection or the deadline.
   */
  op<T>(
    operation: StoreOperation,
    run: (signal: AbortSignal) => Promise<T>,
    timeoutMs = this.#options.operationTimeoutMs,
  ): Promise<T> {
    const controller = new AbortController()
    return new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        controller.abort()
        reject(this.#failed(operation, 'ERR_TOKEN_STORE_TIMEOUT'))
      }, timeoutMs)
      let started: Promise<T>
      try {
        started = Promise.resolve(run(controller.signal))
      } catch (error) {
        started = Promise.reject(error)
      }
      started.then(
        (value) => {
          clearTimeout(timer)
          if (controller.signal.aborted) return
          this.#succeeded()
          resolvePromise(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          if (controller.signal.aborted) return
          reject(this.#failed(operation, codeOf(error)))
        },
      )
    })
  }

  /** An operation whose outcome does not matter to the caller (release, notify): bounded, never rejects. */
  background(operation: StoreOperation, run: (signal: AbortSignal) => Promise<unknown>): void {
    this.op(operation, run).catch(() => {})
  }

  #failed(operation: StoreOperation, code: string): StoreFailure {
    const options = this.#options
    if (storeHealth(this.#store).failed(options.now(), options.retryStoreAfterMs)) {
      emit(options, { type: 'token_store_unavailable', operation, code })
    }
    return new StoreFailure(operation, code)
  }

  #succeeded(): void {
    const outageMs = storeHealth(this.#store).succeeded(this.#options.now())
    if (outageMs !== undefined) emit(this.#options, { type: 'token_store_recovered', outageMs })
  }
}

/**
 * Gets the token for `key` through the shared store with fleet-wide single-flight (see the module
 * comment), fetching with `fetchToken` when this replica holds the lock or has to fall back.
 *
 * @example
 * ```ts
 * const { entry } = await fetchShared(store, key, () => requestTokenFromAuthorizationServer(), {
 *   onEvent: (event) => log.warn(event),
 * })
 * ```
 */
export async function fetchShared(
  store: TokenStore,
  key: string,
  fetchToken: () => Promise<SharedTokenEntry>,
  options: SharedTokenOptions = {},
): Promise<SharedTokenResult> {
  const resolved = resolve(options)
  const session = new Session(store, resolved)
  if (session.skipping()) return { entry: await fetchToken(), source: 'local' }
  let owner: string | undefined
  try {
    return await shared(session, key, fetchToken, resolved, (value) => {
      owner = value
    })
  } catch (error) {
    if (!(error instanceof StoreFailure)) throw error
    // The store failed before this replica fetched: fetch on our own. A lock we took expires by
    // itself; release it anyway in case the store is back.
    if (owner !== undefined) {
      const held = owner
      session.background('unlock', (signal) => store.unlock(key, held, { signal }))
    }
    return { entry: await fetchToken(), source: 'local' }
  }
}

async function shared(
  session: Session,
  key: string,
  fetchToken: () => Promise<SharedTokenEntry>,
  options: Resolved,
  tookLock: (owner: string) => void,
): Promise<SharedTokenResult> {
  const store = session.store
  const { now, rejected } = options
  const usable = (entry: SharedTokenEntry | undefined): entry is SharedTokenEntry =>
    entry !== undefined && entry.token.value !== rejected && now() < entry.token.expiresAt
  const fresh = (entry: SharedTokenEntry | undefined): entry is SharedTokenEntry =>
    usable(entry) && now() < entry.refreshAt
  const read = () => session.op('get', (signal) => store.get(key, { signal }))

  let entry = await read()
  if (fresh(entry)) return { entry, source: 'store' }
  const deadline = now() + options.waitMs
  for (;;) {
    const owner = options.owner()
    const lock = await session.op('lock', (signal) => store.lock(key, owner, options.lockTtlMs, { signal }))
    if (lock.acquired) {
      tookLock(owner)
      const again = await read()
      if (fresh(again)) {
        session.background('unlock', (signal) => store.unlock(key, owner, { signal }))
        return { entry: again, source: 'store' }
      }
      let fetched: SharedTokenEntry
      try {
        fetched = await fetchToken()
      } catch (error) {
        // Wake the waiters now rather than at the lock's expiry: one of them tries next.
        session.background('unlock', (signal) => store.unlock(key, owner, { signal }))
        throw error
      }
      try {
        await session.op('set', (signal) => store.set(key, fetched, { owner, signal }))
      } catch {
        // The token is ours whatever the store did; the failure is recorded.
      }
      return { entry: fetched, source: 'fetched' }
    }
    // Another replica is fetching. A still-valid token is served meanwhile.
    if (usable(entry)) {
      return { entry, source: 'store', recheckAt: now() + Math.min(lock.expiresInMs, options.pollMs) }
    }
    const remaining = deadline - now()
    if (remaining <= 0) return { entry: await fetchToken(), source: 'local' }
    const slice = Math.max(1, Math.min(remaining, lock.expiresInMs, options.pollMs))
    const controller = new AbortController()
    // Listen first, then read: a write between the two still wakes us.
    const waiting = session.op(
      'waitFor',
      (signal) => {
        signal.addEventListener('abort', () => controller.abort(), { once: true })
        return store.waitFor(key, slice, { signal: controller.signal })
      },
      slice + options.operationTimeoutMs,
    )
    waiting.catch(() => {})
    try {
      entry = await read()
    } catch (error) {
      controller.abort()
      throw error
    }
    if (fresh(entry)) {
      controller.abort()
      return { entry, source: 'store' }
    }
    await waiting
    entry = await read()
    if (fresh(entry)) return { entry, source: 'store' }
  }
}

/**
 * Drops `rejected` from the shared store for `key` (compare-and-swap; the store tells the other
 * replicas once), bounded in time. Resolves whether the store dropped it; a failing store resolves
 * `false` (and counts towards its outage), never rejects.
 */
export async function invalidateShared(
  store: TokenStore,
  key: string,
  rejected: string,
  options: SharedTokenOptions = {},
): Promise<boolean> {
  const session = new Session(store, resolve(options))
  if (session.skipping()) return false
  try {
    return await session.op('invalidate', (signal) => store.invalidate(key, rejected, { signal }))
  } catch {
    return false
  }
}
