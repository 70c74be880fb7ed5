/** The options of the mock MCP server (`createMockMcpServer`) and the MCP revisions it serves. */
import type { MockDpopOptions } from './dpop-options.js'
import type { MockOAuthServer } from './mock-oauth-server.js'
import type { MockTool } from './seed-tools.js'

/** An MCP revision the mock MCP server can serve. */
export type McpProtocolVersion = '2026-07-28' | '2025-11-25' | '2025-06-18' | '2025-03-26' | '2024-11-05'

/** The list (and read) operations whose 2026-07-28 results carry `ttlMs` and `cacheScope` (SEP-2549). */
export type McpCacheableMethod =
  | 'tools/list'
  | 'prompts/list'
  | 'resources/list'
  | 'resources/templates/list'
  | 'resources/read'
  | 'server/discover'

/** Cache hints per operation; an operation left out gets `ttlMs: 0`, `cacheScope: 'private'`. */
export type McpCacheHints = Partial<
  Record<McpCacheableMethod, { ttlMs?: number; cacheScope?: 'public' | 'private' }>
>

/** Options of {@link createMockMcpServer}. */
export interface MockMcpServerOptions {
  /**
   * The MCP endpoint (Streamable HTTP). It is also the RFC 8707 resource identifier.
   * @default 'https://mcp.mock.test/mcp'
   */
  url?: string
  /** The authorization server whose tokens this server accepts (issuer and current keys). */
  oauth: MockOAuthServer
  /**
   * Accepted `aud` values of access tokens.
   * @default the server's `url`
   */
  audience?: string | string[]
  /**
   * The tools served.
   * @default the four seed tools (`createSeedTools()`)
   */
  tools?: MockTool[]
  /**
   * Scopes each tool needs, by tool name; a call without them is answered 403 `insufficient_scope`.
   * Tools not listed use their own `scopes`.
   * @default seedToolScopes (get_customer_info/get_recent_customers → customer:read, create_support_ticket → ticket:create, calculate_account_value → account:calculate)
   */
  toolScopes?: Record<string, readonly string[]>
  /**
   * Serve only this MCP revision. `'2026-07-28'`: sessionless only (a 2025 client's `initialize`
   * gets `-32022`). A 2025-era version: that one only (a 2026 client's `server/discover` probe gets
   * 400, so it falls back to `initialize`, which settles on this version).
   * @default undefined (every revision; the client's negotiation decides)
   */
  protocolVersion?: McpProtocolVersion
  /**
   * Stateless 2025-era serving: no `Mcp-Session-Id`, a new SDK server and transport per request.
   * (2026-07-28 is sessionless anyway.)
   * @default false
   */
  stateless?: boolean
  /**
   * Answer with plain JSON instead of SSE streams (always true for stateless 2025-era requests).
   * @default false
   */
  jsonResponse?: boolean
  /**
   * `ttlMs` / `cacheScope` of 2026-07-28 list results, per list; change them later with
   * `setCacheHints`.
   * @default {} (ttlMs 0, cacheScope 'private' everywhere)
   */
  cacheHints?: McpCacheHints
  /**
   * DPoP (RFC 9449 §7): `DPoP`-scheme tokens must carry `cnf.jkt` and come with a proof for this
   * request (`htm`, `htu`, `iat`, `jti` not replayed, `ath`, the key of `cnf.jkt`, and the nonce
   * when one is required); a DPoP-bound token sent as `Bearer` is refused.
   * @default {} (DPoP accepted, not required, no nonce)
   */
  dpop?: MockDpopOptions
  /**
   * Check bearer tokens and tool scopes. `false` serves anyone (the conformance suite sends no token).
   * @default true
   */
  auth?: boolean
  /**
   * Also serve the fixtures the official MCP conformance suite's server scenarios call by name
   * (`test_simple_text` and the other `test_*` tools, listed before the others; prompts;
   * resources; a resource template; completion; subscriptions; logging).
   * @default false
   */
  conformanceFixtures?: boolean
  /**
   * Host names (no port) accepted in `Host` and `Origin` besides the url's host and `localhost`,
   * `127.0.0.1`, `[::1]`; `['*']` accepts any. Others get 403 (DNS-rebinding protection).
   * @default []
   */
  allowedHosts?: string[]
  /**
   * Also serve the legacy HTTP+SSE transport (MCP 2024-11-05): the event stream at `{origin}/sse`,
   * messages at `{origin}/messages`. It accepts tokens for `audience` or for the `/sse` URL.
   * Per origin: give other mock servers on the same origin `sse: false`.
   * @default true (false when `url` itself ends in `/sse` or `/messages`)
   */
  sse?: boolean
  /**
   * Server name reported in `initialize` and `server/discover`.
   * @default 'mock-mcp-server'
   */
  name?: string
}
