import type { McpTransportKind, TokenProvider } from '@mcp-oauth2/auth-core'
import type { Emit } from './events.js'
import type { PendingClient } from './mcp-client.js'
import type { ReconnectPolicy } from './reconnect.js'

/** What a `ManagedServer` is made of. */
export interface ManagedServerOptions {
  readonly name: string
  readonly url: string
  readonly transport: McpTransportKind
  /** The service's token source (already observed for events), if any. */
  readonly provider: TokenProvider | undefined
  /** A new MCP client over this server's auth fetch, for each connection attempt. */
  readonly makeClient: (onToolsChanged: () => void) => PendingClient
  /** Releases what the server's auth fetch owns (its TLS pool), once, at `close()`. */
  readonly release: () => Promise<void>
  readonly connectTimeoutMs: number
  readonly reconnect: ReconnectPolicy | undefined
  readonly now: () => number
  readonly emit: Emit | undefined
  /** Called whenever the server's tools or its usability changed. */
  readonly onToolsChanged: () => void
  /** Runs an MCP operation (`initialize`, `tools/list`) inside its span, when tracing is on. */
  readonly trace?: (<T>(method: string, fn: () => Promise<T>) => Promise<T>) | undefined
  /**
   * Credential values of this server that its errors must never show, even when the server
   * echoes them: its static header values, the client secrets of its token providers.
   */
  readonly secrets?: readonly string[] | undefined
}

/** The `trace` of a manager without telemetry: runs the operation as it is. */
export function untraced<T>(_method: string, fn: () => Promise<T>): Promise<T> {
  return fn()
}
