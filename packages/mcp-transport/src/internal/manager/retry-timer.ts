import { runAsService } from '../user-context-store.js'

/**
 * The one pending background attempt of a server: scheduled by the reconnect policy's delay,
 * cancelled on a new attempt or `close()`. Its timer is created outside any user context (so its
 * callback does not inherit one) and never keeps the process alive.
 */
export class RetryTimer {
  #timer: ReturnType<typeof setTimeout> | undefined
  #dueAt: number | undefined

  /** When the pending attempt is due, epoch ms (the manager's `now`). */
  get dueAt(): number | undefined {
    return this.#dueAt
  }

  /** Runs `attempt` after `delayMs` (replacing a pending one); `now` is the current time. */
  schedule(delayMs: number, now: number, attempt: () => void): void {
    this.cancel()
    this.#dueAt = now + delayMs
    const timer = runAsService(() =>
      setTimeout(() => {
        this.#timer = undefined
        attempt()
      }, delayMs),
    )
    // A pending retry must never keep the process (or a test run) alive.
    timer.unref?.()
    this.#timer = timer
  }

  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#dueAt = undefined
  }
}
