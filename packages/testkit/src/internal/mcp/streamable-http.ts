/**
 * The Streamable HTTP side of the mock MCP server, for every revision at one URL: 2026-07-28
 * requests go to the SDK's `createMcpHandler` (sessionless), 2025-era traffic to session-keeping
 * `WebStandardStreamableHTTPServerTransport`s (or one per request when stateless), routed by the
 * SDK's own `isLegacyRequest` classifier. Never re-exported.
 */
import { randomUUID } from 'node:crypto'
import {
  type AuthInfo,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type McpHttpHandler,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server'
import { jsonResponse } from '../http.js'

export const MODERN_VERSION = '2026-07-28'

/** How the endpoint serves. */
export interface StreamableHttpOptions {
  /** A fresh SDK server for one session or request of `era`. */
  createServer(era: 'legacy' | 'modern'): McpServer
  /** `'modern'`: 2026-07-28 only; `'legacy'`: 2025-era only; `undefined`: whatever the client speaks. */
  pin: 'modern' | 'legacy' | undefined
  /** 2025-era requests without sessions (a new server and transport per request). */
  stateless: boolean
  /** Plain JSON answers instead of SSE streams. */
  jsonResponse: boolean
  /** The 2025-era revisions served, preferred first (what `initialize` settles on). */
  legacyVersions: readonly string[]
}

/** One answered request, with the revision it was served in. */
export interface Served {
  response: Response
  protocolVersion: string | undefined
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport
  server: McpServer
}

function envelopeVersion(body: unknown): string | undefined {
  const first = Array.isArray(body) ? body[0] : body
  const meta = (first as { params?: { _meta?: Record<string, unknown> } } | undefined)?.params?._meta
  const version = meta?.['io.modelcontextprotocol/protocolVersion']
  return typeof version === 'string' ? version : undefined
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return jsonResponse({ jsonrpc: '2.0', error: { code, message }, id: null }, status)
}

export class StreamableHttpEndpoint {
  readonly #options: StreamableHttpOptions
  readonly #modern: McpHttpHandler | undefined
  readonly #sessions = new Map<string, Session>()
  readonly #perRequest = new Set<McpServer>()

  constructor(options: StreamableHttpOptions) {
    this.#options = options
    this.#modern =
      options.pin === 'legacy'
        ? undefined
        : createMcpHandler(() => options.createServer('modern'), {
            legacy: 'reject',
            responseMode: options.jsonResponse ? 'json' : 'auto',
          })
  }

  /** Which era serves `request`: the pin, else the SDK's classifier (GET and DELETE are 2025 session operations). */
  async #era(request: Request, parsedBody: unknown, bodyOk: boolean): Promise<'legacy' | 'modern'> {
    if (this.#options.pin) return this.#options.pin
    if (request.method !== 'POST') return 'legacy'
    const legacy = bodyOk ? await isLegacyRequest(request, parsedBody) : await isLegacyRequest(request)
    return legacy ? 'legacy' : 'modern'
  }

  async serve(
    request: Request,
    authInfo: AuthInfo | undefined,
    parsedBody: unknown,
    bodyOk: boolean,
  ): Promise<Served> {
    const era = await this.#era(request, parsedBody, bodyOk)
    const options = bodyOk ? { authInfo, parsedBody } : { authInfo }
    if (era === 'modern' && this.#modern) {
      const response = await this.#modern.fetch(request, options)
      return {
        response,
        protocolVersion:
          envelopeVersion(parsedBody) ?? request.headers.get('mcp-protocol-version') ?? MODERN_VERSION,
      }
    }
    if (this.#options.stateless) return this.#serveStateless(request, options)
    return this.#serveSession(request, options, parsedBody, bodyOk)
  }

  async #serveStateless(
    request: Request,
    options: { authInfo?: AuthInfo; parsedBody?: unknown },
  ): Promise<Served> {
    const server = this.#options.createServer('legacy')
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true })
    this.#perRequest.add(server)
    try {
      await server.connect(transport)
      const response = await transport.handleRequest(request, options)
      const protocolVersion =
        request.headers.get('mcp-protocol-version') ??
        server.server.getNegotiatedProtocolVersion() ??
        undefined
      return { response, protocolVersion }
    } finally {
      this.#perRequest.delete(server)
      await server.close()
    }
  }

  async #serveSession(
    request: Request,
    options: { authInfo?: AuthInfo; parsedBody?: unknown },
    parsedBody: unknown,
    bodyOk: boolean,
  ): Promise<Served> {
    const sessionId = request.headers.get('mcp-session-id')
    if (sessionId) {
      const session = this.#sessions.get(sessionId)
      if (!session)
        return { response: jsonRpcError(404, -32001, 'Session not found'), protocolVersion: undefined }
      const protocolVersion =
        request.headers.get('mcp-protocol-version') ?? session.server.server.getNegotiatedProtocolVersion()
      return { response: await session.transport.handleRequest(request, options), protocolVersion }
    }
    const messages = Array.isArray(parsedBody) ? parsedBody : [parsedBody]
    if (request.method !== 'POST' || !bodyOk || !messages.some((m) => isInitializeRequest(m))) {
      return {
        response: jsonRpcError(400, -32000, 'Bad Request: No valid session ID provided'),
        protocolVersion: undefined,
      }
    }
    const server = this.#options.createServer('legacy')
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: this.#options.jsonResponse,
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { transport, server })
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id)
      },
    })
    transport.onclose = () => {
      if (transport.sessionId) this.#sessions.delete(transport.sessionId)
    }
    await server.connect(transport)
    const response = await transport.handleRequest(request, options)
    return {
      response,
      protocolVersion: server.server.getNegotiatedProtocolVersion() ?? this.#negotiated(messages),
    }
  }

  /** What `initialize` settles on: the client's version when served, else the server's first. */
  #negotiated(messages: unknown[]): string | undefined {
    const init = messages.find((m) => isInitializeRequest(m)) as
      | { params?: { protocolVersion?: unknown } }
      | undefined
    const asked = init?.params?.protocolVersion
    const served = this.#options.legacyVersions
    return typeof asked === 'string' && served.includes(asked) ? asked : served[0]
  }

  /** Ends every session and in-flight per-request server. */
  async close(): Promise<void> {
    const open = [...this.#sessions.values()]
    this.#sessions.clear()
    await Promise.allSettled(open.map((s) => s.server.close()))
    await Promise.allSettled([...this.#perRequest].map((s) => s.close()))
    this.#perRequest.clear()
    await this.#modern?.close()
  }
}
