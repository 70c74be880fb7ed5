/**
 * The legacy HTTP+SSE server transport (MCP 2024-11-05) on Fetch API objects, for msw. It mirrors
 * the SDK's `SSEServerTransport`, which needs a node `ServerResponse` (the loopback server uses
 * the SDK's own). JSON-RPC handling stays in the SDK's `Server`. Never re-exported.
 */
import { randomUUID } from 'node:crypto'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js'

export class WebSseServerTransport implements Transport {
  readonly sessionId = randomUUID()
  /** The event-stream response to answer the GET with. */
  readonly response: Response
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void
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
      message = JSONRPCMessageSchema.parse(body)
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
