/** What the mock MCP server records of the requests and tool calls it receives. */

/** One HTTP request received by the mock MCP server. */
export interface McpRequestRecord {
  /** HTTP method. */
  method: string
  /** URL path. */
  path: string
  /** Full URL. */
  url: string
  /** Request headers, lower-cased names (includes `authorization` and `cookie`). */
  headers: Record<string, string>
  /** JSON-RPC method of the (first) message in the body, if any. */
  jsonRpcMethod?: string
  /** JSON-RPC methods of all messages in the body. */
  jsonRpcMethods: string[]
  /** `Mcp-Session-Id` (streamable) or `sessionId` query (legacy SSE) of the request, if any. */
  sessionId?: string
  /** HTTP status answered (set once the response head is ready). */
  status: number
  /**
   * OAuth error of a rejected request (`invalid_token`, `insufficient_scope`, `invalid_dpop_proof`,
   * `use_dpop_nonce`), if any.
   */
  authError?: string
  /** The `Authorization` scheme the request used, when it had a recognised one. */
  authScheme?: 'Bearer' | 'DPoP'
  /** The DPoP proof of the request, as far as it was read: key thumbprint, `jti`, `nonce`. */
  dpop?: { jkt?: string; jti?: string; nonce?: string | undefined }
  /** Which transport served the request. */
  transport: 'streamable-http' | 'sse'
  /**
   * The MCP revision the request was served in: `2026-07-28` (sessionless), or the 2025-era
   * version its session negotiated (`2025-11-25`, …, `2024-11-05` for legacy SSE). `undefined`
   * when the request was refused before MCP (401, 403, an injected failure, an unknown session).
   */
  protocolVersion?: string
}

/** One tool call executed by the mock MCP server. */
export interface ToolCallRecord {
  /** Tool name. */
  tool: string
  /** Arguments. */
  args: Record<string, unknown>
  /** Cookies of the HTTP request, name → value. */
  cookies: Record<string, string>
  /** Request headers, lower-cased names. */
  headers: Record<string, string>
  /** `client_id` of the access token. */
  clientId: string | undefined
  /** `sub` of the access token. */
  subject: string | undefined
  /** Scopes of the access token. */
  scopes: string[]
  /** The MCP revision of the request that carried the call (see {@link McpRequestRecord.protocolVersion}). */
  protocolVersion: string | undefined
}

/** What the next requests to the MCP endpoint fail with (see `MockMcpServer.failNext`). */
export interface McpFailNextOptions {
  /**
   * HTTP status of the failure.
   * @default 503
   */
  status?: number
  /**
   * Raw response body, replacing the JSON-RPC error body (e.g. an HTML error page of a proxy).
   * @default undefined
   */
  body?: string
  /**
   * Extra response headers (e.g. `Retry-After`).
   * @default {}
   */
  headers?: Record<string, string>
  /**
   * Delay before answering, in milliseconds.
   * @default 0
   */
  delayMs?: number
  /**
   * Fail at the network level instead (the client's `fetch` rejects).
   * @default false
   */
  networkError?: boolean
}
