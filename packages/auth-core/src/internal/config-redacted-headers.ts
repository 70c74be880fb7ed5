/**
 * Static headers (`headers`, LiteLLM's `static_headers`) often hold an API key, so a parsed
 * configuration must not print them: `console.log(config)`, `util.inspect` and `JSON.stringify`
 * show `[redacted]` for every value. The record stays a plain `Record<string, string>` (the
 * transport reads, spreads and iterates it as one): only two non-enumerable members are added,
 * which `Object.keys`, `Object.entries` and spreading do not see.
 */
import { REDACTED } from './redact.js'

/** Node's `util.inspect.custom`, by its registered name (no `node:util` import: any runtime). */
const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** The names of `headers` with `[redacted]` for each value. */
function redactedView(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED]))
}

/**
 * Mark `headers` (a record built here, never the caller's) so that it prints and serialises with
 * its values redacted; property reads still return the values. Returns the same object.
 */
export function redactHeaderValues(headers: Record<string, string>): Record<string, string> {
  Object.defineProperty(headers, 'toJSON', {
    value: function toJSON(this: Record<string, string>) {
      return redactedView(this)
    },
    enumerable: false,
  })
  Object.defineProperty(headers, INSPECT, {
    value: function inspect(this: Record<string, string>) {
      return redactedView(this)
    },
    enumerable: false,
  })
  return headers
}
