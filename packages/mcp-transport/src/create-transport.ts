import type { FetchLike, ServerConfig, TokenProvider } from '@mcp-oauth2/auth-core'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { type AuthFetchOptions, createAuthFetch } from './auth-fetch.js'

/** Options of {@link createTransport}. */
export interface CreateTransportOptions {
  /** The token provider for this server (e.g. from `tokenProvidersFromConfig`); none: no bearer. */
  tokenProvider?: TokenProvider | undefined
  /**
   * The fetch underneath the auth fetch (for servers with `tls` settings: for every origin but
   * the server's own).
   * @default globalThis.fetch, looked up at call time
   */
  fetch?: FetchLike | undefined
  /** Streamable HTTP session to resume. */
  sessionId?: string | undefined
}

/** The SDK transport {@link createTransport} returns, per `server.transport`. */
export type McpClientTransport = StreamableHTTPClientTransport | SSEClientTransport

/**
 * The auth fetch options for a configured server: its passthrough, static headers and TLS, and
 * `oauth2.allowInsecureHttp` unless `allowInsecureHttp` says otherwise. (Not public API: the
 * manager builds one auth fetch per server from it.)
 */
export function authFetchOptionsFor(
  server: ServerConfig,
  options: {
    tokenProvider?: TokenProvider | undefined
    userTokenProvider?: TokenProvider | undefined
    fetch?: FetchLike | undefined
    allowInsecureHttp?: boolean | undefined
  },
): AuthFetchOptions {
  const tls = server.tls
  return {
    serverUrl: server.url,
    tokenProvider: options.tokenProvider,
    ...(options.userTokenProvider ? { userTokenProvider: options.userTokenProvider } : {}),
    cookies: server.cookiePassthrough,
    headers: server.headerPassthrough,
    staticHeaders: server.headers,
    allowInsecureHttp: options.allowInsecureHttp ?? server.oauth2?.allowInsecureHttp,
    fetch: options.fetch,
    tls: tls
      ? {
          caFile: tls.caFile,
          certFile: tls.certFile,
          keyFile: tls.keyFile,
          rejectUnauthorized: tls.rejectUnauthorized,
        }
      : undefined,
  }
}

/** The SDK transport for a server over a ready fetch. (Not public API.) */
export function transportOver(
  server: ServerConfig,
  fetch: FetchLike,
  sessionId?: string,
): McpClientTransport {
  const url = new URL(server.url)
  if (server.transport === 'sse') return new SSEClientTransport(url, { fetch })
  return new StreamableHTTPClientTransport(url, { fetch, ...(sessionId ? { sessionId } : {}) })
}

/**
 * The SDK's Streamable HTTP or SSE client transport for a configured server, wired with the auth
 * fetch (bearer to the server's origin only, the server's cookie and header passthrough, its
 * static headers and TLS). For SSE the fetch serves both the event stream and the POSTs. A server
 * with `tls` settings owns a connection pool: prefer `McpServerManager`, which releases it on
 * `close()`, or build the auth fetch yourself and `close()` it.
 *
 * @example
 * ```ts
 * import { Client } from '@modelcontextprotocol/sdk/client/index.js'
 * import { parseConfig, tokenProvidersFromConfig } from '@mcp-oauth2/auth-core'
 * import { readFileSync } from 'node:fs'
 * const config = parseConfig(readFileSync('config.yaml', 'utf8'))
 * const providers = tokenProvidersFromConfig(config)
 * const transport = createTransport(config.servers['crm']!, { tokenProvider: providers.get('crm') })
 * await new Client({ name: 'gateway', version: '1.0.0' }).connect(transport)
 * ```
 */
export function createTransport(
  server: ServerConfig,
  options: CreateTransportOptions = {},
): McpClientTransport {
  return transportOver(server, createAuthFetch(authFetchOptionsFor(server, options)), options.sessionId)
}
