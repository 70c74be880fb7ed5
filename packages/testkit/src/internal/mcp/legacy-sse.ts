/**
 * The legacy HTTP+SSE transport (MCP 2024-11-05) on Fetch API objects: the event stream is a
 * `Response` body, so the same code serves msw handlers and the loopback node server (which
 * streams any `Response`). JSON-RPC handling stays in the SDK's `Server`. Never re-exported.
 */
import { randomUUID } from 'node:crypto'
import {
  type AuthInfo,
  type JSONRPCMessage,
  type McpServer,
  type MessageExtraInfo,
  parseJSONRPCMessage,
  type Transport,
} from '@modelcontextprotocol/server'
import { jsonResponse } from '../http.js'

export class WebSseServerTransport implements Transport {
  readonly sessionId = randomUUID()
  /** The event-stream response to answer the GET with. */
  readonly response: Response
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: Transport['onmessage']
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined
  #closed = false
  readonly #endpoint: string
  readonly #encoder = new TextEncoder()

  constructor(endpoint: string) {
    this.#endpoint = endpoint
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller
      },
      cancel: () => {
        this.#finish()
      },
    })
    this.response = new Response(stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' },
    })
  }

  async start(): Promise<void> {
    this.#write('endpoint', `${this.#endpoint}?sessionId=${encodeURIComponent(this.sessionId)}`)
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error('Not connected')
    this.#write('message', JSON.stringify(message))
  }

  /** Delivers one POSTed message; throws when it is not a JSON-RPC message. */
  receive(body: unknown, extra: MessageExtraInfo): void {
    let message: JSONRPCMessage
    try {
      message = parseJSONRPCMessage(body)
    } catch (error) {
      this.onerror?.(error as Error)
      throw error
    }
    this.onmessage?.(message, extra)
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      try {
        this.#controller?.close()
      } catch {
        // Already closed or cancelled by the reader.
      }
    }
    this.#finish()
  }

  #write(event: string, data: string): void {
    if (this.#closed) return
    try {
      this.#controller?.enqueue(this.#encoder.encode(`event: ${event}\ndata: ${data}\n\n`))
    } catch {
      this.#finish()
    }
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    this.onclose?.()
  }
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return jsonResponse({ jsonrpc: '2.0', error: { code, message }, id: null }, status)
}

/** Why a POSTed message was not delivered. */
export type SseDeliveryFailure = 'no-session' | 'invalid-message'

/** The open legacy SSE sessions of one mock MCP server. */
export class LegacySseSessions {
  readonly #sessions = new Map<string, { transport: WebSseServerTransport; server: McpServer }>()
  readonly #messagesPath: string

  constructor(messagesPath: string) {
    this.#messagesPath = messagesPath
  }

  /** Opens a session on a new server; answer the GET with `transport.response`. */
  async open(server: McpServer): Promise<WebSseServerTransport> {
    const transport = new WebSseServerTransport(this.#messagesPath)
    this.#sessions.set(transport.sessionId, { transport, server })
    transport.onclose = () => {
      this.#sessions.delete(transport.sessionId)
      server.close().catch(() => {})
    }
    await server.connect(transport)
    return transport
  }

  /** Delivers one POSTed JSON-RPC message to its session (answered on the session's stream). */
  deliver(
    sessionId: string | undefined,
    body: unknown,
    extra: MessageExtraInfo,
  ): SseDeliveryFailure | undefined {
    const session = sessionId ? this.#sessions.get(sessionId) : undefined
    if (!session) return 'no-session'
    try {
      session.transport.receive(body, extra)
    } catch {
      return 'invalid-message'
    }
    return undefined
  }

  /**
   * Answers an admitted legacy SSE request: GET (`stream`) opens a session on a new server; POST
   * delivers one message to `sessionId`, answered on that session's stream.
   */
  async serve(
    request: Request,
    stream: boolean,
    sessionId: string | undefined,
    admitted: { body?: unknown; bodyOk?: boolean; authInfo?: AuthInfo | undefined },
    createServer: () => McpServer,
  ): Promise<{ response: Response; sessionId?: string; protocolVersion?: string }> {
    if (request.method !== (stream ? 'GET' : 'POST')) {
      return {
        response: jsonResponse({ error: 'method_not_allowed' }, 405, { allow: stream ? 'GET' : 'POST' }),
      }
    }
    if (stream) {
      const transport = await this.open(createServer())
      return { response: transport.response, sessionId: transport.sessionId }
    }
    if (!admitted.bodyOk) {
      return { response: jsonRpcError(400, -32700, 'Parse error') }
    }
    const outcome = this.deliver(sessionId, admitted.body, { authInfo: admitted.authInfo, request })
    if (outcome === 'no-session') return { response: jsonRpcError(404, -32001, 'Session not found') }
    if (outcome === 'invalid-message') return { response: new Response('Invalid message', { status: 400 }) }
    // No body: the SDK client cancels the body of a 202, and cancelling a body that msw has
    // tee'd for its own events never settles.
    return {
      response: new Response(null, { status: 202 }),
      protocolVersion: this.protocolVersion(sessionId) ?? '2024-11-05',
    }
  }

  /** The revision a session's `initialize` settled on. */
  protocolVersion(sessionId: string | undefined): string | undefined {
    const session = sessionId ? this.#sessions.get(sessionId) : undefined
    return session?.server.server.getNegotiatedProtocolVersion()
  }

  /** Closes every session and its event stream. */
  async close(): Promise<void> {
    const open = [...this.#sessions.values()]
    this.#sessions.clear()
    await Promise.allSettled(open.map(async (s) => s.server.close()))
    await Promise.allSettled(open.map(async (s) => s.transport.close()))
  }
}
