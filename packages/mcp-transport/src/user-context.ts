import {
  currentUserContext,
  runInUserContext,
  snapshotHeaders,
  storeUserContext,
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
   * The user's own access token (or other token their client presented), for the auth fetch's
   * `userTokenProvider` (a `TokenExchangeTokenProvider`: the RFC 8693 `subject_token`). Inside
   * the context the auth fetch sends the token obtained for this user instead of the service
   * token; this token itself is never sent to the MCP server (no token passthrough). Never
   * printed: `util.inspect` and `JSON.stringify` of the context show `[redacted]`.
   */
  readonly subjectToken?: string | undefined
  /**
   * The user's OpenID Connect ID token, for a `userTokenProvider` that is an
   * `IdJagTokenProvider` (enterprise-managed authorization). Like `subjectToken`, never sent to
   * the MCP server and never printed.
   */
  readonly idToken?: string | undefined
}

const MAX_USER_ID = 256
/** Longer tokens are refused: no real access or ID token comes close. */
const MAX_TOKEN_LENGTH = 16_384

function userToken(value: unknown, name: 'subjectToken' | 'idToken'): string | undefined {
  if (value === undefined) return undefined
  // Visible ASCII only (RFC 6749 Appendix A.12 without the space; JWTs and base64 alike): a
  // token with whitespace or control characters is a pasting mistake or an injection attempt.
  if (typeof value !== 'string' || value.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(value))
    throw new TypeError(
      `"${name}" must be a non-empty string of at most ${MAX_TOKEN_LENGTH} visible ASCII characters (no whitespace)`,
    )
  return value
}

/**
 * Run `fn` on behalf of a user: MCP requests made inside it (through an auth fetch) carry the
 * user's allowed cookies and headers, and with `subjectToken` or `idToken` the token the auth
 * fetch's `userTokenProvider` obtained for this user replaces the service token (an auth fetch
 * without a `userTokenProvider` refuses such requests with `ERR_USER_TOKEN_PROVIDER_REQUIRED`:
 * it never falls back to the service token, nor passes the user's token on). `userId` names the
 * user for the manager's rate limits and audit events; it is never sent. Outside it, no user
 * data is sent. What it is given is copied when it is called (headers included): changing the
 * caller's objects later changes nothing that `fn` sends.
 *
 * @example
 * ```ts
 * import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
 * import type { IncomingMessage } from 'node:http'
 * declare const client: Client, req: IncomingMessage, usersAccessToken: string
 * const result = await withUserContext({ cookie: req.headers.cookie }, () =>
 *   client.callTool({ name: 'get_customer_info', arguments: { customer_id: '42' } }),
 * )
 * // For a user whose token the gateway exchanges (createAuthFetch({ …, userTokenProvider })):
 * await withUserContext({ userId: 'alice', subjectToken: usersAccessToken }, () =>
 *   client.callTool({ name: 'get_customer_info', arguments: { customer_id: '42' } }),
 * )
 * ```
 * @see RFC 8693 §2.1 (subject_token)
 */
export function withUserContext<T>(context: UserContext, fn: () => T): T {
  if (typeof context !== 'object' || context === null) throw new TypeError('context must be an object')
  const cookie = context.cookie
  if (cookie !== undefined && cookie !== null && typeof cookie !== 'string')
    throw new TypeError('"cookie" must be a string')
  const userId = context.userId
  if (userId !== undefined && (typeof userId !== 'string' || userId === '' || userId.length > MAX_USER_ID))
    throw new TypeError(`"userId" must be a non-empty string of at most ${MAX_USER_ID} characters`)
  const stored = storeUserContext({
    cookie,
    headers: snapshotHeaders(context.headers),
    userId,
    subjectToken: userToken(context.subjectToken, 'subjectToken'),
    idToken: userToken(context.idToken, 'idToken'),
  })
  return runInUserContext(stored, fn)
}

/**
 * The current user context, if any: the frozen copy {@link withUserContext} made (its headers
 * as a record or a list of `[name, value]` pairs; `subjectToken` and `idToken` readable but not
 * enumerable, and never printed).
 *
 * @example
 * ```ts
 * const user = getUserContext() !== undefined
 * ```
 */
export function getUserContext(): UserContext | undefined {
  return currentUserContext()
}
