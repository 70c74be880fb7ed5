import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * A user context as stored: a frozen snapshot, so nothing the caller does to its own objects
 * after `withUserContext` started can change what an in-flight request sends.
 */
export interface StoredUserContext {
  readonly cookie?: string | null | undefined
  readonly headers?:
    | ReadonlyArray<readonly [string, string]>
    | Readonly<Record<string, string | readonly string[] | undefined>>
    | undefined
  readonly userId?: string | undefined
  /** The user's token for the user token provider (non-enumerable: never printed). */
  readonly subjectToken?: string | undefined
  /** The user's ID token for the user token provider (non-enumerable: never printed). */
  readonly idToken?: string | undefined
}

/** What {@link storeUserContext} is given: the checked, copied fields of a user context. */
export interface UserContextFields {
  readonly cookie: string | null | undefined
  readonly headers: StoredUserContext['headers']
  readonly userId: string | undefined
  readonly subjectToken: string | undefined
  readonly idToken: string | undefined
}

const REDACTED = '[redacted]'

/** What a user context shows of itself: who, and which names; never a value of a credential. */
function describe(context: StoredUserContext): Record<string, unknown> {
  const shown: Record<string, unknown> = {}
  if (context.userId !== undefined) shown['userId'] = context.userId
  if (typeof context.cookie === 'string') shown['cookie'] = REDACTED
  const headers = context.headers
  if (headers !== undefined) {
    shown['headers'] = Array.isArray(headers)
      ? (headers as ReadonlyArray<readonly [string, string]>).map(([name]) => name)
      : Object.keys(headers)
  }
  if (context.subjectToken !== undefined) shown['subjectToken'] = REDACTED
  if (context.idToken !== undefined) shown['idToken'] = REDACTED
  return shown
}

/**
 * The frozen context `withUserContext` runs in. Cookie, headers and user id are plain fields (the
 * pipeline and the manager read them); the user's tokens are private, read through getters, so
 * spreading, `Object.keys` and test matchers do not see them. `util.inspect` and
 * `JSON.stringify` show the user id and the names of cookies and headers only: no cookie, header
 * or token value. A class, so that making one per call stays as cheap as a frozen literal.
 */
class UserContextRecord implements StoredUserContext {
  readonly cookie: string | null | undefined
  readonly headers: StoredUserContext['headers']
  declare readonly userId?: string | undefined
  readonly #subjectToken: string | undefined
  readonly #idToken: string | undefined

  constructor(fields: UserContextFields) {
    this.cookie = fields.cookie
    this.headers = fields.headers
    if (fields.userId !== undefined) (this as { userId?: string }).userId = fields.userId
    this.#subjectToken = fields.subjectToken
    this.#idToken = fields.idToken
    Object.freeze(this)
  }

  get subjectToken(): string | undefined {
    return this.#subjectToken
  }

  get idToken(): string | undefined {
    return this.#idToken
  }

  toJSON(): Record<string, unknown> {
    return describe(this)
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const parts = Object.entries(describe(this)).map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    return `UserContext { ${parts.join(', ')} }`
  }
}

/** The frozen context `withUserContext` runs in (see {@link UserContextRecord}). */
export function storeUserContext(fields: UserContextFields): StoredUserContext {
  return new UserContextRecord(fields)
}

const storage = new AsyncLocalStorage<StoredUserContext>()

/** An empty context: what service work (connecting, listing tools, retries) runs in. */
const SERVICE: StoredUserContext = Object.freeze({})

/** Runs `fn` with `context` as the current user context. */
export function runInUserContext<T>(context: StoredUserContext, fn: () => T): T {
  return storage.run(context, fn)
}

/**
 * Runs `fn` as the service, outside any user's context: code that talks to servers on the
 * service's behalf must never inherit the context of whatever call triggered it (a reconnect
 * inside a user's call would otherwise send that user's cookies on the new session).
 */
export function runAsService<T>(fn: () => T): T {
  return storage.run(SERVICE, fn)
}

/** The current user context, if any (the service's empty one counts as none). */
export function currentUserContext(): StoredUserContext | undefined {
  const context = storage.getStore()
  return context === SERVICE ? undefined : context
}

type HeadersInput =
  | HeadersInit
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | null
  | undefined

/**
 * A frozen copy of user headers in a shape the header filter reads the same way: a `Headers` or
 * any iterable of pairs becomes a list of pairs (a `Headers` iterates with duplicates combined,
 * as the filter would read it), a record a record (array values copied).
 */
export function snapshotHeaders(headers: HeadersInput): StoredUserContext['headers'] {
  if (headers === undefined || headers === null) return undefined
  if (typeof headers !== 'object') throw new TypeError('"headers" must be a Headers, an array or a record')
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const pairs: (readonly [string, string])[] = []
    for (const pair of headers as Iterable<readonly [string, string]>) {
      if (Array.isArray(pair) || (typeof pair === 'object' && pair !== null)) {
        const [name, value] = pair as readonly [unknown, unknown]
        if (typeof name === 'string' && typeof value === 'string') pairs.push(Object.freeze([name, value]))
      }
    }
    return Object.freeze(pairs)
  }
  const copy: Record<string, string | readonly string[]> = {}
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === 'string') copy[name] = value
    else if (Array.isArray(value))
      copy[name] = Object.freeze(value.filter((v): v is string => typeof v === 'string'))
  }
  return Object.freeze(copy)
}
