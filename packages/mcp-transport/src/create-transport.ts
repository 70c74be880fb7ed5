import type { FetchLike, ServerConfig, TokenProvider } from '@mcp-oauth2/auth-core'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createAuthFetch } from './auth-fetch.js'

/** Options of {@link createTransport}. */
export interface CreateTransportOptions {
  /** The token provider for this server (e.g. from `tokenProvidersFromConfig`); none: no bearer. */
  tokenProvider?: TokenProvider | undefined
  /**
   * The fetch underneath the auth fetch (ignored for servers with `tls` settings).
   * @default globalThis.fetch, looked up at call time
   */
  fetch?: FetchLike | undefined
  /** Streamable HTTP session to resume. */
  sessionId?: string | undefined
}

/** The SDK transport {@link createTransport} returns, per `server.transport`. */
export type McpClientTransport = StreamableHTTPClientTransport | SSEClientTransport

/**
 * The SDK's Streamable HTTP or SSE client transport for a configured server, wired with the auth
 * fetch (bearer to the server's origin only, the server's cookie and header passthrough, its
 * static headers and TLS). For SSE the fetch serves both the event stream and the POSTs.
 *
 * @example
 * ```ts
 * const transport = createTransport(config.servers.crm, { tokenProvider: providers.get('crm') })
 * await new Client({ name: 'gateway', version: '1.0.0' }).connect(transport)
 * ```
 */
export function createTransport(
  server: ServerConfig,
  options: CreateTransportOptions = {},
): McpClientTransport {
  const tls = server.tls
  const fetch = createAuthFetch({
    serverUrl: server.url,
    tokenProvider: options.tokenProvider,
    cookies: server.cookiePassthrough,
    headers: server.headerPassthrough,
    staticHeaders: server.headers,
    allowInsecureHttp: server.oauth2?.allowInsecureHttp,
    fetch: options.fetch,
    tls: tls
      ? {
          caFile: tls.caFile,
          certFile: tls.certFile,
          keyFile: tls.keyFile,
          rejectUnauthorized: tls.rejectUnauthorized,
        }
      : undefined,
  })
  const url = new URL(server.url)
  if (server.transport === 'sse') return new SSEClientTransport(url, { fetch })
  return new StreamableHTTPClientTransport(url, {
    fetch,
    ...(options.sessionId ? { sessionId: options.sessionId } : {}),
  })
}
