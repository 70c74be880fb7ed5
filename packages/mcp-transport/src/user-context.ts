import { AsyncLocalStorage } from 'node:async_hooks'

/** The user on whose behalf requests inside {@link withUserContext} are made. */
export interface UserContext {
  /** The user's incoming `Cookie` header; only allowed names are forwarded. */
  readonly cookie?: string | null | undefined
  /** The user's incoming headers; only allowed names are forwarded. */
  readonly headers?:
    | HeadersInit
    | Readonly<Record<string, string | readonly string[] | undefined>>
    | undefined
}

const storage = new AsyncLocalStorage<UserContext>()

/**
 * Run `fn` on behalf of a user: MCP requests made inside it (through an auth fetch) carry the
 * user's allowed cookies and headers. Outside it, no user data is sent.
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
  // Freeze a copy so a caller mutating its object later cannot change an in-flight request.
  return storage.run(Object.freeze({ cookie: context.cookie, headers: context.headers }), fn)
}

/** The current user context, if any. */
export function getUserContext(): UserContext | undefined {
  return storage.getStore()
}
