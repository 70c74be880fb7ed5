import { AuthCoreError, redactServerText } from '@mcp-oauth2/auth-core'
import type { SentCredentials } from '../fetch/sent-credentials.js'
import { currentUserContext, type StoredUserContext } from '../user-context-store.js'

/**
 * Errors that carry an MCP server's text (the SDKs put the body of an HTTP error response into
 * `Error POSTing to endpoint (HTTP 500): <body>`; a JSON-RPC error's `message` and `data` are the
 * server's) made safe before they become ours: every string in them is redacted by auth-core's
 * `redactServerText` (JWT-shaped strings, `Bearer …`, credential-named parameters) and the
 * credential values known to be in play, and length-capped (#13 item 11). A server that echoes
 * our `Authorization`, a user's `Cookie` or a static API-key header cannot get it into our
 * messages, `cause` chains, `util.inspect` output, events or the CLI's output.
 */

/** Characters of one server-provided string kept in a sanitized error (its message, a field). */
export const MAX_ERROR_TEXT = 512

/** Nested causes and fields followed at most; deeper ones are dropped. */
const MAX_DEPTH = 6
/** Entries of one array or object kept at most. */
const MAX_ENTRIES = 50

/** Sanitized copies, so that sanitizing one again returns it as it is. */
const sanitized = new WeakSet<object>()

/**
 * The credential values of a user context: the `Cookie` header, each `name=value` pair and each
 * value; every user header value; the subject and ID tokens.
 */
export function userContextSecrets(context: StoredUserContext | undefined): string[] {
  if (context === undefined) return []
  const out: string[] = []
  if (typeof context.cookie === 'string') {
    out.push(context.cookie)
    for (const part of context.cookie.split(';')) {
      const pair = part.trim()
      out.push(pair)
      const eq = pair.indexOf('=')
      if (eq < 0) continue
      const value = pair.slice(eq + 1).trim()
      out.push(value)
      if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) out.push(value.slice(1, -1))
    }
  }
  const headers = context.headers
  if (headers !== undefined) {
    const values = Array.isArray(headers)
      ? (headers as ReadonlyArray<readonly [string, string]>).map(([, value]) => value)
      : Object.values(headers as Record<string, string | readonly string[] | undefined>).flat()
    for (const value of values) if (typeof value === 'string') out.push(value)
  }
  if (context.subjectToken !== undefined) out.push(context.subjectToken)
  if (context.idToken !== undefined) out.push(context.idToken)
  return out
}

/** The secrets, each also as it appears inside a JSON string (a server echoing headers as JSON). */
function withJsonForms(secrets: Iterable<string | undefined>): string[] {
  const out: string[] = []
  for (const secret of secrets) {
    if (typeof secret !== 'string') continue
    out.push(secret)
    const json = JSON.stringify(secret).slice(1, -1)
    if (json !== secret) out.push(json)
  }
  return out
}

/**
 * `err` with the server's text made safe: an `Error` becomes a copy with the same prototype (so
 * `instanceof`, `name`, `code`, `status` still say what happened) whose message, stack header,
 * string fields, `data` and nested causes are redacted of `secrets` and of anything shaped like a
 * credential, each string cut at {@link MAX_ERROR_TEXT} characters. The original stays
 * unreachable. Errors of auth-core and of this package (`AuthCoreError`) are ours already, and
 * auth-core redacts the authorization server's text itself: they pass as they are.
 *
 * @example
 * ```ts
 * sanitizeError(new Error('Error POSTing to endpoint (HTTP 500): cookie sid=abc123'), ['abc123'])
 * // Error: Error POSTing to endpoint (HTTP 500): cookie sid=[redacted]
 * ```
 */
export function sanitizeError(err: unknown, secrets: Iterable<string | undefined>): unknown {
  const known = withJsonForms(secrets)
  return sanitizeValue(err, known, 0)
}

/**
 * One server's sanitizer: keeps its own secrets (static header values, client secrets), the
 * credentials sent on the service's behalf lately ({@link sent}) and the current user's cookies,
 * headers and tokens out of the errors the server hands out.
 */
export class ErrorSanitizer {
  readonly #secrets: readonly string[]
  /** Where the credentials sent on the service's behalf (connecting, listing) are noted. */
  readonly sent: SentCredentials = new Set()

  constructor(secrets: readonly string[]) {
    this.#secrets = [...secrets]
  }

  /** `err` safe to hand out; `sent`: what the failed operation sent (a user's token). */
  sanitize(err: unknown, sent?: Iterable<string>): unknown {
    return sanitizeError(err, [
      ...this.#secrets,
      ...this.sent,
      ...(sent ?? []),
      ...userContextSecrets(currentUserContext()),
    ])
  }
}

function redactText(text: string, secrets: readonly string[]): string {
  return redactServerText(text, { secrets, maxLength: MAX_ERROR_TEXT })
}

function sanitizeValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return redactText(value, secrets)
  if (typeof value === 'function') return undefined
  if (typeof value !== 'object' || value === null) return value
  if (depth > MAX_DEPTH) return undefined
  if (value instanceof Error) return sanitizeErrorObject(value, secrets, depth)
  if (Array.isArray(value))
    return value.slice(0, MAX_ENTRIES).map((v) => sanitizeValue(v, secrets, depth + 1))
  if (value instanceof Set)
    return new Set([...value].slice(0, MAX_ENTRIES).map((v) => sanitizeValue(v, secrets, depth + 1)))
  const copy: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value).slice(0, MAX_ENTRIES))
    copy[redactText(key, secrets)] = sanitizeValue(v, secrets, depth + 1)
  return copy
}

function sanitizeErrorObject(err: Error, secrets: readonly string[], depth: number): Error {
  if (err instanceof AuthCoreError || sanitized.has(err)) return err
  const original = safeString(() => err.message)
  const message = redactText(original, secrets)
  let copy: Error
  if (typeof DOMException !== 'undefined' && err instanceof DOMException) {
    // Its fields are internal slots: a copy by prototype would throw on `name`.
    copy = new DOMException(message, err.name)
  } else {
    copy = new Error(message)
    Object.setPrototypeOf(copy, Object.getPrototypeOf(err))
    for (const key of Reflect.ownKeys(err)) {
      if (key === 'message' || key === 'stack') continue
      const descriptor = Object.getOwnPropertyDescriptor(err, key)
      if (descriptor === undefined) continue
      let field: unknown
      try {
        field = 'value' in descriptor ? descriptor.value : descriptor.get?.call(err)
      } catch {
        continue
      }
      Object.defineProperty(copy, key, {
        value: sanitizeValue(field, secrets, depth + 1),
        enumerable: descriptor.enumerable === true,
        writable: true,
        configurable: true,
      })
    }
  }
  const name = safeString(() => copy.name) || 'Error'
  Object.defineProperty(copy, 'stack', {
    value: [
      `${name}: ${message}`,
      ...framesOf(
        safeString(() => err.stack),
        original,
      ),
    ].join('\n'),
    enumerable: false,
    writable: true,
    configurable: true,
  })
  sanitized.add(copy)
  return copy
}

/**
 * The stack frames of `stack`, after its header: the header holds the message (the server's text,
 * possibly over several lines), so only what follows the message, and only `at …` lines, is kept.
 */
function framesOf(stack: string, message: string): string[] {
  const at = message === '' ? stack.indexOf('\n') : stack.indexOf(message)
  if (at < 0) return []
  return stack
    .slice(at + message.length)
    .split('\n')
    .filter((line) => /^\s+at \S/.test(line))
}

function safeString(read: () => unknown): string {
  try {
    const value = read()
    return typeof value === 'string' ? value : ''
  } catch {
    return ''
  }
}
