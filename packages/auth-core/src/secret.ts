/** What every string conversion of a {@link Secret} shows. */
const REDACTED = '[redacted]'

/**
 * A value that must not be logged: a client secret, a private key.
 *
 * Every way of turning it into text — `String(secret)`, template literals, `JSON.stringify`,
 * Node's `util.inspect` / `console.log` — shows `[redacted]`. Code that needs the value calls
 * {@link Secret.reveal}, which makes each use easy to find in review.
 *
 * The value lives in a `#private` field, so it is not an own enumerable property: spreading,
 * `Object.keys`, `structuredClone` and deep-equality printers do not see it either.
 *
 * @example
 * ```ts
 * const secret = new Secret(process.env.CLIENT_SECRET!)
 * console.log({ secret })          // { secret: [redacted] }
 * JSON.stringify({ secret })       // '{"secret":"[redacted]"}'
 * const form = new URLSearchParams()
 * form.set('client_secret', secret.reveal())
 * ```
 */
export class Secret<T = string> {
  readonly #value: T

  constructor(value: T) {
    this.#value = value
  }

  /** Whether `value` is a {@link Secret} of this module (checked through the private field, not duck typing). */
  static isSecret(value: unknown): value is Secret<unknown> {
    return typeof value === 'object' && value !== null && #value in value
  }

  /** The wrapped value. Call it only where the value is sent or used, never to log it. */
  reveal(): T {
    return this.#value
  }

  /**
   * Whether both secrets hold the same value, compared in memory without exposing either.
   * Strings compare exactly; objects (e.g. a JWK) compare by their JSON with sorted keys.
   */
  equals(other: Secret<unknown>): boolean {
    const a = this.#value
    const b = other.reveal()
    if (typeof a === 'string' || typeof b === 'string') return a === b
    return canonicalJson(a) === canonicalJson(b)
  }

  /** `[redacted]` */
  toString(): string {
    return REDACTED
  }

  /** `[redacted]`, so `JSON.stringify` never shows the value. */
  toJSON(): string {
    return REDACTED
  }

  /** `[redacted]`, for template literals and `+`. */
  [Symbol.toPrimitive](): string {
    return REDACTED
  }

  /** `[redacted]`, for Node's `util.inspect` and `console.log` (no `node:util` import needed). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED
  }
}

/** JSON with object keys sorted, for comparing structured secrets (JWKs). Never logged. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key]
    return sorted
  })
}
