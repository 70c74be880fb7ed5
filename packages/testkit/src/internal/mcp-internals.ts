/** Hooks of a mock MCP server used by the loopback HTTP server (legacy SSE). Never re-exported. */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { McpRequestRecord, MockMcpServer, ToolCallRecord } from '../mock-mcp-server.js'

/** Result of bearer-token authentication or a scope check. */
export type AuthOutcome =
  | { ok: true; authInfo: AuthInfo }
  | { ok: false; status: number; error?: string; wwwAuthenticate: string; body: Record<string, string> }

export interface McpInternals {
  createServer(): McpServer
  authenticate(headers: Headers, metadataUrl: string, accepted: readonly string[]): Promise<AuthOutcome>
  checkScopes(body: unknown, authInfo: AuthInfo, metadataUrl: string): AuthOutcome | undefined
  protectedResourceMetadata(resource: string): Record<string, unknown>
  records: { requests: McpRequestRecord[]; toolCalls: ToolCallRecord[] }
  origin: string
  sseMetadataUrl: string
  sseAudience: readonly string[]
  legacyClosers: Set<() => Promise<void>>
  closeLegacy(): Promise<void>
}

export const mcpInternals = new WeakMap<MockMcpServer, McpInternals>()
