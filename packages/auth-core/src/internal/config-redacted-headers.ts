/**
 * Static headers (`headers`, LiteLLM's `static_headers`) often hold an API key, so a parsed
 * configuration must not print them: `console.log(config)`, `util.inspect` and `JSON.stringify`
 * show `[redacted]` for every value. The record stays a `Record<string, string>` whose own
 * properties are exactly its headers (the transport reads, spreads and iterates it, and
 * `new Headers(record)` takes it): `toJSON` and `util.inspect.custom` live on its prototype, so
 * no own key (above all no symbol key, which `new Headers()` refuses) is added.
 */
import { REDACTED } from './redact.js'

/** Node's `util.inspect.custom`, by its registered name (no `node:util` import: any runtime). */
const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** The names of `headers` with `[redacted]` for each value. */
function redactedView(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED]))
}

/** The prototype of every parsed static-headers record: `Object.prototype` plus the two views. */
const REDACTED_HEADERS_PROTOTYPE: object = Object.freeze(
  Object.create(Object.prototype, {
    toJSON: {
      value: function toJSON(this: Record<string, string>) {
        return redactedView(this)
      },
    },
    [INSPECT]: {
      value: function inspect(this: Record<string, string>) {
        return redactedView(this)
      },
    },
  }),
)

/**
 * A new record with the entries of `headers` that prints and serialises with its values
 * redacted; property reads still return the values.
 */
export function redactedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out = Object.create(REDACTED_HEADERS_PROTOTYPE) as Record<string, string>
  // defineProperty: a header named like an Object.prototype member still becomes an own value.
  for (const [name, value] of Object.entries(headers))
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true })
  return out
}
