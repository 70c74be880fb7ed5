import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js'
import { TestkitError, TestkitErrorCode } from './errors.js'
import { headersToRecord, parseCookies } from './internal/http.js'
import { mcpInternals } from './internal/mcp-internals.js'
import { readBody, sendWebResponse, toWebRequest } from './internal/node-http.js'
import {
  createMockMcpServer,
  type McpRequestRecord,
  type MockMcpServer,
  type MockMcpServerOptions,
} from './mock-mcp-server.js'
import {
  createMockOAuthServer,
  type MockOAuthServer,
  type MockOAuthServerOptions,
} from './mock-oauth-server.js'

/** Options of {@link startMockServers}: those of both mock servers, plus where to listen. */
export interface StartMockServersOptions
  extends Omit<MockOAuthServerOptions, 'issuer'>,
    Omit<MockMcpServerOptions, 'oauth' | 'url'> {
  /**
   * Loopback host to listen on.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port of the authorization server (`0` picks a free one).
   * @default 0
   */
  oauthPort?: number
  /**
   * Port of the MCP server (`0` picks a free one).
   * @default 0
   */
  mcpPort?: number
  /**
   * Path of the Streamable HTTP MCP endpoint.
   * @default '/mcp'
   */
  mcpPath?: string
}

/** Running loopback mock servers (see {@link startMockServers}). */
export interface MockServers {
  oauth: {
    /** Issuer (`http://127.0.0.1:<port>`). */
    issuer: string
    tokenEndpoint: string
    jwksUri: string
    metadataUrl: string
    /** The controls and records of the authorization server. */
    server: MockOAuthServer
  }
  mcp: {
    /** Streamable HTTP endpoint. */
    url: string
    /** Legacy SSE endpoint (`undefined` when `sse: false`). */
    sseUrl: string | undefined
    resourceMetadataUrl: string
    /** The controls and records of the MCP server. */
    server: MockMcpServer
  }
  /** Closes both servers, every open session and SSE stream. */
  close(): Promise<void>
}

async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      reject(
        new TestkitError(TestkitErrorCode.ListenFailed, `cannot listen on ${host}:${port}`, { cause: error }),
      )
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  return server.address() as AddressInfo
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
  res.end(JSON.stringify(body))
}

/**
 * Starts the mock authorization server and the mock MCP server on loopback ports (node:http),
 * with the same behaviour as their msw handlers, plus the legacy SSE transport.
 *
 * @example
 * const servers = await startMockServers()
 * // ... point a client at servers.mcp.url ...
 * await servers.close()
 */
export async function startMockServers(options: StartMockServersOptions = {}): Promise<MockServers> {
  const host = options.host ?? '127.0.0.1'
  const mcpPath = options.mcpPath ?? '/mcp'
  if (!mcpPath.startsWith('/')) throw new TypeError('"mcpPath" option must start with "/"')
  const sseEnabled = options.sse ?? true
  let oauth: MockOAuthServer | undefined
  let mcp: MockMcpServer | undefined
  const sseSessions = new Map<string, SSEServerTransport>()

  const onError = (res: ServerResponse, error: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(error) })
    else res.destroy()
  }

  const oauthHttp = createServer((req, res) => {
    const origin = `http://${req.headers.host ?? 'localhost'}`
    toWebRequest(req, origin)
      .then((request) => oauth!.handle(request))
      .then((response) => sendWebResponse(req, res, response))
      .catch((error) => onError(res, error))
  })
  const mcpHttp = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    // The legacy transport runs on the SDK's own node `SSEServerTransport` over real HTTP.
    const legacy = mcp?.sseUrl !== undefined && (path === '/sse' || path === '/messages')
    const work = legacy
      ? handleLegacy(req, res, path)
      : toWebRequest(req, `http://${req.headers.host ?? 'localhost'}`)
          .then((request) => mcp!.handle(request))
          .then((response) => sendWebResponse(req, res, response))
    work.catch((error) => onError(res, error))
  })

  let oauthAddress: AddressInfo
  let mcpAddress: AddressInfo
  try {
    oauthAddress = await listen(oauthHttp, options.oauthPort ?? 0, host)
    mcpAddress = await listen(mcpHttp, options.mcpPort ?? 0, host)
  } catch (error) {
    await closeServer(oauthHttp)
    await closeServer(mcpHttp)
    throw error
  }

  const mcpOrigin = `http://${urlHost(host)}:${mcpAddress.port}`
  const mcpUrl = `${mcpOrigin}${mcpPath}`
  oauth = createMockOAuthServer({
    issuer: `http://${urlHost(host)}:${oauthAddress.port}`,
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: options.tokenTtlSeconds } : {}),
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
    ...(options.defaultAudience !== undefined ? { defaultAudience: options.defaultAudience } : {}),
    ...(options.now ? { now: options.now } : {}),
  })
  mcp = createMockMcpServer({
    url: mcpUrl,
    oauth,
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
    ...(options.toolScopes ? { toolScopes: options.toolScopes } : {}),
    ...(options.stateless !== undefined ? { stateless: options.stateless } : {}),
    ...(options.jsonResponse !== undefined ? { jsonResponse: options.jsonResponse } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    sse: sseEnabled,
  })
  const internals = mcpInternals.get(mcp)!
  const { sseMetadataUrl, sseAudience } = internals
  internals.legacyClosers.add(async () => {
    const open = [...sseSessions.values()]
    sseSessions.clear()
    await Promise.allSettled(open.map((t) => t.close()))
  })

  async function handleLegacy(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const server = mcp!
    const headers = new Headers()
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
      headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!)
    const requestUrl = new URL(req.url ?? '/', mcpOrigin)
    const sessionId = requestUrl.searchParams.get('sessionId') ?? undefined
    const rec: McpRequestRecord = {
      method: req.method ?? 'GET',
      path,
      url: requestUrl.href,
      headers: headersToRecord(headers),
      jsonRpcMethods: [],
      status: 0,
      transport: 'sse',
    }
    if (sessionId) rec.sessionId = sessionId
    server.requests.push(rec)

    let body: unknown
    let bodyOk = false
    if (req.method === 'POST') {
      const raw = await readBody(req)
      try {
        body = JSON.parse(raw.toString('utf8'))
        bodyOk = true
        const messages = Array.isArray(body) ? body : [body]
        rec.jsonRpcMethods = messages.map((m) => m?.method).filter((m): m is string => typeof m === 'string')
        rec.jsonRpcMethod = rec.jsonRpcMethods[0]
      } catch {}
    }
    const auth = await internals.authenticate(headers, sseMetadataUrl, sseAudience)
    if (!auth.ok) {
      rec.status = auth.status
      if (auth.error) rec.authError = auth.error
      sendJson(res, auth.status, auth.body, { 'www-authenticate': auth.wwwAuthenticate })
      return
    }
    if (path === '/sse') {
      if (req.method !== 'GET') {
        rec.status = 405
        sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' })
        return
      }
      const transport = new SSEServerTransport('/messages', res)
      const mcpServer = internals.createServer()
      sseSessions.set(transport.sessionId, transport)
      res.once('close', () => {
        sseSessions.delete(transport.sessionId)
        mcpServer.close().catch(() => {})
      })
      rec.status = 200
      rec.sessionId = transport.sessionId
      await mcpServer.connect(transport)
      return
    }
    // POST /messages?sessionId=…
    if (req.method !== 'POST') {
      rec.status = 405
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' })
      return
    }
    if (!bodyOk) {
      rec.status = 400
      sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null })
      return
    }
    const denied = internals.checkScopes(body, auth.authInfo, sseMetadataUrl)
    if (denied && !denied.ok) {
      rec.status = denied.status
      if (denied.error) rec.authError = denied.error
      sendJson(res, denied.status, denied.body, { 'www-authenticate': denied.wwwAuthenticate })
      return
    }
    const transport = sessionId ? sseSessions.get(sessionId) : undefined
    if (!transport) {
      rec.status = 404
      sendJson(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null })
      return
    }
    // The SDK's SSE transport reads `req.auth` (set by its own bearer middleware in Express apps).
    const authInfo: AuthInfo = {
      ...auth.authInfo,
      extra: { ...auth.authInfo.extra, cookies: parseCookies(headers.get('cookie')) },
    }
    ;(req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo
    await transport.handlePostMessage(req, res, body)
    rec.status = res.statusCode
  }

  return {
    oauth: {
      issuer: oauth.issuer,
      tokenEndpoint: oauth.tokenEndpoint,
      jwksUri: oauth.jwksUri,
      metadataUrl: oauth.metadataUrl,
      server: oauth,
    },
    mcp: {
      url: mcp.url,
      sseUrl: mcp.sseUrl,
      resourceMetadataUrl: mcp.resourceMetadataUrl,
      server: mcp,
    },
    async close() {
      await mcp!.close()
      await Promise.all([closeServer(oauthHttp), closeServer(mcpHttp)])
    },
  }
}
