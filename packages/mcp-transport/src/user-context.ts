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
  /**
   * Who the user is, for the manager's per-user rate limits and its audit events (never sent to
   * any server). Without it, a configured cookie or header identifies the user (by its hash).
   * At most 256 characters.
   */
  readonly userId?: string | undefined
}

const MAX_USER_ID = 256

/**
 * Run `fn` on behalf of a user: MCP requests made inside it (through an auth fetch) carry the
 * user's allowed cookies and headers. Outside it, no user data is sent. `userId` names the user
 * for the manager's rate limits and audit events; it is never sent. What it is given is
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
  const userId = context.userId
  if (userId !== undefined && (typeof userId !== 'string' || userId === '' || userId.length > MAX_USER_ID))
    throw new TypeError(`"userId" must be a non-empty string of at most ${MAX_USER_ID} characters`)
  const stored = { cookie, headers: snapshotHeaders(context.headers) }
  return runInUserContext(Object.freeze(userId === undefined ? stored : { ...stored, userId }), fn)
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
