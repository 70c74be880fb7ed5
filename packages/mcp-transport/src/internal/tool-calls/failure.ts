/**
 * What a failed tool call tells the model and the audit log. The model gets our own typed
 * errors' messages (they name the tool and the reason, never a token or cookie) and MCP JSON-RPC
 * errors (the server wrote them for its clients); anything else only as its code, since an
 * HTTP error or a token failure can carry infrastructure detail the model has no use for.
 */
import { AuthCoreError } from '@mcp-oauth2/auth-core'
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ErrorCode as JsonRpcErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { McpTransportError, McpTransportErrorCode } from '../../errors.js'

/** How a call ended; `ok` and `tool_error` reached the tool, the others did not or were cut off. */
export type Outcome =
  | 'ok'
  | 'tool_error'
  | 'invalid_arguments'
  | 'unknown_tool'
  | 'denied'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'aborted'
  | 'failed'

/** The code of the runner's own timeout (also what the manager reports for an SDK request timeout). */
export const TIMEOUT_CODE = 'ERR_TIMEOUT'
/** The code of a call cut off by the batch's signal. */
export const ABORTED_CODE = 'ERR_ABORTED'
/** The code of arguments that are not a JSON object. */
export const INVALID_ARGUMENTS_CODE = 'ERR_INVALID_ARGUMENTS'
const RATE_LIMITED_CODE = 'ERR_RATE_LIMITED'

export interface Failure {
  readonly outcome: Outcome
  readonly code: string
  /** The text the model reads (without the `Error: ` prefix). */
  readonly text: string
  /** For `rate_limited`: when to try again, from the error. */
  readonly retryAfterMs: number | undefined
  /** For `denied`: the scopes the service token lacks. */
  readonly missingScopes: readonly string[] | undefined
}

function codeOf(err: unknown): string {
  if (err instanceof AuthCoreError) return err.code
  if (err instanceof StreamableHTTPError || err instanceof SseError) {
    return err.code === undefined || err.code < 0 ? 'ERR_HTTP' : `ERR_HTTP_${err.code}`
  }
  if (err instanceof McpError) {
    if (err.code === JsonRpcErrorCode.RequestTimeout) return TIMEOUT_CODE
    if (err.code === JsonRpcErrorCode.ConnectionClosed) return 'ERR_CONNECTION_CLOSED'
    return `ERR_MCP_${err.code}`
  }
  if (err instanceof Error && err.name === 'TimeoutError') return TIMEOUT_CODE
  if (err instanceof Error && err.name === 'AbortError') return ABORTED_CODE
  if (err instanceof TypeError && /fetch|network/i.test(err.message)) return 'ERR_NETWORK'
  return 'ERR_UNKNOWN'
}

function outcomeOf(code: string): Outcome {
  switch (code) {
    case McpTransportErrorCode.UnknownTool:
    case McpTransportErrorCode.AmbiguousTool:
      return 'unknown_tool'
    case McpTransportErrorCode.ScopeDenied:
      return 'denied'
    case RATE_LIMITED_CODE:
      return 'rate_limited'
    case McpTransportErrorCode.ServerUnavailable:
    case McpTransportErrorCode.NotConnected:
    case McpTransportErrorCode.Closed:
      return 'unavailable'
    case TIMEOUT_CODE:
      return 'timeout'
    case ABORTED_CODE:
      return 'aborted'
    default:
      return 'failed'
  }
}

/** A failure the runner itself decided on (bad arguments, timeout, abort). */
export function runnerFailure(outcome: Outcome, code: string, text: string): Failure {
  return { outcome, code, text, retryAfterMs: undefined, missingScopes: undefined }
}

/** What a thrown error means for the model and the audit log. */
export function failureOf(err: unknown): Failure {
  const code = codeOf(err)
  const outcome = outcomeOf(code)
  let text: string
  const readable =
    err instanceof McpTransportError ||
    err instanceof McpError ||
    (outcome === 'rate_limited' && err instanceof AuthCoreError)
  if (readable) text = err.message
  else text = `the tool call failed (${code})`
  const e = err as { retryAfterMs?: unknown; missingScopes?: unknown }
  return {
    outcome,
    code,
    text,
    retryAfterMs:
      outcome === 'rate_limited' && typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined,
    missingScopes:
      outcome === 'denied' && Array.isArray(e.missingScopes)
        ? e.missingScopes.filter((s): s is string => typeof s === 'string')
        : undefined,
  }
}
