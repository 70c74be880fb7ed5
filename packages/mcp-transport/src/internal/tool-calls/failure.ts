/**
 * What a failed tool call tells the model and the audit log. The model gets our own typed
 * errors' messages (they name the tool and the reason, never a token or cookie) and MCP JSON-RPC
 * errors (the server wrote them for its clients); anything else only as its code, since an
 * HTTP error or a token failure can carry infrastructure detail the model has no use for.
 *
 * The code is the manager's (`failureCode`): one mapping from errors to codes for events,
 * `ServerUnavailableError.causeCode` and tool results alike.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { McpFailureCode, McpTransportError, McpTransportErrorCode } from '../../errors.js'
import { failureCode } from '../manager/failure-code.js'

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

/** The code of the runner's own timeout: the MCP request timeout's, as the manager reports it. */
export const TIMEOUT_CODE = McpFailureCode.McpTimeout
/** The code of a call cut off by the batch's signal. */
export const ABORTED_CODE = McpFailureCode.Aborted
/** The code of arguments that are not a JSON object. */
export const INVALID_ARGUMENTS_CODE = 'ERR_INVALID_ARGUMENTS'

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

function outcomeOf(code: string): Outcome {
  switch (code) {
    case McpTransportErrorCode.UnknownTool:
    case McpTransportErrorCode.AmbiguousTool:
      return 'unknown_tool'
    case McpTransportErrorCode.ScopeDenied:
      return 'denied'
    case McpTransportErrorCode.RateLimited:
      return 'rate_limited'
    case McpTransportErrorCode.ServerUnavailable:
    case McpTransportErrorCode.NotConnected:
    case McpTransportErrorCode.Closed:
      return 'unavailable'
    case McpFailureCode.McpTimeout:
      return 'timeout'
    case McpFailureCode.Aborted:
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
  const code = failureCode(err)
  const outcome = outcomeOf(code)
  // JSON-RPC errors the MCP server wrote for its clients: SDK v1's McpError, SDK v2's ProtocolError.
  const readable =
    err instanceof McpTransportError ||
    err instanceof McpError ||
    (err instanceof Error && err.name === 'ProtocolError')
  const text = readable ? err.message : `the tool call failed (${code})`
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
