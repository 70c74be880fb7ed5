import type { FetchLike, ServerConfig, TokenProvider } from '@mcp-oauth2/auth-core'
import type { Implementation } from '@modelcontextprotocol/sdk/types.js'
import type { AuthRetry } from '../fetch/bearer.js'
import { serverAttributes } from '../telemetry/attributes.js'
import { traceOperation } from '../telemetry/operation-span.js'
import { ATTR_SERVER_NAME } from '../telemetry/semconv.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import { authRetryListener, type Emit } from './events.js'
import { ManagedServer } from './managed-server.js'
import { type McpSdk, type McpVersionNegotiation, sdkV1Client, sdkV2Client } from './mcp-client.js'
import type { ReconnectPolicy } from './reconnect.js'

/** What every server of a manager is made with. */
export interface ServerFactorySettings {
  readonly sdk: McpSdk
  readonly negotiation: McpVersionNegotiation
  readonly clientInfo: Implementation
  readonly connectTimeoutMs: number
  readonly reconnect: ReconnectPolicy | undefined
  readonly now: () => number
  readonly emit: Emit | undefined
  readonly telemetry: Telemetry | undefined
  /** Called whenever a server's tools or its usability changed. */
  readonly onToolsChanged: () => void
}

/** One server's own parts, made by the manager. */
export interface ServerParts {
  readonly config: ServerConfig
  /** The service's token source (already observed for events), if any. */
  readonly provider: TokenProvider | undefined
  /** The server's auth fetch; `close()` releases its TLS pool. */
  readonly fetch: FetchLike & { close(): Promise<void> }
  /** A new SDK v1 transport over `fetch` (Streamable HTTP or SSE, by the config). */
  readonly transport: () => unknown
  /** The server's attributes on spans and metrics. */
  readonly attributes: Record<string, string | number>
  /** Values its errors must never show (static header values, client secrets). */
  readonly secrets: readonly string[]
}

/**
 * A {@link ManagedServer} over its auth fetch: a new client of the chosen SDK for each
 * connection attempt (legacy SSE servers always use v1), traced when telemetry is on.
 */
export function createManagedServer(parts: ServerParts, settings: ServerFactorySettings): ManagedServer {
  const { config, fetch, attributes } = parts
  const { sdk, negotiation, clientInfo, connectTimeoutMs, telemetry } = settings
  return new ManagedServer({
    name: config.name,
    url: config.url,
    transport: config.transport,
    provider: parts.provider,
    makeClient: (onToolsChanged) => {
      const client = { url: config.url, fetch, clientInfo, connectTimeoutMs, onToolsChanged, negotiation }
      return sdk === 'v2' && config.transport !== 'sse'
        ? sdkV2Client(client)
        : sdkV1Client(client, parts.transport)
    },
    release: () => fetch.close(),
    connectTimeoutMs,
    reconnect: settings.reconnect,
    now: settings.now,
    emit: settings.emit,
    onToolsChanged: settings.onToolsChanged,
    trace: telemetry && ((method, fn) => traceOperation(telemetry, { method, attributes }, fn)),
    secrets: parts.secrets,
  })
}

/** What the manager's public pieces make for one server: its auth fetch and its v1 transports. */
export interface ServerPipes {
  readonly fetch: FetchLike & { close(): Promise<void> }
  readonly transport: () => unknown
}

/** A server to build: its config, its service token source, the values its errors must not show. */
export interface ServerToBuild {
  readonly config: ServerConfig
  readonly tokenProvider: TokenProvider | undefined
  readonly secrets: readonly string[]
}

/**
 * The managed servers of a manager, in order, each over the pipes `pipes` makes for it (the auth
 * fetch and the transports live in public files), its token provider observed by `observe` for
 * events, its 401/403 retries reported as `auth_retry` events. When a server's settings are bad
 * (`pipes` throws, e.g. `ERR_INSECURE_HTTP`), the servers built before it are closed (their TLS
 * pools released) and the error is thrown.
 */
export function createManagedServers(
  servers: readonly ServerToBuild[],
  settings: ServerFactorySettings,
  observe: ((provider: TokenProvider, server: string) => TokenProvider) | undefined,
  pipes: (
    index: number,
    provider: TokenProvider | undefined,
    onRetry: ((retry: AuthRetry & { at: number }) => void) | undefined,
  ) => ServerPipes,
): { server: ManagedServer; attributes: Record<string, string | number> }[] {
  const built: { server: ManagedServer; attributes: Record<string, string | number> }[] = []
  const emit = settings.emit
  try {
    servers.forEach(({ config, tokenProvider, secrets }, i) => {
      const provider = tokenProvider && observe ? observe(tokenProvider, config.name) : tokenProvider
      const attributes = {
        ...serverAttributes(new URL(config.url)),
        [ATTR_SERVER_NAME]: config.name,
      } as Record<string, string | number>
      const { fetch, transport } = pipes(i, provider, emit && authRetryListener(emit, config.name))
      const parts = { config, provider, fetch, transport, attributes, secrets }
      built.push({ server: createManagedServer(parts, settings), attributes })
    })
  } catch (error) {
    for (const { server } of built) void server.close()
    throw error
  }
  return built
}
