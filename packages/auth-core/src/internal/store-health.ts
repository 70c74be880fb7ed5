/**
 * The health of one token store as its callers see it: up, or in an outage since a failed
 * operation. During an outage callers skip the store (they fetch on their own) except for one probe
 * every `retryAfterMs`; the first operation that succeeds ends the outage. One tracker per store
 * object, shared by every provider that uses it, so one outage gives one warning however many
 * providers notice it.
 */
export interface StoreHealth {
  /** Whether callers should skip the store now (an outage, and no probe is due). */
  skipping(now: number): boolean
  /** Records a failed operation; returns true when it starts an outage (time to warn, once). */
  failed(now: number, retryAfterMs: number): boolean
  /** Records a successful operation; returns the outage's length in ms when it ends one. */
  succeeded(now: number): number | undefined
}

class Tracker implements StoreHealth {
  #downSince: number | undefined
  #probeAt = 0

  skipping(now: number): boolean {
    return this.#downSince !== undefined && now < this.#probeAt
  }

  failed(now: number, retryAfterMs: number): boolean {
    this.#probeAt = now + retryAfterMs
    if (this.#downSince !== undefined) return false
    this.#downSince = now
    return true
  }

  succeeded(now: number): number | undefined {
    const since = this.#downSince
    if (since === undefined) return undefined
    this.#downSince = undefined
    this.#probeAt = 0
    return Math.max(0, now - since)
  }
}

const trackers = new WeakMap<object, StoreHealth>()

/** The health tracker of `store` (created on first use). */
export function storeHealth(store: object): StoreHealth {
  let tracker = trackers.get(store)
  if (tracker === undefined) {
    tracker = new Tracker()
    trackers.set(store, tracker)
  }
  return tracker
}
