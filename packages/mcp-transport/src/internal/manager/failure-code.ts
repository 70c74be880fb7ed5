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
  if (err instanceof Error && err.name === 'AbortError') return McpFailureCode.Aborted
  if (err instanceof Error && err.name === 'TimeoutError') return McpFailureCode.McpTimeout
  if (err instanceof TypeError && /fetch|network/i.test(err.message)) return McpFailureCode.Network
  return McpFailureCode.Unknown
}
