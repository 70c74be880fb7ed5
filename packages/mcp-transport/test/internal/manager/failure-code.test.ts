import { AuthCoreError, ErrorCode } from '@mcp-oauth2/auth-core'
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ErrorCode as JsonRpcErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { describe, expect, it } from 'vitest'
import { McpFailureCode } from '../../../src/errors.js'
import { failureCode } from '../../../src/internal/manager/failure-code.js'

describe('failureCode', () => {
  it('gives each kind of failure its own code; ERR_TIMEOUT stays the token endpoint’s', () => {
    expect(failureCode(new AuthCoreError(ErrorCode.Timeout, 'token endpoint timed out'))).toBe('ERR_TIMEOUT')
    expect(failureCode(new McpError(JsonRpcErrorCode.RequestTimeout, 'Request timed out'))).toBe(
      McpFailureCode.McpTimeout,
    )
    expect(failureCode(new DOMException('timed out', 'TimeoutError'))).toBe('ERR_MCP_TIMEOUT')
    expect(failureCode(new DOMException('aborted', 'AbortError'))).toBe('ERR_ABORTED')
    expect(failureCode(new McpError(JsonRpcErrorCode.ConnectionClosed, 'closed'))).toBe(
      'ERR_CONNECTION_CLOSED',
    )
    expect(failureCode(new McpError(-32603, 'internal'))).toBe('ERR_MCP_-32603')
    expect(failureCode(new StreamableHTTPError(503, 'unavailable'))).toBe('ERR_HTTP_503')
    expect(failureCode(new TypeError('fetch failed'))).toBe('ERR_NETWORK')
    expect(failureCode(new Error('something else'))).toBe('ERR_UNKNOWN')
  })
})
