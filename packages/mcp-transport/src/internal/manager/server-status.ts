import type { McpTransportKind } from '@mcp-oauth2/auth-core'
import type { ServerUnavailableError } from '../../errors.js'

/** Connection state of a server. */
export type ServerState = 'idle' | 'connecting' | 'connected' | 'failed' | 'closed'

/** One server's status, from `connect()` and `status()`. */
export interface ServerStatus {
  readonly name: string
  readonly url: string
  readonly transport: McpTransportKind
  readonly state: ServerState
  /** Why the last attempt failed (when `state` is `failed`). */
  readonly error: ServerUnavailableError | undefined
  /** Consecutive failed attempts. */
  readonly attempts: number
  /** When the next background attempt is due, epoch ms. */
  readonly nextRetryAt: number | undefined
  /** Tools it offers (0 unless connected). */
  readonly toolCount: number
  /** The MCP revision negotiated (`2026-07-28`, `2025-11-25`, …), once connected. */
  readonly protocolVersion: string | undefined
}

/** Per-call options of `McpServerManager.callTool`. */
export interface CallToolOptions {
  /** Aborts the call. */
  signal?: AbortSignal | undefined
  /**
   * The model's id of this call (`tool_call_id`, `call_id`, `tool_use_id`), for the span's
   * `gen_ai.tool.call.id`; `runToolCalls` passes it.
   * @default none
   */
  toolCallId?: string | undefined
  /**
   * Timeout of the call, in milliseconds.
   * @default the SDK's (60000)
   */
  timeoutMs?: number | undefined
}
