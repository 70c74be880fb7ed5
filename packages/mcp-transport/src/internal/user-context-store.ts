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
