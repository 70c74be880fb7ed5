import { randomUUID } from 'node:crypto'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  isInitializeRequest,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js'
import { HttpResponse, http, type RequestHandler } from 'msw'
import { headersToRecord, jsonResponse } from './internal/http.js'
import { type AuthRejection, BearerGuard, rejectionResponse } from './internal/mcp/bearer.js'
import { LegacySseSessions } from './internal/mcp/legacy-sse.js'
import type { McpRequestRecord, ToolCallRecord } from './mcp-server-records.js'
import type { MockOAuthServer } from './mock-oauth-server.js'
import { createSeedTools, type MockTool, type MockToolContext, seedToolScopes } from './seed-tools.js'

/** Options of {@link createMockMcpServer}. */
export interface MockMcpServerOptions {
  /**
   * The MCP endpoint (Streamable HTTP). It is also the RFC 8707 resource identifier.
   * @default 'https://mcp.mock.test/mcp'
   */
  url?: string
  /** The authorization server whose tokens this server accepts (issuer and current keys). */
  oauth: MockOAuthServer
  /**
   * Accepted `aud` values of access tokens.
   * @default the server's `url`
   */
  audience?: string | string[]
  /**
   * The tools served.
   * @default the four seed tools (`createSeedTools()`)
   */
  tools?: MockTool[]
  /**
   * Scopes each tool needs, by tool name; a call without them is answered 403 `insufficient_scope`.
   * Tools not listed use their own `scopes`.
   * @default seedToolScopes (get_customer_info/get_recent_customers → customer:read, create_support_ticket → ticket:create, calculate_account_value → account:calculate)
   */
  toolScopes?: Record<string, readonly string[]>
  /**
   * Stateless mode: no `Mcp-Session-Id`, a new SDK server and transport per request.
   * @default false
   */
  stateless?: boolean
  /**
   * Answer POSTs with plain JSON instead of an SSE stream (always true when `stateless`).
   * @default false
   */
  jsonResponse?: boolean
  /**
   * Also serve the legacy HTTP+SSE transport (MCP 2024-11-05): the event stream at `{origin}/sse`,
   * messages at `{origin}/messages`. It accepts tokens for `audience` or for the `/sse` URL.
   * Per origin: give other mock servers on the same origin `sse: false`.
   * @default true (false when `url` itself ends in `/sse` or `/messages`)
   */
  sse?: boolean
  /**
   * Server name reported in `initialize`.
   * @default 'mock-mcp-server'
   */
  name?: string
}

/** A mock MCP server on the SDK's real `McpServer`, guarded by OAuth2 bearer tokens. */
export interface MockMcpServer {
  /** The MCP endpoint URL. */
  readonly url: string
  /** RFC 9728 protected-resource metadata URL (`/.well-known/oauth-protected-resource{path}`). */
  readonly resourceMetadataUrl: string
  /** Accepted `aud` values. */
  readonly audience: readonly string[]
  /** Legacy SSE endpoint (`{origin}/sse`), or `undefined` when `sse: false`. */
  readonly sseUrl: string | undefined
  /** msw handlers: the MCP endpoint and the protected-resource metadata. */
  readonly handlers: RequestHandler[]
  /** Every HTTP request received, in arrival order. */
  readonly requests: McpRequestRecord[]
  /** Every tool call executed, in order. */
  readonly toolCalls: ToolCallRecord[]
  /** Answers one request to the MCP endpoint or metadata URLs (404 for others). */
  handle(request: Request): Promise<Response>
  /** Clears records (open sessions stay). */
  reset(): void
  /** Closes every open session (and their SSE streams). */
  close(): Promise<void>
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport
  server: McpServer
}

function jsonRpcMethods(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body]
  return messages
    .map((m) =>
      m && typeof m === 'object' && typeof m.method === 'string' ? (m.method as string) : undefined,
    )
    .filter((m): m is string => m !== undefined)
}

function toResult(value: CallToolResult | string | Record<string, unknown>): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] }
  if (Array.isArray((value as CallToolResult).content)) return value as CallToolResult
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value }
}

/**
 * Creates a mock MCP server: the SDK's `McpServer` behind `WebStandardStreamableHTTPServerTransport`,
 * guarded by bearer tokens of `oauth` (RFC 6750 / RFC 9068 verification), with RFC 9728 metadata and
 * per-tool scopes. Use its `handlers` with msw, or serve it over loopback HTTP with `startMockServers`.
 *
 * @example
 * const oauth = createMockOAuthServer()
 * const mcp = createMockMcpServer({ oauth })
 * const server = setupServer(...oauth.handlers, ...mcp.handlers)
 * @see RFC 6750 §3, RFC 9728, RFC 9068 §4
 */
export function createMockMcpServer(options: MockMcpServerOptions): MockMcpServer {
  if (!options?.oauth) throw new TypeError('"oauth" option is required')
  const url = options.url ?? 'https://mcp.mock.test/mcp'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError('"url" option must be an absolute URL')
  }
  const oauth = options.oauth
  const origin = parsed.origin
  const path = parsed.pathname === '/' ? '' : parsed.pathname
  const endpoint = `${origin}${parsed.pathname}`
  const rootMetadataUrl = `${origin}/.well-known/oauth-protected-resource`
  const resourceMetadataUrl = `${rootMetadataUrl}${path}`
  const audience =
    options.audience === undefined
      ? [url]
      : Array.isArray(options.audience)
        ? [...options.audience]
        : [options.audience]
  oauth.registerResource(audience)
  const tools = options.tools ?? createSeedTools()
  const toolScopes: Record<string, readonly string[]> = {}
  for (const tool of tools) toolScopes[tool.name] = tool.scopes ?? []
  Object.assign(toolScopes, options.toolScopes ?? (options.tools ? {} : seedToolScopes))
  const stateless = options.stateless ?? false
  const enableJsonResponse = stateless || (options.jsonResponse ?? false)
  const name = options.name ?? 'mock-mcp-server'
  const sseEnabled = (options.sse ?? true) && parsed.pathname !== '/sse' && parsed.pathname !== '/messages'
  const sseUrl = `${origin}/sse`
  const messagesUrl = `${origin}/messages`
  const sseMetadataUrl = `${rootMetadataUrl}/sse`
  const sseAudience = [...audience, sseUrl]
  const sseSessions = new LegacySseSessions('/messages')
  const requests: McpRequestRecord[] = []
  const toolCalls: ToolCallRecord[] = []
  const sessions = new Map<string, Session>()
  const extraServers = new Set<McpServer>()

  function protectedResourceMetadata(resource: string) {
    return {
      resource,
      authorization_servers: [oauth.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: [...new Set(Object.values(toolScopes).flat())],
      resource_name: name,
    }
  }

  function createServer(): McpServer {
    const mcp = new McpServer({ name, version: '0.1.0' }, { capabilities: { tools: {} } })
    // Tools are served with plain JSON Schema through the SDK's request handlers, so consumers
    // need no zod. The SDK still does all JSON-RPC, sessions and transport work.
    mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: tools.map((t) => ({
        name: t.name,
        description: t.description ?? '',
        inputSchema: t.inputSchema ?? { type: 'object' as const, properties: {} },
      })),
    }))
    mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const tool = tools.find((t) => t.name === request.params.name)
      if (!tool) throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`)
      const args = (request.params.arguments ?? {}) as Record<string, unknown>
      const missing = (tool.inputSchema?.required ?? []).filter((k) => args[k] === undefined)
      if (missing.length > 0) {
        throw new McpError(ErrorCode.InvalidParams, `Missing required argument(s): ${missing.join(', ')}`)
      }
      const authExtra = (extra.authInfo?.extra ?? {}) as {
        claims?: Record<string, unknown>
        cookies?: Record<string, string>
        headers?: Record<string, string>
      }
      const claims = authExtra.claims ?? {}
      const context: MockToolContext = {
        cookies: { ...(authExtra.cookies ?? {}) },
        headers: { ...(authExtra.headers ?? {}) },
        clientId: extra.authInfo?.clientId,
        subject: typeof claims['sub'] === 'string' ? claims['sub'] : undefined,
        scopes: [...(extra.authInfo?.scopes ?? [])],
        claims,
      }
      toolCalls.push({
        tool: tool.name,
        args,
        cookies: context.cookies,
        headers: context.headers,
        clientId: context.clientId,
        subject: context.subject,
        scopes: context.scopes,
      })
      try {
        return toResult(await tool.handler(args, context))
      } catch (e) {
        return {
          content: [{ type: 'text', text: e instanceof Error ? e.message : String(e) }],
          isError: true,
        }
      }
    })
    return mcp
  }

  const guard = new BearerGuard(oauth, toolScopes)

  async function handleMcp(request: Request): Promise<Response> {
    const record = newRecord(request, 'streamable-http')
    const sessionId = request.headers.get('mcp-session-id')
    if (sessionId) record.sessionId = sessionId

    let body: unknown
    let bodyOk = false
    if (request.method === 'POST') {
      try {
        body = JSON.parse(await request.clone().text())
        bodyOk = true
        record.jsonRpcMethods = jsonRpcMethods(body)
        record.jsonRpcMethod = record.jsonRpcMethods[0]
      } catch {}
    }

    const auth = await guard.authenticate(request.headers, resourceMetadataUrl, audience)
    if (!auth.ok) return rejected(record, auth)
    const denied = bodyOk ? guard.checkScopes(body, auth.authInfo.scopes, resourceMetadataUrl) : undefined
    if (denied) return rejected(record, denied)
    const handleOptions = bodyOk ? { authInfo: auth.authInfo, parsedBody: body } : { authInfo: auth.authInfo }
    const response = await dispatch(request, body, bodyOk, handleOptions)
    record.status = response.status
    return response
  }

  async function dispatch(
    request: Request,
    body: unknown,
    bodyOk: boolean,
    handleOptions: { authInfo: AuthInfo; parsedBody?: unknown },
  ): Promise<Response> {
    if (stateless) {
      const server = createServer()
      const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true })
      extraServers.add(server)
      try {
        await server.connect(transport)
        return await transport.handleRequest(request, handleOptions)
      } finally {
        extraServers.delete(server)
        await server.close()
      }
    }
    const sessionId = request.headers.get('mcp-session-id')
    if (sessionId) {
      const session = sessions.get(sessionId)
      if (!session) {
        return jsonResponse(
          { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
          404,
        )
      }
      return session.transport.handleRequest(request, handleOptions)
    }
    if (
      request.method === 'POST' &&
      bodyOk &&
      (Array.isArray(body) ? body : [body]).some(isInitializeRequest)
    ) {
      const server = createServer()
      const transport: WebStandardStreamableHTTPServerTransport =
        new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          enableJsonResponse,
          onsessioninitialized: (id) => {
            sessions.set(id, { transport, server })
          },
          onsessionclosed: (id) => {
            sessions.delete(id)
          },
        })
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId)
      }
      await server.connect(transport)
      return transport.handleRequest(request, handleOptions)
    }
    return jsonResponse(
      {
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
        id: null,
      },
      400,
    )
  }

  function newRecord(request: Request, transport: McpRequestRecord['transport']): McpRequestRecord {
    const record: McpRequestRecord = {
      method: request.method,
      path: new URL(request.url).pathname,
      url: request.url,
      headers: headersToRecord(request.headers),
      jsonRpcMethods: [],
      status: 0,
      transport,
    }
    requests.push(record)
    return record
  }

  function rejected(record: McpRequestRecord, rejection: AuthRejection): Response {
    record.status = rejection.status
    if (rejection.error) record.authError = rejection.error
    return rejectionResponse(rejection)
  }

  /** Legacy SSE, GET: opens the event stream of a new session. */
  async function handleSseStream(request: Request): Promise<Response> {
    const record = newRecord(request, 'sse')
    const auth = await guard.authenticate(request.headers, sseMetadataUrl, sseAudience)
    if (!auth.ok) return rejected(record, auth)
    if (request.method !== 'GET') {
      record.status = 405
      return jsonResponse({ error: 'method_not_allowed' }, 405, { allow: 'GET' })
    }
    const transport = await sseSessions.open(createServer())
    record.status = 200
    record.sessionId = transport.sessionId
    return transport.response
  }

  /** Legacy SSE, POST: one JSON-RPC message for a session, answered on its event stream. */
  async function handleSseMessage(request: Request): Promise<Response> {
    const record = newRecord(request, 'sse')
    const sessionId = new URL(request.url).searchParams.get('sessionId') ?? undefined
    if (sessionId) record.sessionId = sessionId
    let body: unknown
    let bodyOk = false
    if (request.method === 'POST') {
      try {
        body = JSON.parse(await request.text())
        bodyOk = true
        record.jsonRpcMethods = jsonRpcMethods(body)
        record.jsonRpcMethod = record.jsonRpcMethods[0]
      } catch {}
    }
    const auth = await guard.authenticate(request.headers, sseMetadataUrl, sseAudience)
    if (!auth.ok) return rejected(record, auth)
    if (request.method !== 'POST') {
      record.status = 405
      return jsonResponse({ error: 'method_not_allowed' }, 405, { allow: 'POST' })
    }
    if (!bodyOk) {
      record.status = 400
      return jsonResponse({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }, 400)
    }
    const denied = guard.checkScopes(body, auth.authInfo.scopes, sseMetadataUrl)
    if (denied) return rejected(record, denied)
    const failure = sseSessions.deliver(sessionId, body, {
      authInfo: auth.authInfo,
      requestInfo: { headers: Object.fromEntries(request.headers), url: new URL(request.url) },
    })
    if (failure === 'no-session') {
      record.status = 404
      return jsonResponse(
        { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
        404,
      )
    }
    if (failure === 'invalid-message') {
      record.status = 400
      return new Response('Invalid message', { status: 400 })
    }
    record.status = 202
    // No body: the SDK client cancels the body of a 202, and cancelling a body that msw has
    // tee'd for its own events never settles.
    return new Response(null, { status: 202 })
  }

  async function handle(request: Request): Promise<Response> {
    const target = new URL(request.url)
    const key = `${target.origin}${target.pathname}`
    if (key === endpoint) return handleMcp(request)
    if (sseEnabled && key === sseUrl) return handleSseStream(request)
    if (sseEnabled && key === messagesUrl) return handleSseMessage(request)
    if (sseEnabled && request.method === 'GET' && key === sseMetadataUrl) {
      return jsonResponse(protectedResourceMetadata(sseUrl), 200, { 'cache-control': 'max-age=60' })
    }
    if (request.method === 'GET' && (key === resourceMetadataUrl || key === rootMetadataUrl)) {
      return jsonResponse(protectedResourceMetadata(url), 200, { 'cache-control': 'max-age=60' })
    }
    return jsonResponse({ error: 'not_found' }, 404)
  }

  async function mswResolver({ request }: { request: Request }) {
    const response = await handle(request)
    return response.type === 'error' ? HttpResponse.error() : response
  }

  const handlers: RequestHandler[] = [
    http.all(endpoint, mswResolver),
    http.get(resourceMetadataUrl, mswResolver),
    ...(resourceMetadataUrl === rootMetadataUrl ? [] : [http.get(rootMetadataUrl, mswResolver)]),
    ...(sseEnabled
      ? [
          http.get(sseUrl, mswResolver),
          http.post(messagesUrl, mswResolver),
          http.get(sseMetadataUrl, mswResolver),
        ]
      : []),
  ]

  return {
    url,
    resourceMetadataUrl,
    audience,
    sseUrl: sseEnabled ? sseUrl : undefined,
    handlers,
    requests,
    toolCalls,
    handle,
    reset() {
      requests.length = 0
      toolCalls.length = 0
    },
    async close() {
      const open = [...sessions.values()]
      sessions.clear()
      await Promise.allSettled(open.map(async (s) => s.server.close()))
      await Promise.allSettled([...extraServers].map((s) => s.close()))
      extraServers.clear()
      await sseSessions.close()
    },
  }
}
