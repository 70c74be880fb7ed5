/**
 * Errors thrown by `@mcp-oauth2/mcp-transport`'s server manager. Every error has a stable `code`
 * and extends auth-core's `AuthCoreError`, so one `instanceof AuthCoreError` check covers both
 * packages. No message or field holds a token or cookie value.
 */
import { AuthCoreError, type AuthCoreErrorOptions } from '@mcp-oauth2/auth-core'

/** Stable codes of {@link McpTransportError} and its subclasses. */
export const McpTransportErrorCode = {
  /** No connected server offers a tool by that name; nothing was sent. */
  UnknownTool: 'ERR_UNKNOWN_TOOL',
  /** A plain tool name matches tools of several servers; use the qualified name. */
  AmbiguousTool: 'ERR_AMBIGUOUS_TOOL',
  /** The server could not be connected (it is retried in the background); nothing was sent. */
  ServerUnavailable: 'ERR_SERVER_UNAVAILABLE',
  /** The pre-flight scope check refused the call; nothing was sent to the MCP server. */
  ScopeDenied: 'ERR_SCOPE_DENIED',
  /** `connect()` has not been called yet. */
  NotConnected: 'ERR_NOT_CONNECTED',
  /** The manager was closed. */
  Closed: 'ERR_CLOSED',
} as const

export type McpTransportErrorCode = (typeof McpTransportErrorCode)[keyof typeof McpTransportErrorCode]

/**
 * Base class of the errors of the server manager.
 *
 * @example
 * ```ts
 * try { await manager.callTool('crm__get_customer_info', args) } catch (err) {
 *   if (err instanceof McpTransportError && err.code === 'ERR_SCOPE_DENIED') { … }
 * }
 * ```
 */
export class McpTransportError extends AuthCoreError {
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
  readonly causeCode: string

  constructor(server: string, options: { attempts: number; causeCode: string; cause?: unknown }) {
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
