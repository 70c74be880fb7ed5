/**
 * Errors thrown by `@mcp-oauth2/mcp-transport`'s server manager and auth fetch. Every error has a
 * stable `code` and extends auth-core's `AuthCoreError`, so one `instanceof AuthCoreError` check
 * covers both packages. No message or field holds a token or cookie value.
 */
import {
  AuthCoreError,
  type ErrorCode as AuthCoreErrorCode,
  type AuthCoreErrorOptions,
} from '@mcp-oauth2/auth-core'

/**
 * Stable codes of {@link McpTransportError} and its subclasses: the `code` of an error thrown by
 * this package. Codes of auth-core (`ErrorCode`, e.g. `ERR_INSECURE_HTTP`) pass through as they are.
 */
export const McpTransportErrorCode = {
  /** No connected server offers a tool by that name; nothing was sent. */
  UnknownTool: 'ERR_UNKNOWN_TOOL',
  /** A plain tool name matches tools of several servers; use the qualified name. */
  AmbiguousTool: 'ERR_AMBIGUOUS_TOOL',
  /**
   * The auth fetch: a user context has a `subjectToken` or `idToken` but the auth fetch has no
   * `userTokenProvider`; nothing was sent (never the service token instead, nor the user's token).
   */
  UserTokenProviderRequired: 'ERR_USER_TOKEN_PROVIDER_REQUIRED',
  /**
   * The auth fetch: a token of type `DPoP` came without its key (`AccessToken.dpopKey`), so no
   * proof can be made; nothing was sent.
   */
  DpopKeyRequired: 'ERR_DPOP_KEY_REQUIRED',
  /** The server could not be connected (it is retried in the background); nothing was sent. */
  ServerUnavailable: 'ERR_SERVER_UNAVAILABLE',
  /** The pre-flight scope check refused the call; nothing was sent to the MCP server. */
  ScopeDenied: 'ERR_SCOPE_DENIED',
  /** `connect()` has not been called yet. */
  NotConnected: 'ERR_NOT_CONNECTED',
  /** The manager was closed. */
  Closed: 'ERR_CLOSED',
  /** A rate limit (`rateLimits`) refused the call; nothing was sent, not even a token request. */
  RateLimited: 'ERR_RATE_LIMITED',
} as const

export type McpTransportErrorCode = (typeof McpTransportErrorCode)[keyof typeof McpTransportErrorCode]

/**
 * Codes of failures that are not ours (the MCP server, the network, the SDK), as the manager
 * reports them in `ServerUnavailableError.causeCode` and in the `code` of its `error` and
 * `tool_call` events. They are never the `code` of a thrown error of this package. Beside
 * these constants: `ERR_HTTP_<status>` ({@link httpFailureCode}) and `ERR_MCP_<code>`
 * ({@link mcpFailureCode}); and any error code of ours or of auth-core as it is.
 */
export const McpFailureCode = {
  /** The MCP server answered with an HTTP error that has no status (see `ERR_HTTP_<status>`). */
  Http: 'ERR_HTTP',
  /** The MCP server could not be reached (DNS, connection refused, TLS failure, reset). */
  Network: 'ERR_NETWORK',
  /** The MCP connection was closed while a request was waiting for its answer. */
  ConnectionClosed: 'ERR_CONNECTION_CLOSED',
  /**
   * An MCP request (initialize, tools/list, tools/call) got no answer in time: the SDK's request
   * timeout, `connectTimeoutMs`, `CallToolOptions.timeoutMs`. Not the token endpoint's timeout,
   * which is auth-core's `ERR_TIMEOUT`.
   */
  McpTimeout: 'ERR_MCP_TIMEOUT',
  /** The caller aborted the request (its `signal`). */
  Aborted: 'ERR_ABORTED',
  /** Anything else; the error's `cause` has it. */
  Unknown: 'ERR_UNKNOWN',
} as const

/** A failure code: one of {@link McpFailureCode}, `ERR_HTTP_<status>` or `ERR_MCP_<code>`. */
export type McpFailureCode =
  | (typeof McpFailureCode)[keyof typeof McpFailureCode]
  | `ERR_HTTP_${number}`
  | `ERR_MCP_${number}`

/**
 * The failure code of an HTTP error status from the MCP server: `ERR_HTTP_503`.
 *
 * @example
 * ```ts
 * declare const manager: McpServerManager
 * try {
 *   await manager.callTool('crm__get_customer_info', { id: 42 })
 * } catch (err) {
 *   if (err instanceof ServerUnavailableError && err.causeCode === httpFailureCode(401)) {
 *     console.warn(`${err.server}: the MCP server refused the token`)
 *   }
 * }
 * ```
 */
export function httpFailureCode(status: number): `ERR_HTTP_${number}` {
  return `ERR_HTTP_${status}`
}

/**
 * The failure code of a JSON-RPC error from the MCP server: `ERR_MCP_-32603`.
 *
 * @example
 * ```ts
 * mcpFailureCode(-32602) // 'ERR_MCP_-32602'
 * ```
 */
export function mcpFailureCode(code: number): `ERR_MCP_${number}` {
  return `ERR_MCP_${code}`
}

/**
 * What `causeCode` and event codes can be: a failure code, a code of this package or of
 * auth-core (e.g. `ERR_OAUTH_ERROR_RESPONSE`, `ERR_TIMEOUT`), open for codes added later.
 */
export type McpCauseCode = McpFailureCode | McpTransportErrorCode | AuthCoreErrorCode | (string & {})

/**
 * Base class of the errors of the server manager.
 *
 * @example
 * ```ts
 * declare const manager: McpServerManager
 * try {
 *   await manager.callTool('crm__get_customer_info', { id: 42 })
 * } catch (err) {
 *   if (err instanceof McpTransportError && err.code === McpTransportErrorCode.ScopeDenied) {
 *     console.warn(`not allowed: ${err.message}`)
 *   } else throw err
 * }
 * ```
 */
export class McpTransportError extends AuthCoreError {
  /** One of {@link McpTransportErrorCode}; open for codes added later. */
  declare readonly code: McpTransportErrorCode | (string & {})
  /** The server concerned, when there is one. */
  readonly server: string | undefined

  constructor(
    code: McpTransportErrorCode,
    message: string,
    options?: AuthCoreErrorOptions & { server?: string | undefined },
  ) {
    super(code, message, options)
    this.server = options?.server
  }
}

/** A tool name that resolves to no tool, or to tools of several servers. */
export class UnknownToolError extends McpTransportError {
  /** The name that was asked for. */
  readonly tool: string
  /** For `ERR_AMBIGUOUS_TOOL`: the qualified names that match. Otherwise empty. */
  readonly candidates: readonly string[]

  constructor(tool: string, candidates: readonly string[] = []) {
    const ambiguous = candidates.length > 1
    super(
      ambiguous ? McpTransportErrorCode.AmbiguousTool : McpTransportErrorCode.UnknownTool,
      ambiguous
        ? `tool "${tool}" is offered by several servers: call one of ${candidates.join(', ')}`
        : `no connected MCP server offers a tool "${tool}"`,
    )
    this.tool = tool
    this.candidates = [...candidates]
  }
}

/** A server could not be connected (or is closed); the manager retries it in the background. */
export class ServerUnavailableError extends McpTransportError {
  /** Connection attempts made so far. */
  readonly attempts: number
  /** The `code` of the underlying failure (e.g. `ERR_HTTP_503`, `ERR_NETWORK`, `ERR_OAUTH_ERROR_RESPONSE`). */
  readonly causeCode: McpCauseCode

  constructor(server: string, options: { attempts: number; causeCode: McpCauseCode; cause?: unknown }) {
    super(
      McpTransportErrorCode.ServerUnavailable,
      `MCP server "${server}" is unavailable (${options.causeCode}, ${options.attempts} attempt(s))`,
      { server, cause: options.cause },
    )
    this.attempts = options.attempts
    this.causeCode = options.causeCode
  }
}

/** Why the pre-flight scope check refused a call. */
export type ScopeDeniedReason = 'insufficient_scope' | 'unknown_tool' | 'invalid_token'

/**
 * The pre-flight scope check refused a tool call: the service token lacks scopes the tool
 * requires, the policy denies the tool, or the verifier rejected the token.
 *
 * @see RFC 6750 §3.1 (insufficient_scope)
 */
export class ScopeDeniedError extends McpTransportError {
  readonly tool: string
  readonly reason: ScopeDeniedReason
  /** What the policy requires; `null` when no scope can authorize the tool. */
  readonly requiredScopes: readonly string[] | null
  readonly missingScopes: readonly string[]

  constructor(
    server: string,
    tool: string,
    options: {
      reason: ScopeDeniedReason
      requiredScopes: readonly string[] | null
      missingScopes: readonly string[]
      cause?: unknown
    },
  ) {
    const detail =
      options.reason === 'insufficient_scope'
        ? `missing scope(s) ${options.missingScopes.join(' ')}`
        : options.reason === 'unknown_tool'
          ? 'the tool scope policy does not allow this tool'
          : 'the service token failed verification'
    super(McpTransportErrorCode.ScopeDenied, `call to tool "${tool}" on "${server}" refused: ${detail}`, {
      server,
      cause: options.cause,
    })
    this.tool = tool
    this.reason = options.reason
    this.requiredScopes = options.requiredScopes === null ? null : [...options.requiredScopes]
    this.missingScopes = [...options.missingScopes]
  }
}

/** Which of the manager's rate limits refused a call. */
export type RateLimitScope = 'user' | 'tool' | 'server' | 'global'

/**
 * A rate limit refused a tool call before anything was sent (no token request, no MCP request).
 * `retryAfterMs` says when the same call fits the limit again (as an HTTP `Retry-After`:
 * `Math.ceil(retryAfterMs / 1000)` seconds).
 *
 * @example
 * ```ts
 * import type { ServerResponse } from 'node:http'
 * declare const manager: McpServerManager, res: ServerResponse
 * try {
 *   await manager.callTool('create_support_ticket', { subject: 'Refund' })
 * } catch (err) {
 *   if (!(err instanceof RateLimitedError)) throw err
 *   res.setHeader('retry-after', Math.ceil(err.retryAfterMs / 1000))
 * }
 * ```
 */
export class RateLimitedError extends McpTransportError {
  readonly tool: string
  /** Which limit refused it: each user's, the tool's, the server's or the global one. */
  readonly scope: RateLimitScope
  /** The limit's calls per window. */
  readonly limit: number
  /** The limit's window, in milliseconds. */
  readonly windowMs: number
  /** When the call would be allowed again, in milliseconds from now. */
  readonly retryAfterMs: number

  constructor(
    server: string,
    tool: string,
    options: { scope: RateLimitScope; limit: number; windowMs: number; retryAfterMs: number },
  ) {
    super(
      McpTransportErrorCode.RateLimited,
      `call to tool "${tool}" on "${server}" refused: the ${options.scope} rate limit of ${options.limit} per ${formatWindow(options.windowMs)} is reached; retry in ${Math.ceil(options.retryAfterMs / 1000)} s`,
      { server },
    )
    this.tool = tool
    this.scope = options.scope
    this.limit = options.limit
    this.windowMs = options.windowMs
    this.retryAfterMs = options.retryAfterMs
  }
}

function formatWindow(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ]
  for (const [size, name] of units) {
    if (ms % size === 0) return ms === size ? name : `${ms / size} ${name}s`
  }
  return `${ms} ms`
}
