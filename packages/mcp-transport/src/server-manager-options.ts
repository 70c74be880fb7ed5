import type { FetchLike, TokenProviderFromConfigOptions, ToolScopePolicy } from '@mcp-oauth2/auth-core'
import type { Implementation } from '@modelcontextprotocol/sdk/types.js'
import type { McpManagerEvent } from './internal/manager/events.js'
import type { McpSdk, McpVersionNegotiation } from './internal/manager/mcp-client.js'
import type { ScopeVerifier } from './internal/manager/preflight.js'
import type { RateLimitsOptions } from './internal/manager/rate-limit-options.js'
import type { ReconnectOptions } from './internal/manager/reconnect.js'
import type { TelemetryOptions } from './internal/telemetry/telemetry.js'
import type { McpServerDefinition } from './server-definition.js'

/** Options shared by `new McpServerManager(…)` and `McpServerManager.fromConfig`. */
export interface McpServerManagerBaseOptions {
  /**
   * The fetch underneath every transport (and, with `fromConfig`, the token providers).
   * @default globalThis.fetch, looked up at call time
   */
  fetch?: FetchLike | undefined
  /**
   * Clock for event timestamps and durations (and, with `fromConfig`, token expiry), epoch ms.
   * @default Date.now
   */
  now?: (() => number) | undefined
  /**
   * Which scopes each tool requires: a policy from `createToolScopePolicy`, or its map (then
   * unknown tools are denied). Keys may be plain tool names or `<server>__<tool>` (which wins).
   * With it, `callTool` checks the service token's scopes before sending anything.
   * @default no pre-flight check
   */
  toolScopes?: ToolScopePolicy | Readonly<Record<string, readonly string[]>> | undefined
  /**
   * Verifies the service token in the pre-flight check (its verified scopes are used); one for
   * all servers, or one per server (tokens differ in `aud`). Without it, the check uses the
   * scopes of the token response (`AccessToken.scopes`).
   * @default none
   */
  verifier?: ScopeVerifier | ((server: string) => ScopeVerifier | undefined) | undefined
  /**
   * Receives audit events. It never sees a token, secret or cookie value. A throwing listener is
   * ignored.
   * @default none
   */
  onEvent?: ((event: McpManagerEvent) => void) | undefined
  /**
   * Background reconnection of failed servers; `false` turns it off.
   * @default { initialDelayMs: 1000, maxDelayMs: 60000, maxAttempts: Infinity }
   */
  retry?: ReconnectOptions | false | undefined
  /**
   * The MCP client's `clientInfo`.
   * @default { name: 'mcp-oauth2-kit', version: '0.1.0' }
   */
  clientInfo?: Implementation | undefined
  /**
   * Timeout of one connection attempt (initialize and tool listing), in milliseconds.
   * @default 10000
   */
  connectTimeoutMs?: number | undefined
  /**
   * The MCP SDK whose client connects to Streamable HTTP servers: `v1`
   * (`@modelcontextprotocol/sdk`, MCP 2025-11-25 and earlier) or `v2` (`@modelcontextprotocol/client`,
   * an optional peer, which also speaks 2026-07-28). Legacy SSE servers always use v1.
   * @default 'v1'
   */
  sdk?: McpSdk | undefined
  /**
   * With `sdk: 'v2'`: how the revision is chosen. `auto`: 2026-07-28 when the server offers it,
   * else the 2025 revisions; `legacy`: 2025 only; `{ pin: '2026-07-28' }`: that or fail.
   * @default 'auto'
   */
  versionNegotiation?: McpVersionNegotiation | undefined
  /**
   * Rate limits per user, per tool, per server and global, checked before anything is sent (a
   * refused call throws `RateLimitedError`, `ERR_RATE_LIMITED`, and emits `rate_limited`). In
   * memory, or shared by every replica with `redis`. With `fromConfig`, given here, it replaces
   * the config's `rate_limits:` (`config.rateLimits`) as a whole.
   * @default no limits (with `fromConfig`: the config's `rate_limits:`, if any)
   */
  rateLimits?: RateLimitsOptions | undefined
  /**
   * OpenTelemetry: spans for tool calls (`tools/call <tool>`), `initialize`, `tools/list`, the
   * HTTP requests under them and token requests; metrics; W3C trace context to each MCP
   * server's origin only. On when `@opentelemetry/api` is installed (global providers unless
   * given); `false` turns it off. Without `@opentelemetry/api` nothing is loaded.
   * @default the global providers when `@opentelemetry/api` is installed, else off
   */
  telemetry?: TelemetryOptions | false | undefined
}

/** Options of `new McpServerManager(…)`. */
export interface McpServerManagerOptions extends McpServerManagerBaseOptions {
  servers: readonly McpServerDefinition[]
}

/** Options of `McpServerManager.fromConfig`. */
export interface McpServerManagerConfigOptions extends McpServerManagerBaseOptions {
  /**
   * Defaults for the token providers built from the config (retry, timeouts, …). A `store`
   * here wins over the config's `token_store`.
   */
  tokenProviderOptions?: Omit<TokenProviderFromConfigOptions, 'fetch' | 'now'> | undefined
  /**
   * The node-redis client for a `token_store` of `type: redis` (instead of its `url`); yours to
   * close.
   * @default a client the store creates from `token_store.url`, closed by `close()`
   */
  tokenStoreClient?: object | undefined
}
