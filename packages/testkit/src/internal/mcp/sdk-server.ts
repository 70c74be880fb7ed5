/**
 * Builds the SDK v2 `McpServer` instance that answers MCP for the mock server: one per legacy
 * session, per stateless request, and per 2026-07-28 request. Tools are served through the SDK's
 * request handlers with plain JSON Schema (consumers need no zod); the SDK does all JSON-RPC,
 * negotiation, era and header validation, and cache-hint work. Never re-exported.
 */
import {
  type AuthInfo,
  type CacheHint,
  type CallToolResult,
  type InputRequiredResult,
  McpServer,
  type McpServerOptions,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type ServerCapabilities,
  type ServerContext,
  type Tool,
} from '@modelcontextprotocol/server'

/** The operations whose 2026-07-28 results carry `ttlMs` / `cacheScope` (SEP-2549). */
export const CACHEABLE_METHODS = [
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'server/discover',
] as const

export type CacheableMethod = (typeof CACHEABLE_METHODS)[number]

/** The call a {@link ServedTool} gets: the SDK's handler context and the request's auth. */
export interface ToolCall {
  ctx: ServerContext
  authInfo: AuthInfo | undefined
  /** The original HTTP request that carried the call. */
  request: Request | undefined
  /** The MCP revision of the request. */
  protocolVersion: string | undefined
  /** The SDK server instance answering (its session state, for 2025-era requests). */
  server: McpServer
}

/** One tool as served: its listing and how to run it. */
export interface ServedTool {
  name: string
  description: string
  inputSchema: Record<string, unknown>
  run(args: Record<string, unknown>, call: ToolCall): Promise<CallToolResult | InputRequiredResult>
}

/** Extra surface the server serves next to its tools (the conformance fixtures). */
export interface ServerSurface {
  capabilities: ServerCapabilities
  /** Server options the surface needs (e.g. the `requestState` integrity hook). */
  options?: Pick<McpServerOptions, 'requestState'>
  register(server: McpServer): void
}

/** What one SDK server instance is built from. */
export interface SdkServerSpec {
  name: string
  version: string
  tools: readonly ServedTool[]
  surface: ServerSurface | undefined
  cacheHints: Partial<Record<CacheableMethod, CacheHint>>
  /** The 2025-era revisions `initialize` may settle on (in preference order). */
  legacyVersions: readonly string[]
}

/** The revision of a request handled by `ctx`: the 2026 envelope's, else the session's. */
export function protocolVersionOf(ctx: ServerContext, server: McpServer): string | undefined {
  const envelope = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[PROTOCOL_VERSION_META_KEY]
  // The SDK deprecates reading the negotiated version off the instance in favour of the envelope;
  // 2025-era sessions have no envelope, so their instance is the only place it lives.
  return typeof envelope === 'string' ? envelope : server.server.getNegotiatedProtocolVersion()
}

export function createSdkServer(spec: SdkServerSpec): McpServer {
  const mcp = new McpServer(
    { name: spec.name, version: spec.version },
    {
      capabilities: { tools: {}, ...spec.surface?.capabilities },
      cacheHints: spec.cacheHints,
      supportedProtocolVersions: [...spec.legacyVersions, '2026-07-28'],
      ...spec.surface?.options,
    },
  )
  const tools = spec.tools
  mcp.server.setRequestHandler('tools/list', () => ({
    tools: tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema as Tool['inputSchema'],
    })),
  }))
  mcp.server.setRequestHandler('tools/call', async (request, ctx) => {
    const tool = tools.find((t) => t.name === request.params.name)
    if (!tool)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Tool ${request.params.name} not found`)
    const args = (request.params.arguments ?? {}) as Record<string, unknown>
    const result = await tool.run(args, {
      ctx,
      authInfo: ctx.http?.authInfo,
      request: ctx.http?.req,
      protocolVersion: protocolVersionOf(ctx, mcp),
      server: mcp,
    })
    // An input-required result (SEP-2322) goes back as is; the SDK handles it for both eras.
    if ('resultType' in result && result.resultType === 'input_required') return result
    return mcp.server.projectCallToolResult(result as CallToolResult, undefined)
  })
  spec.surface?.register(mcp)
  return mcp
}
