import { type AuthInfo, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server'
import { HttpResponse, http, type RequestHandler } from 'msw'
import { DpopPolicy } from './internal/dpop.js'
import { FailureQueue } from './internal/failure-queue.js'
import { headersToRecord, jsonResponse } from './internal/http.js'
import { type AuthRejection, BearerGuard, rejectionResponse } from './internal/mcp/bearer.js'
import { checkCacheHints } from './internal/mcp/cache-hints.js'
import { createConformanceFixtures } from './internal/mcp/conformance-fixtures.js'
import { createHostCheck } from './internal/mcp/host-check.js'
import { LegacySseSessions } from './internal/mcp/legacy-sse.js'
import { isModernRequest, jsonRpcMethods, requestUrls } from './internal/mcp/messages.js'
import { checkParamHeaders } from './internal/mcp/param-headers.js'
import { protectedResourceMetadata } from './internal/mcp/protected-resource.js'
import { createSdkServer } from './internal/mcp/sdk-server.js'
import { MODERN_VERSION, StreamableHttpEndpoint } from './internal/mcp/streamable-http.js'
import { recorded, serveTestTool } from './internal/mcp/tool-calls.js'
import type { McpFailNextOptions, McpRequestRecord, ToolCallRecord } from './mcp-server-records.js'
import type { McpCacheHints, MockMcpServerOptions } from './mock-mcp-server-options.js'
import { createSeedTools, seedToolScopes } from './seed-tools.js'

/** A mock MCP server on the MCP SDK's real server, guarded by OAuth2 bearer tokens. */
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
  /** Replaces the cache hints of the lists named in `hints` (others keep theirs). */
  setCacheHints(hints: McpCacheHints): void
  /** Makes the next `n` requests to the MCP endpoints fail (before authentication), after failures already queued. */
  failNext(n: number, options?: McpFailNextOptions): void
  /** Delays the next `n` requests to the MCP endpoints by `delayMs`, then answers normally. */
  delayNext(n: number, delayMs: number): void
  /** Requires a new DPoP nonce from now on (turning nonces on) and returns it. */
  rotateDpopNonce(): string
  /** Clears records, queued failures and seen DPoP proofs (open sessions stay). */
  reset(): void
  /** Closes every open session (and their SSE streams). */
  close(): Promise<void>
}

const SERVED_VERSIONS: readonly string[] = [MODERN_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS]

function validate(options: MockMcpServerOptions): URL {
  if (!options?.oauth) throw new TypeError('"oauth" option is required')
  let parsed: URL
  try {
    parsed = new URL(options.url ?? 'https://mcp.mock.test/mcp')
  } catch {
    throw new TypeError('"url" option must be an absolute URL')
  }
  if (options.protocolVersion !== undefined && !SERVED_VERSIONS.includes(options.protocolVersion))
    throw new TypeError(`"protocolVersion" option must be one of ${SERVED_VERSIONS.join(', ')}`)
  return parsed
}

/**
 * Creates a mock MCP server: the MCP SDK's v2 server for every revision (2026-07-28 sessionless,
 * 2025-11-25 and earlier with sessions, and the legacy HTTP+SSE transport), guarded by bearer
 * tokens of `oauth` (RFC 6750 / RFC 9068 verification), with RFC 9728 metadata, per-tool scopes,
 * DNS-rebinding protection and records. Use its `handlers` with msw, or serve it over loopback
 * HTTP with `startMockServers`.
 *
 * @example
 * import { setupServer } from 'msw/node'
 * const oauth = createMockOAuthServer()
 * const mcp = createMockMcpServer({ oauth })
 * const server = setupServer(...oauth.handlers, ...mcp.handlers)
 * @see RFC 6750 §3, RFC 9728, RFC 9068 §4
 */
export function createMockMcpServer(options: MockMcpServerOptions): MockMcpServer {
  const parsed = validate(options)
  const url = options.url ?? parsed.href
  const oauth = options.oauth
  const origin = parsed.origin
  const path = parsed.pathname === '/' ? '' : parsed.pathname
  const endpoint = `${origin}${parsed.pathname}`
  const rootMetadataUrl = `${origin}/.well-known/oauth-protected-resource`
  const resourceMetadataUrl = `${rootMetadataUrl}${path}`
  const audience = options.audience === undefined ? [url] : [options.audience].flat()
  oauth.registerResource(audience)
  const userTools = options.tools ?? createSeedTools()
  const toolScopes: Record<string, readonly string[]> = {}
  for (const tool of userTools) toolScopes[tool.name] = tool.scopes ?? []
  Object.assign(toolScopes, options.toolScopes ?? (options.tools ? {} : seedToolScopes))
  const name = options.name ?? 'mock-mcp-server'
  const authEnabled = options.auth ?? true
  const sseEnabled = (options.sse ?? true) && parsed.pathname !== '/sse' && parsed.pathname !== '/messages'
  const sseUrl = `${origin}/sse`
  const messagesUrl = `${origin}/messages`
  const sseMetadataUrl = `${rootMetadataUrl}/sse`
  const sseAudience = [...audience, sseUrl]
  const requests: McpRequestRecord[] = []
  const toolCalls: ToolCallRecord[] = []
  const dpop = new DpopPolicy(options.dpop, () => oauth.now())
  const guard = new BearerGuard(oauth, toolScopes, dpop)
  const hostCheck = createHostCheck(url, options.allowedHosts)
  const failures = new FailureQueue<'mcp'>(['mcp'], (status) => ({
    error: 'mock_failure',
    body: { jsonrpc: '2.0', error: { code: -32603, message: `mock failure (HTTP ${status})` }, id: null },
  }))
  let cacheHints = checkCacheHints(options.cacheHints ?? {})
  const pin = options.protocolVersion
  const legacyVersions =
    pin === MODERN_VERSION ? [] : pin ? [pin] : SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v !== '2024-10-07')

  const fixtures = options.conformanceFixtures ? createConformanceFixtures() : undefined
  const tools = [
    ...(fixtures?.tools ?? []).map((t) => recorded(t, toolCalls)),
    ...userTools.map((t) => serveTestTool(t, toolCalls)),
  ]

  const createServer = () =>
    createSdkServer({
      name,
      version: '0.1.0',
      tools,
      surface: fixtures?.surface,
      cacheHints,
      legacyVersions,
    })
  const streamable = new StreamableHttpEndpoint({
    createServer,
    pin: pin === undefined ? undefined : pin === MODERN_VERSION ? 'modern' : 'legacy',
    stateless: options.stateless ?? false,
    jsonResponse: options.jsonResponse ?? false,
    legacyVersions,
  })
  const sseSessions = new LegacySseSessions('/messages')
  const metadataFor = (resource: string) =>
    protectedResourceMetadata({
      resource,
      issuer: oauth.issuer,
      toolScopes,
      name,
      dpopRequired: dpop.required,
    })

  function newRecord(request: Request, transport: McpRequestRecord['transport']): McpRequestRecord {
    const entry: McpRequestRecord = {
      method: request.method,
      path: new URL(request.url).pathname,
      url: request.url,
      headers: headersToRecord(request.headers),
      jsonRpcMethods: [],
      status: 0,
      transport,
    }
    requests.push(entry)
    return entry
  }

  function rejected(entry: McpRequestRecord, rejection: AuthRejection): Response {
    entry.status = rejection.status
    if (rejection.error) entry.authError = rejection.error
    return rejectionResponse(rejection)
  }

  /** What every MCP request goes through: its record, its body, injected faults, auth and scopes. */
  async function admit(
    request: Request,
    transport: McpRequestRecord['transport'],
    metadataUrl: string,
    accepted: string[],
  ) {
    const entry = newRecord(request, transport)
    let body: unknown
    let bodyOk = false
    if (request.method === 'POST') {
      try {
        body = JSON.parse(await request.clone().text())
        bodyOk = true
        entry.jsonRpcMethods = jsonRpcMethods(body)
        entry.jsonRpcMethod = entry.jsonRpcMethods[0]
      } catch {}
    }
    const failure = await failures.take('mcp')
    if (failure) {
      entry.status = failure.status
      return { entry, response: failure.response }
    }
    if (!authEnabled) return { entry, body, bodyOk, authInfo: undefined }
    const auth = await guard.authenticate(request, metadataUrl, accepted, requestUrls(request))
    if (auth.scheme) entry.authScheme = auth.scheme
    if (auth.dpop) entry.dpop = { ...auth.dpop }
    if (!auth.ok) return { entry, response: rejected(entry, auth) }
    const denied = bodyOk ? guard.checkScopes(body, auth, metadataUrl) : undefined
    if (denied) return { entry, response: rejected(entry, denied) }
    return { entry, body, bodyOk, authInfo: auth.authInfo as AuthInfo | undefined }
  }

  async function handleMcp(request: Request): Promise<Response> {
    const admitted = await admit(request, 'streamable-http', resourceMetadataUrl, audience)
    const sessionId = request.headers.get('mcp-session-id')
    if (sessionId) admitted.entry.sessionId = sessionId
    if (admitted.response) return admitted.response
    if (admitted.bodyOk && isModernRequest(admitted.body)) {
      const mismatch = checkParamHeaders(request.headers, admitted.body, tools)
      if (mismatch) {
        admitted.entry.status = 400
        return mismatch
      }
    }
    const result = await streamable.serve(request, admitted.authInfo, admitted.body, admitted.bodyOk ?? false)
    admitted.entry.status = result.response.status
    if (result.protocolVersion && result.response.status < 400)
      admitted.entry.protocolVersion = result.protocolVersion
    return result.response
  }

  /** Legacy SSE: GET opens a session's event stream; POST delivers one message, answered on it. */
  async function handleSse(request: Request, stream: boolean): Promise<Response> {
    const admitted = await admit(request, 'sse', sseMetadataUrl, sseAudience)
    const { entry } = admitted
    const sessionId = new URL(request.url).searchParams.get('sessionId') ?? undefined
    if (sessionId) entry.sessionId = sessionId
    if (admitted.response) return admitted.response
    const served = await sseSessions.serve(request, stream, sessionId, admitted, createServer)
    entry.status = served.response.status
    if (served.sessionId) entry.sessionId = served.sessionId
    if (served.protocolVersion) entry.protocolVersion = served.protocolVersion
    return served.response
  }

  async function handle(request: Request): Promise<Response> {
    const target = new URL(request.url)
    const key = `${target.origin}${target.pathname}`
    const forbidden = hostCheck(request.headers)
    if (forbidden) {
      newRecord(request, key === sseUrl || key === messagesUrl ? 'sse' : 'streamable-http').status = 403
      return forbidden
    }
    if (key === endpoint) return handleMcp(request)
    if (sseEnabled && key === sseUrl) return handleSse(request, true)
    if (sseEnabled && key === messagesUrl) return handleSse(request, false)
    const cached = { 'cache-control': 'max-age=60' }
    if (sseEnabled && request.method === 'GET' && key === sseMetadataUrl) {
      return jsonResponse(metadataFor(sseUrl), 200, cached)
    }
    if (request.method === 'GET' && (key === resourceMetadataUrl || key === rootMetadataUrl)) {
      return jsonResponse(metadataFor(url), 200, cached)
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
    setCacheHints(hints: McpCacheHints) {
      cacheHints = { ...cacheHints, ...checkCacheHints(hints) }
    },
    failNext(n: number, failOptions: McpFailNextOptions = {}) {
      failures.fail('mcp', n, failOptions)
    },
    delayNext(n: number, delayMs: number) {
      failures.delay('mcp', n, delayMs)
    },
    rotateDpopNonce: () => dpop.rotate(),
    reset() {
      requests.length = 0
      toolCalls.length = 0
      failures.clear()
      dpop.verifier.reset()
    },
    async close() {
      await streamable.close()
      await sseSessions.close()
    },
  }
}
