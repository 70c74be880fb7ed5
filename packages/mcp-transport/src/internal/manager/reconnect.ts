/** Background reconnection of servers that failed. */
export interface ReconnectOptions {
  /**
   * Delay before the first retry, in milliseconds; it doubles per failure (with jitter: each
   * delay is drawn between half and all of the nominal one).
   * @default 1000
   */
  initialDelayMs?: number | undefined
  /**
   * Upper bound of a retry delay, in milliseconds.
   * @default 60000
   */
  maxDelayMs?: number | undefined
  /**
   * Failed attempts after which a server is no longer retried (a later `connect()` tries again).
   * @default Infinity
   */
  maxAttempts?: number | undefined
}

/** A positive number option, or its default; a `TypeError` naming it otherwise. */
export function positiveOption(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0)
    throw new TypeError(`"${name}" must be a positive number`)
  return v
}

/**
 * When to try a failed server again: exponential backoff with equal jitter, up to `maxDelayMs`,
 * for at most `maxAttempts` failures.
 */
export class ReconnectPolicy {
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly maxAttempts: number
  readonly #random: () => number

  /** `random` draws the jitter, in [0, 1). */
  constructor(options: ReconnectOptions = {}, random: () => number = Math.random) {
    this.initialDelayMs = positiveOption(options.initialDelayMs, 1000, 'retry.initialDelayMs')
    this.maxDelayMs = positiveOption(options.maxDelayMs, 60_000, 'retry.maxDelayMs')
    this.maxAttempts = positiveOption(options.maxAttempts, Number.POSITIVE_INFINITY, 'retry.maxAttempts')
    if (this.maxDelayMs < this.initialDelayMs)
      throw new TypeError('"retry.maxDelayMs" must be >= "retry.initialDelayMs"')
    this.#random = random
  }

  /**
   * The delay before the next attempt after `attempts` consecutive failures, or `undefined`
   * when no attempt is due any more.
   */
  delayAfter(attempts: number): number | undefined {
    if (attempts >= this.maxAttempts) return undefined
    const nominal = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.max(0, attempts - 1))
    return Math.round(nominal / 2 + (this.#random() * nominal) / 2)
  }
}

/** The policy for the `retry` option; `undefined` when it is `false`. */
export function reconnectPolicy(retry: ReconnectOptions | false | undefined): ReconnectPolicy | undefined {
  return retry === false ? undefined : new ReconnectPolicy(retry)
}
