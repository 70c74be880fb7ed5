import { AuthCoreError } from '@mcp-oauth2/auth-core'
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ErrorCode as JsonRpcErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { httpFailureCode, type McpCauseCode, McpFailureCode, mcpFailureCode } from '../../errors.js'

/**
 * The `code` of any failure, for events and `ServerUnavailableError.causeCode`: our codes and
 * auth-core's as they are, `ERR_HTTP_<status>` for HTTP errors from the transports,
 * `ERR_MCP_<code>` for JSON-RPC errors, else one of {@link McpFailureCode}.
 */
export function failureCode(err: unknown): McpCauseCode {
  if (err instanceof AuthCoreError) return err.code
  if (err instanceof StreamableHTTPError || err instanceof SseError) {
    return err.code === undefined || err.code < 0 ? McpFailureCode.Http : httpFailureCode(err.code)
  }
  if (err instanceof McpError) {
    if (err.code === JsonRpcErrorCode.RequestTimeout) return McpFailureCode.McpTimeout
    if (err.code === JsonRpcErrorCode.ConnectionClosed) return McpFailureCode.ConnectionClosed
    return mcpFailureCode(err.code)
  }
  const v2 = sdkV2FailureCode(err)
  if (v2 !== undefined) return v2
  if (err instanceof Error && err.name === 'AbortError') return McpFailureCode.Aborted
  if (err instanceof Error && err.name === 'TimeoutError') return McpFailureCode.McpTimeout
  if (err instanceof TypeError && /fetch|network/i.test(err.message)) return McpFailureCode.Network
  return McpFailureCode.Unknown
}

/**
 * The errors of SDK v2 (`@modelcontextprotocol/client`, an optional peer), told apart by their
 * names and fields so this file never loads it: `SdkHttpError` (`status`), `ProtocolError` (a
 * JSON-RPC `code`), `SdkError` (a string `code`).
 */
function sdkV2FailureCode(err: unknown): McpCauseCode | undefined {
  if (!(err instanceof Error)) return undefined
  const { status, code } = err as { status?: unknown; code?: unknown }
  switch (err.name) {
    case 'SdkHttpError':
      return typeof status === 'number' && status > 0 ? httpFailureCode(status) : McpFailureCode.Http
    case 'ProtocolError':
      if (code === JsonRpcErrorCode.RequestTimeout) return McpFailureCode.McpTimeout
      if (code === JsonRpcErrorCode.ConnectionClosed) return McpFailureCode.ConnectionClosed
      return typeof code === 'number' ? mcpFailureCode(code) : undefined
    case 'SdkError':
      if (code === 'REQUEST_TIMEOUT') return McpFailureCode.McpTimeout
      if (code === 'CONNECTION_CLOSED') return McpFailureCode.ConnectionClosed
      return undefined
    default:
      return undefined
  }
}
