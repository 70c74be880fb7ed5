import { Secret } from '@mcp-oauth2/auth-core'
import {
  currentUserContext,
  runInUserContext,
  type StoredUserContext,
  snapshotHeaders,
  USER_TOKENS,
} from './internal/user-context-store.js'

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
  /**
   * The user's own access token (or other RFC 8693 subject token), for an auth fetch with a
   * `userTokenProvider`: inside this context it sends the token obtained for this user (token
   * exchange) instead of the service token. Never sent as it is, never in events or
   * `getUserContext()`.
   * @see RFC 8693 §2.1
   */
  readonly subjectToken?: string | undefined
  /** The user's OpenID Connect ID token, for an `IdJagTokenProvider` as `userTokenProvider`. */
  readonly idToken?: string | undefined
}

const MAX_USER_ID = 256
const MAX_TOKEN = 16_384

function tokenOption(value: unknown, name: string): Secret<string> | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '' || value.length > MAX_TOKEN || /[\s\0]/.test(value))
    throw new TypeError(`"${name}" must be a non-empty token string`)
  return new Secret(value)
}

/**
 * Run `fn` on behalf of a user: MCP requests made inside it (through an auth fetch) carry the
 * user's allowed cookies and headers. Outside it, no user data is sent. `userId` names the user
 * for the manager's rate limits and audit events; it is never sent. What it is given is
 * copied when it is called (headers included): changing the caller's objects later changes
 * nothing that `fn` sends. With an auth fetch's `userTokenProvider`, `subjectToken` (or
 * `idToken`) makes the calls inside `fn` carry the token obtained for this user instead of the
 * service token.
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
  const subjectToken = tokenOption(context.subjectToken, 'subjectToken')
  const idToken = tokenOption(context.idToken, 'idToken')
  const stored: StoredUserContext = {
    cookie,
    headers: snapshotHeaders(context.headers),
    ...(userId === undefined ? {} : { userId }),
  }
  if (subjectToken || idToken) {
    Object.defineProperty(stored, USER_TOKENS, {
      value: Object.freeze({ subjectToken, idToken }),
      enumerable: false,
    })
  }
  return runInUserContext(Object.freeze(stored), fn)
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
