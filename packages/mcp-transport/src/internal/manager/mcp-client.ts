import type { FetchLike } from '@mcp-oauth2/auth-core'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  type CallToolResult,
  type Implementation,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'

/** Which MCP SDK's client a server is connected with. */
export type McpSdk = 'v1' | 'v2'

/**
 * How the SDK v2 client picks the MCP revision: `auto` (2026-07-28 when the server offers it,
 * else 2025-11-25 and earlier), `legacy` (2025 only), or a revision pinned (no fallback).
 */
export type McpVersionNegotiation = 'auto' | 'legacy' | { readonly pin: string }

/** A tool list as the server sent it, with the cache hints of 2026-07-28 (absent before). */
export interface ListedTools {
  readonly tools: readonly Tool[]
  /** How long the list may be reused, ms (`0`: not at all); `undefined` when the server said nothing. */
  readonly ttlMs: number | undefined
  /** `private`: for the authorization context it was listed in only; `undefined`: not said. */
  readonly cacheScope: 'public' | 'private' | undefined
}

/** A connected MCP client, whichever SDK it comes from. */
export interface McpClientHandle {
  /** The negotiated MCP revision (`2026-07-28`, `2025-11-25`, …). */
  readonly protocolVersion: string | undefined
  /** The Streamable HTTP session, when the revision has sessions. */
  readonly sessionId: string | undefined
  /** Every page of `tools/list` (each request bounded by `timeoutMs`), in the caller's context. */
  listTools(timeoutMs: number): Promise<ListedTools>
  callTool(
    name: string,
    args: Record<string, unknown>,
    options: { signal?: AbortSignal | undefined; timeout?: number | undefined },
  ): Promise<CallToolResult>
  /** Whether `err` says the server forgot our session (HTTP 404 with a session). */
  isSessionExpired(err: unknown): boolean
  /** Ends the session (HTTP DELETE), when there is one. */
  terminateSession(): Promise<void>
  close(): Promise<void>
}

/** What a client is made with. */
export interface McpClientSettings {
  readonly url: string
  readonly fetch: FetchLike
  readonly clientInfo: Implementation
  readonly connectTimeoutMs: number
  /** Called on `notifications/tools/list_changed`. */
  readonly onToolsChanged: () => void
  readonly negotiation: McpVersionNegotiation
}

/** The not-yet-connected client: closed if the manager closes while it connects. */
export interface PendingClient {
  connect(): Promise<McpClientHandle>
  close(): Promise<void>
}

function cacheHints(result: { ttlMs?: unknown; cacheScope?: unknown }): Omit<ListedTools, 'tools'> {
  const ttl = result.ttlMs
  const scope = result.cacheScope
  return {
    ttlMs: typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0 ? ttl : undefined,
    cacheScope:
      scope === 'public' || scope === 'private' ? scope : scope === undefined ? undefined : 'private',
  }
}

/** A client of SDK v1 over a v1 transport (Streamable HTTP or SSE). */
export function sdkV1Client(settings: McpClientSettings, transport: () => unknown): PendingClient {
  const client = new Client(settings.clientInfo, { capabilities: {} })
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => settings.onToolsChanged())
  return {
    async connect(): Promise<McpClientHandle> {
      const made = transport() as StreamableHTTPClientTransport
      await client.connect(made, { timeout: settings.connectTimeoutMs })
      const sessionId = made instanceof StreamableHTTPClientTransport ? made.sessionId : undefined
      return {
        protocolVersion: made instanceof StreamableHTTPClientTransport ? made.protocolVersion : undefined,
        sessionId,
        async listTools(timeoutMs) {
          const tools: Tool[] = []
          let cursor: string | undefined
          let hints: Omit<ListedTools, 'tools'> | undefined
          do {
            const page = await client.listTools(cursor === undefined ? {} : { cursor }, {
              timeout: timeoutMs,
            })
            hints ??= cacheHints(page as { ttlMs?: unknown; cacheScope?: unknown })
            tools.push(...page.tools)
            cursor = page.nextCursor
          } while (cursor !== undefined)
          return { tools, ...(hints ?? { ttlMs: undefined, cacheScope: undefined }) }
        },
        async callTool(name, args, options) {
          return (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult
        },
        isSessionExpired(err) {
          return err instanceof StreamableHTTPError && err.code === 404 && sessionId !== undefined
        },
        async terminateSession() {
          if (made instanceof StreamableHTTPClientTransport && made.sessionId) await made.terminateSession()
        },
        close: () => client.close(),
      }
    },
    close: () => client.close(),
  }
}

type SdkV2 = typeof import('@modelcontextprotocol/client')

let sdkV2: Promise<SdkV2> | undefined

/** A client of SDK v2 (`@modelcontextprotocol/client`, an optional peer, imported on first use). */
export function sdkV2Client(settings: McpClientSettings): PendingClient {
  let client: InstanceType<SdkV2['Client']> | undefined
  let closed = false
  return {
    async connect(): Promise<McpClientHandle> {
      sdkV2 ??= import('@modelcontextprotocol/client')
      const mod = await sdkV2
      const transport = new mod.StreamableHTTPClientTransport(new URL(settings.url), {
        fetch: settings.fetch as never,
      })
      const negotiation = settings.negotiation
      const made = new mod.Client(settings.clientInfo, {
        capabilities: {},
        versionNegotiation: {
          mode: typeof negotiation === 'string' ? negotiation : { pin: negotiation.pin },
        },
      } as never)
      client = made
      if (closed) throw new Error('closed')
      made.setNotificationHandler('notifications/tools/list_changed', () => settings.onToolsChanged())
      await made.connect(transport, { timeout: settings.connectTimeoutMs })
      return {
        get protocolVersion() {
          return made.getNegotiatedProtocolVersion()
        },
        get sessionId() {
          return transport.sessionId
        },
        async listTools(timeoutMs) {
          const tools: Tool[] = []
          let cursor: string | undefined
          let hints: Omit<ListedTools, 'tools'> | undefined
          do {
            // Our cache decides (per user for private lists): the SDK's own must not answer.
            const page = await made.listTools(cursor === undefined ? undefined : { cursor }, {
              timeout: timeoutMs,
              cacheMode: 'bypass',
            })
            hints ??= cacheHints(page as { ttlMs?: unknown; cacheScope?: unknown })
            tools.push(...(page.tools as Tool[]))
            cursor = page.nextCursor
          } while (cursor !== undefined)
          return { tools, ...(hints ?? { ttlMs: undefined, cacheScope: undefined }) }
        },
        async callTool(name, args, options) {
          return (await made.callTool({ name, arguments: args }, options)) as CallToolResult
        },
        isSessionExpired(err) {
          const e = err as { name?: unknown; status?: unknown }
          return e?.name === 'SdkHttpError' && e.status === 404 && transport.sessionId !== undefined
        },
        async terminateSession() {
          if (transport.sessionId) await transport.terminateSession()
        },
        close: () => made.close(),
      }
    },
    async close() {
      closed = true
      await client?.close()
    },
  }
}
