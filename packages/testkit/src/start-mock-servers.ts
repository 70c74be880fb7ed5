import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { MockDpopOptions } from './dpop-options.js'
import { TestkitError, TestkitErrorCode } from './errors.js'
import { isLoopbackHost } from './internal/loopback.js'
import { sendWebResponse, toWebRequest } from './internal/node-http.js'
import { createMockMcpServer, type MockMcpServer } from './mock-mcp-server.js'
import type { MockMcpServerOptions } from './mock-mcp-server-options.js'
import {
  createMockOAuthServer,
  type MockOAuthServer,
  type MockOAuthServerOptions,
} from './mock-oauth-server.js'

/** Options of {@link startMockServers}: those of both mock servers, plus where to listen. */
export interface StartMockServersOptions
  extends Omit<MockOAuthServerOptions, 'issuer' | 'dpop'>,
    Omit<MockMcpServerOptions, 'oauth' | 'url' | 'dpop'> {
  /**
   * DPoP for both servers (each keeps its own nonce): the token endpoint and the MCP endpoint.
   * @default {} (DPoP accepted, not required, no nonce)
   */
  dpop?: MockDpopOptions
  /**
   * Address to listen on. An address that is not loopback (`0.0.0.0`, a LAN address, a hostname)
   * is refused with `ERR_TESTKIT_NON_LOOPBACK_HOST` unless `allowRemote` is set: the mock servers
   * hand out tokens to anyone who asks and accept them without real security.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Allow a `host` that is not loopback. Starting such servers calls `onWarning`.
   * @default false
   */
  allowRemote?: boolean
  /**
   * Called with a warning, e.g. when listening on a non-loopback address.
   * @default process.emitWarning
   */
  onWarning?: (message: string) => void
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
  if (typeof host !== 'string' || host === '') throw new TypeError('"host" option must be a non-empty string')
  const remote = !isLoopbackHost(host)
  if (remote && options.allowRemote !== true) {
    throw new TestkitError(
      TestkitErrorCode.NonLoopbackHost,
      `refusing to listen on ${host}: it is not a loopback address; set allowRemote: true (CLI: --allow-remote) to expose the mock servers`,
    )
  }
  const mcpPath = options.mcpPath ?? '/mcp'
  if (!mcpPath.startsWith('/')) throw new TypeError('"mcpPath" option must start with "/"')
  const sseEnabled = options.sse ?? true
  let oauth: MockOAuthServer | undefined
  let mcp: MockMcpServer | undefined

  const onError = (res: ServerResponse, error: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(error) })
    else res.destroy()
  }

  // Both servers answer through the same Fetch-API handlers as their msw handlers (legacy SSE
  // included: its event stream is a streamed Response body). The request URL gets the server's own
  // origin whatever address it arrived on; the Host header is kept for the DNS-rebinding check.
  const serve = (target: () => { origin: string; handle(request: Request): Promise<Response> }) =>
    createServer((req, res) => {
      toWebRequest(req, target().origin)
        .then((request) => target().handle(request))
        .then((response) => sendWebResponse(req, res, response))
        .catch((error) => onError(res, error))
    })
  const oauthHttp = serve(() => ({ origin: oauth!.issuer, handle: oauth!.handle }))
  const mcpHttp = serve(() => ({ origin: new URL(mcp!.url).origin, handle: mcp!.handle }))

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

  if (remote) {
    const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, 'TestkitWarning'))
    warn(
      `the mock servers listen on ${host}, which is not loopback: anyone who can reach ports ${oauthAddress.port} and ${mcpAddress.port} can get tokens and call tools`,
    )
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
    ...(options.trustedIssuers ? { trustedIssuers: options.trustedIssuers } : {}),
    ...(options.idJagTtlSeconds !== undefined ? { idJagTtlSeconds: options.idJagTtlSeconds } : {}),
    ...(options.dpop ? { dpop: options.dpop } : {}),
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
    ...(options.protocolVersion !== undefined ? { protocolVersion: options.protocolVersion } : {}),
    ...(options.cacheHints !== undefined ? { cacheHints: options.cacheHints } : {}),
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
    ...(options.conformanceFixtures !== undefined
      ? { conformanceFixtures: options.conformanceFixtures }
      : {}),
    ...(options.allowedHosts !== undefined ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.dpop ? { dpop: options.dpop } : {}),
    sse: sseEnabled,
  })
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
