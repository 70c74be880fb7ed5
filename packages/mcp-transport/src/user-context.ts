import { currentUserContext, runInUserContext, snapshotHeaders } from './internal/user-context-store.js'

/** The user on whose behalf requests inside {@link withUserContext} are made. */
export interface UserContext {
  /** The user's incoming `Cookie` header; only allowed names are forwarded. */
  readonly cookie?: string | null | undefined
  /** The user's incoming headers; only allowed names are forwarded. */
  readonly headers?:
    | HeadersInit
    | ReadonlyArray<readonly [string, string]>
    | Readonly<Record<string, string | readonly string[] | undefined>>
    | undefined
}

/**
 * Run `fn` on behalf of a user: MCP requests made inside it (through an auth fetch) carry the
 * user's allowed cookies and headers. Outside it, no user data is sent. What it is given is
 * copied when it is called (headers included): changing the caller's objects later changes
 * nothing that `fn` sends.
 *
 * @example
 * ```ts
 * const result = await withUserContext({ cookie: req.headers.cookie }, () =>
 *   client.callTool({ name: 'get_customer_info', arguments: { customer_id: '42' } }),
 * )
 * ```
 */
export function withUserContext<T>(context: UserContext, fn: () => T): T {
  if (typeof context !== 'object' || context === null) throw new TypeError('context must be an object')
  const cookie = context.cookie
  if (cookie !== undefined && cookie !== null && typeof cookie !== 'string')
    throw new TypeError('"cookie" must be a string')
  return runInUserContext(Object.freeze({ cookie, headers: snapshotHeaders(context.headers) }), fn)
}

/**
 * The current user context, if any: the frozen copy {@link withUserContext} made (its headers
 * as a record or a list of `[name, value]` pairs).
 *
 * @example
 * ```ts
 * const user = getUserContext() !== undefined
 * ```
 */
export function getUserContext(): UserContext | undefined {
  return currentUserContext()
}
