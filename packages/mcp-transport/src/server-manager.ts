import {
  createToolScopePolicy,
  type FetchLike,
  type McpConfig,
  type ServerConfig,
  type TokenProvider,
  type TokenProviderEvent,
  type TokenProviderFromConfigOptions,
  type ToolScopePolicy,
  tokenProvidersFromConfig,
  userTokenProvidersFromConfig,
} from '@mcp-oauth2/auth-core'
import type { CallToolResult, Implementation } from '@modelcontextprotocol/sdk/types.js'
import { type AnthropicTool, toAnthropicTools } from './anthropic-tools.js'
import { createServerAuthFetch } from './auth-fetch.js'
import { authFetchOptionsFor, transportOver } from './create-transport.js'
import { McpTransportError, McpTransportErrorCode } from './errors.js'
import {
  createEmitter,
  type Emit,
  type McpManagerEvent,
  observeTokenProvider,
} from './internal/manager/events.js'
import { failureCode } from './internal/manager/failure-code.js'
import { configSecrets, secretsOfServerConfig } from './internal/manager/from-config.js'
import { LazyTokenStore } from './internal/manager/lazy-token-store.js'
import { type CallToolOptions, ManagedServer, type ServerStatus } from './internal/manager/managed-server.js'
import {
  type McpSdk,
  type McpVersionNegotiation,
  sdkV1Client,
  sdkV2Client,
} from './internal/manager/mcp-client.js'
import { preflight, requiredScopes, type ScopeVerifier } from './internal/manager/preflight.js'
import { RateLimiter, type RateLimitsOptions } from './internal/manager/rate-limiter.js'
import { positiveOption, type ReconnectOptions, reconnectPolicy } from './internal/manager/reconnect.js'
import { type ManagedTool, ToolIndex } from './internal/manager/tool-index.js'
import { serverAttributes } from './internal/telemetry/attributes.js'
import { createTelemetry } from './internal/telemetry/create-telemetry.js'
import { traceOperation } from './internal/telemetry/operation-span.js'
import { loadOtelApi } from './internal/telemetry/otel-api.js'
import { propagatingFetch } from './internal/telemetry/propagating-fetch.js'
import { ATTR_SERVER_NAME } from './internal/telemetry/semconv.js'
import type { Telemetry, TelemetryOptions } from './internal/telemetry/telemetry.js'
import { unwatchTokenChannels } from './internal/telemetry/token-channels.js'
import { currentUserContext, runAsService } from './internal/user-context-store.js'
import { createIdentify, type Identify, type UserIdentity } from './internal/user-identity.js'
import { type OpenAITool, type OpenAIToolset, toOpenAITools } from './openai-tools.js'
import { rateLimitsOptionsOf } from './rate-limits.js'
import { type ResponsesTool, toResponsesTools } from './responses-tools.js'
import { type McpServerDefinition, toServerConfig } from './server-definition.js'
import type { ToolCall, ToolResultFor } from './tool-call-formats.js'
import { type RunToolCallsOptions, runToolCalls, type ToolCallRun } from './tool-call-runner.js'

// The manager's concepts live in internal/manager/ (one file each); their public types are
// part of this module's API.
export type { McpManagerEvent } from './internal/manager/events.js'
export type { CallToolOptions, ServerState, ServerStatus } from './internal/manager/managed-server.js'
export type { McpSdk, McpVersionNegotiation } from './internal/manager/mcp-client.js'
export type { ScopeVerifier } from './internal/manager/preflight.js'
export type { ReconnectOptions } from './internal/manager/reconnect.js'
export type { ManagedTool } from './internal/manager/tool-index.js'
export type { McpServerDefinition } from './server-definition.js'

/** Options shared by `new McpServerManager(…)` and {@link McpServerManager.fromConfig}. */
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

/** Options of {@link McpServerManager.fromConfig}. */
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

/** Users whose tool views the manager keeps at most (the oldest is dropped). */
const MAX_USER_VIEWS = 1000

const DEFAULT_CLIENT_INFO: Implementation = { name: 'mcp-oauth2-kit', version: '0.1.0' }

function toPolicy(scopes: McpServerManagerBaseOptions['toolScopes']): ToolScopePolicy | undefined {
  if (scopes === undefined) return undefined
  return typeof (scopes as ToolScopePolicy).requiredScopesFor === 'function'
    ? (scopes as ToolScopePolicy)
    : createToolScopePolicy(scopes as Readonly<Record<string, readonly string[]>>)
}

/**
 * The gateway's multi-server core: connects to every MCP server with its transport and service
 * token, lists their tools under collision-free names, and calls them for users.
 *
 * Naming: a tool keeps its own name unless several servers offer it; then each becomes
 * `<server>__<tool>`. `callTool` also accepts `<server>__<tool>` for any tool (stable whatever
 * other servers offer), a plain name that only one server offers, and the OpenAI name.
 *
 * @example
 * ```ts
 * import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
 * import type { IncomingMessage } from 'node:http'
 * declare const req: IncomingMessage // the request your gateway is serving
 * const config = await loadConfigFile('config.yaml')
 * const manager = McpServerManager.fromConfig(config, { onEvent: (e) => console.log(toAuditRecord(e)) })
 * await manager.connect()
 * const tools = await manager.openAITools()
 * const result = await withUserContext({ cookie: req.headers.cookie }, () =>
 *   manager.callTool('get_customer_info', { customer_id: '42' }),
 * )
 * await manager.close()
 * ```
 */
export class McpServerManager {
  readonly #servers = new Map<string, ManagedServer>()
  readonly #index: ToolIndex
  /** Users' views of servers with private tool lists, oldest first. */
  readonly #views = new Map<string, ToolIndex>()
  readonly #now: () => number
  readonly #policy: ToolScopePolicy | undefined
  readonly #verifier: McpServerManagerBaseOptions['verifier']
  readonly #emit: Emit | undefined
  readonly #limiter: RateLimiter | undefined
  readonly #identify: Identify
  readonly #telemetry: Telemetry | undefined
  /** The token store `fromConfig` built from `token_store` (closed by `close()`). */
  #tokenStore: LazyTokenStore | undefined
  /** Per server: its attributes on spans and metrics. */
  readonly #attributes = new Map<string, Record<string, string | number>>()
  #openAI: { for: readonly ManagedTool[]; toolset: OpenAIToolset<ManagedTool> } | undefined
  #connectCalled = false
  #closed = false
  #closing: Promise<void> | undefined

  /**
   * A manager for servers defined in code. Each server's auth fetch is built here, so a server
   * that would send credentials over plain http fails now (`ERR_INSECURE_HTTP`), not at connect.
   *
   * @example
   * ```ts
   * import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
   * declare const clientSecret: string
   * const tokenProvider = new ClientCredentialsTokenProvider({ tokenUrl: 'https://auth.example/token', clientId: 'gateway', clientSecret })
   * const manager = new McpServerManager({
   *   servers: [{ name: 'crm', url: 'https://crm.example/mcp', tokenProvider, cookiePassthrough: { allow: ['session_id'] } }],
   * })
   * ```
   */
  constructor(options: McpServerManagerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    if (!Array.isArray(options.servers)) throw new TypeError('"servers" must be an array')
    const now = options.now ?? Date.now
    if (typeof now !== 'function') throw new TypeError('"now" must be a function')
    this.#now = now
    this.#policy = toPolicy(options.toolScopes)
    this.#verifier = options.verifier
    const telemetry = createTelemetry(options.telemetry)
    this.#telemetry = telemetry
    const onEvent = options.onEvent
    // Metrics of denials, refusals and outages come from the events; without a listener or
    // telemetry, events cost nothing.
    this.#emit = createEmitter(
      telemetry
        ? (event) => {
            telemetry.observe(event)
            onEvent?.(event)
          }
        : onEvent,
    )
    this.#limiter =
      options.rateLimits === undefined ? undefined : new RateLimiter(options.rateLimits, this.#emit, now)
    this.#identify = this.#limiter?.identify ?? createIdentify(undefined)
    const reconnect = reconnectPolicy(options.retry)
    const clientInfo = options.clientInfo ?? DEFAULT_CLIENT_INFO
    const sdk = options.sdk ?? 'v1'
    if (sdk !== 'v1' && sdk !== 'v2') throw new TypeError("\"sdk\" must be 'v1' or 'v2'")
    const negotiation = options.versionNegotiation ?? 'auto'
    if (
      negotiation !== 'auto' &&
      negotiation !== 'legacy' &&
      !(typeof negotiation === 'object' && negotiation !== null && typeof negotiation.pin === 'string')
    )
      throw new TypeError("\"versionNegotiation\" must be 'auto', 'legacy' or { pin }")
    const connectTimeoutMs = positiveOption(options.connectTimeoutMs, 10_000, 'connectTimeoutMs')
    const policy = this.#policy
    this.#index = new ToolIndex((server, tool) => requiredScopes(policy, server, tool))
    const configs = options.servers.map(toServerConfig)
    const names = new Set<string>()
    for (const config of configs) {
      if (names.has(config.name)) throw new TypeError(`server name "${config.name}" is used twice`)
      names.add(config.name)
    }
    // Last token value seen per underlying provider (shared providers emit one `token` event).
    const seen = new WeakMap<TokenProvider, { value: string | undefined }>()
    const built: ManagedServer[] = []
    try {
      options.servers.forEach((def, i) => {
        const config = configs[i] as ServerConfig
        const emit = this.#emit
        let provider = def.tokenProvider
        if (provider && emit && onEvent) {
          const last = seen.get(provider) ?? { value: undefined }
          seen.set(provider, last)
          provider = observeTokenProvider(provider, config.name, emit, now, last)
        }
        const attributes = { ...serverAttributes(new URL(config.url)), [ATTR_SERVER_NAME]: config.name }
        this.#attributes.set(config.name, attributes as Record<string, string | number>)
        const fetch = createServerAuthFetch(
          {
            ...authFetchOptionsFor(config, {
              tokenProvider: provider,
              userTokenProvider: def.userTokenProvider,
              fetch: options.fetch,
              allowInsecureHttp: def.allowInsecureHttp,
            }),
            now,
            onEvent:
              emit &&
              ((e) =>
                emit({
                  type: 'auth_retry',
                  at: e.at,
                  server: config.name,
                  tool: undefined,
                  durationMs: 0,
                  status: e.status,
                  reason: e.reason,
                  ...(e.scopes ? { scopes: e.scopes } : {}),
                })),
          },
          { telemetry, serverName: config.name },
        )
        const server = new ManagedServer({
          name: config.name,
          url: config.url,
          transport: config.transport,
          provider,
          makeClient: (onToolsChanged) => {
            const settings = {
              url: config.url,
              fetch,
              clientInfo,
              connectTimeoutMs,
              onToolsChanged,
              negotiation,
            }
            return sdk === 'v2' && config.transport !== 'sse'
              ? sdkV2Client(settings)
              : sdkV1Client(settings, () => transportOver(config, fetch))
          },
          release: () => fetch.close(),
          connectTimeoutMs,
          reconnect,
          now,
          emit,
          onToolsChanged: () => this.#rebuildIndex(),
          trace: telemetry && ((method, fn) => traceOperation(telemetry, { method, attributes }, fn)),
          secrets: [...Object.values(config.headers), ...(configSecrets.get(def) ?? [])],
        })
        built.push(server)
        this.#servers.set(config.name, server)
      })
    } catch (error) {
      // A later server's bad settings: release what the earlier ones hold (their TLS pools).
      for (const server of built) void server.close()
      throw error
    }
  }

  /**
   * A manager for every server of a normalised config (`parseConfig`, `configFromEnv`,
   * `loadConfigFile`). Servers with the same OAuth2 client share one token provider, hence one
   * token. The config's `rate_limits:` (`config.rateLimits`) apply unless `options.rateLimits`
   * is given; a `redis` store there connects to its `url` (the manager closes that client).
   * Throws a `ConfigError` when a server's OAuth2 settings cannot make a provider, and
   * `ERR_INSECURE_HTTP` when a server would get credentials over plain http.
   *
   * @example
   * ```ts
   * import { parseConfig } from '@mcp-oauth2/auth-core'
   * import { readFileSync } from 'node:fs'
   * const toolScopes = { create_support_ticket: ['tickets:write'] }
   * const manager = McpServerManager.fromConfig(parseConfig(readFileSync('config.yaml', 'utf8')), { toolScopes })
   * ```
   */
  static fromConfig(config: McpConfig, options: McpServerManagerConfigOptions = {}): McpServerManager {
    const { tokenProviderOptions, tokenStoreClient, ...rest } = options
    // Trace context reaches the authorization server only when asked for.
    const telemetry = options.telemetry === false ? undefined : options.telemetry
    const api = telemetry?.propagateToAuthorizationServer === true ? loadOtelApi() : null
    const tokenFetch = api ? propagatingFetch(api, options.fetch) : options.fetch
    // A Redis token store from `token_store`, loaded from @mcp-oauth2/redis (an optional peer).
    const storeConfig = config.tokenStore
    const store =
      tokenProviderOptions?.store === undefined && storeConfig?.type === 'redis'
        ? new LazyTokenStore(async () => {
            const { redisTokenStoreFromConfig } = await import('@mcp-oauth2/redis')
            return redisTokenStoreFromConfig(storeConfig, {
              ...(tokenStoreClient === undefined ? {} : { client: tokenStoreClient as never }),
              ...(options.now ? { now: options.now } : {}),
            })
          })
        : undefined
    // The providers' store events become the manager's (set once the manager exists).
    let forward: ((event: TokenProviderEvent) => void) | undefined
    const onProviderEvent = tokenProviderOptions?.onEvent
    let providers: ReturnType<typeof tokenProvidersFromConfig>
    let userProviders: ReturnType<typeof userTokenProvidersFromConfig>
    try {
      const providerOptions = {
        ...tokenProviderOptions,
        ...(store ? { store } : {}),
        onEvent: (event: TokenProviderEvent) => {
          forward?.(event)
          onProviderEvent?.(event)
        },
        ...(tokenFetch ? { fetch: tokenFetch } : {}),
        ...(options.now ? { now: options.now } : {}),
      }
      providers = tokenProvidersFromConfig(config, providerOptions)
      // `auth.user_token`: the per-user providers (token exchange, ID-JAG), the service's as actors.
      userProviders = userTokenProvidersFromConfig(config, {
        ...providerOptions,
        serviceProviders: providers,
      })
    } catch (error) {
      void store?.close().catch(() => {})
      throw error
    }
    const servers = Object.values(config.servers).map((server): McpServerDefinition => {
      const def: McpServerDefinition = {
        ...server,
        tokenProvider: providers.get(server.name),
        userTokenProvider: userProviders.get(server.name),
        allowInsecureHttp: server.oauth2?.allowInsecureHttp,
      }
      configSecrets.set(def, secretsOfServerConfig(server))
      return def
    })
    let manager: McpServerManager
    try {
      // Options win over the file, as a whole: limits are not merged key by key.
      const rateLimits =
        rest.rateLimits ??
        (config.rateLimits === undefined ? undefined : rateLimitsOptionsOf(config.rateLimits))
      manager = new McpServerManager({ ...rest, rateLimits, servers })
    } catch (error) {
      void store?.close().catch(() => {})
      throw error
    }
    manager.#tokenStore = store
    const now = manager.#now
    forward = (event) => {
      const emit = manager.#emit
      if (!emit) return
      const base = {
        type: 'store',
        at: now(),
        server: undefined,
        tool: undefined,
        durationMs: 0,
        store: 'tokens',
      } as const
      if (event.type === 'token_store_unavailable') emit({ ...base, state: 'unavailable', code: event.code })
      else if (event.type === 'token_store_recovered')
        emit({ ...base, durationMs: event.outageMs, state: 'available' })
    }
    return manager
  }

  /**
   * Connects every server that is not connected, concurrently, and lists its tools. A server
   * that fails does not hold up the others: it is reported in the result (`state: 'failed'`
   * with a `ServerUnavailableError`) and retried in the background. Never rejects for a server.
   */
  async connect(): Promise<readonly ServerStatus[]> {
    this.#assertOpen()
    this.#connectCalled = true
    await Promise.all(
      [...this.#servers.values()].filter((s) => s.state !== 'connected').map((s) => s.connect()),
    )
    return this.status()
  }

  /** Every server's connection status. */
  status(): readonly ServerStatus[] {
    return [...this.#servers.values()].map((s) => s.status())
  }

  /**
   * The tools of every connected server (cached; refreshed when a server sends
   * `notifications/tools/list_changed`, or with `{ refresh: true }`).
   */
  async listTools(options: { refresh?: boolean } = {}): Promise<readonly ManagedTool[]> {
    this.#assertOpen()
    this.#assertConnectCalled()
    const connected = [...this.#servers.values()].filter((s) => s.state === 'connected')
    const context = currentUserContext()
    // A user's view of a server with private lists is that user's own (below); the shared list
    // (the service's, and every user's for public lists) is listed again when asked or past its ttlMs.
    await Promise.all(
      connected.map((s) => {
        if (context !== undefined && s.privateList) return s.refreshing
        if (options.refresh) return s.refresh()
        if (s.listExpired) return s.refresh(true)
        return s.refreshing
      }),
    )
    if (context === undefined || !connected.some((s) => s.privateList)) return this.#index.tools
    return (await this.#userView(this.#identify(context).id, options.refresh === true)).tools
  }

  /**
   * The tools as one user sees them: servers with private lists contribute the user's own list
   * (listed in the user's context, kept for that user only), the others their shared list. Kept
   * for {@link callTool}'s name lookup, for at most {@link MAX_USER_VIEWS} users; a user nobody
   * can tell apart (no id) gets a fresh view each time, kept for nobody.
   */
  async #userView(user: string | undefined, refresh: boolean): Promise<ToolIndex> {
    const servers = [...this.#servers.values()]
    const lists = await Promise.all(
      servers.map(async (s) => ({
        name: s.name,
        tools: s.state === 'connected' && s.privateList ? await s.toolsFor(user, refresh) : s.tools,
        usable: s.usable,
        unavailable: () => s.unavailable(),
      })),
    )
    const policy = this.#policy
    const view = new ToolIndex((server, tool) => requiredScopes(policy, server, tool))
    view.rebuild(lists)
    if (user !== undefined) {
      this.#views.delete(user)
      if (this.#views.size >= MAX_USER_VIEWS) {
        const oldest = this.#views.keys().next().value
        if (oldest !== undefined) this.#views.delete(oldest)
      }
      this.#views.set(user, view)
    }
    return view
  }

  /**
   * The tools in OpenAI's function-calling format, with names valid for OpenAI. Map a name the
   * model calls back with {@link openAINameToTool}, or pass it straight to `callTool`.
   */
  async openAITools(options: { refresh?: boolean } = {}): Promise<OpenAITool[]> {
    return [...this.#toolset(await this.listTools(options)).tools]
  }

  /** The tool behind an OpenAI function name from {@link openAITools} (the current user's view inside `withUserContext`). */
  openAINameToTool(name: string): ManagedTool | undefined {
    return this.#toolset(this.#indexFor(currentUserContext()).tools).byOpenAIName.get(name)
  }

  /**
   * The tools in Anthropic's Messages format (`name`, `description`, `input_schema`), named as
   * {@link openAITools} names them, so {@link runToolCalls} maps a `tool_use` back to its tool.
   *
   * @example
   * ```ts
   * import Anthropic from '@anthropic-ai/sdk'
   * declare const manager: McpServerManager
   * const anthropic = new Anthropic()
   * const model = 'claude-sonnet-4-5'
   * const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What does customer 42 owe?' }]
   * const message = await anthropic.messages.create({ model, max_tokens: 1024, messages, tools: await manager.anthropicTools() })
   * ```
   * @see https://docs.anthropic.com/en/docs/build-with-claude/tool-use
   */
  async anthropicTools(options: { refresh?: boolean } = {}): Promise<AnthropicTool[]> {
    return toAnthropicTools(await this.listTools(options)).tools
  }

  /**
   * The tools in the OpenAI Responses format (`{ type: 'function', name, parameters, strict }`),
   * named as {@link openAITools} names them. `strict` is sent as given (default `false`: strict
   * mode needs schemas few MCP tools declare).
   *
   * @example
   * ```ts
   * import OpenAI from 'openai'
   * declare const manager: McpServerManager
   * const openai = new OpenAI()
   * const response = await openai.responses.create({ model: 'gpt-5', input: 'What does customer 42 owe?', tools: await manager.responsesTools() })
   * ```
   */
  async responsesTools(options: { refresh?: boolean; strict?: boolean } = {}): Promise<ResponsesTool[]> {
    const { strict, ...list } = options
    return toResponsesTools(await this.listTools(list), { strict }).tools
  }

  /**
   * Runs a model's tool calls through this manager and returns one result message per call, in
   * the calls' format and order: OpenAI Chat Completions `tool_calls`, Responses `function_call`
   * items or Anthropic `tool_use` blocks in; `tool` messages, `function_call_output` items or
   * `tool_result` blocks out. Every call goes through {@link callTool} in the caller's context
   * (inside `withUserContext`: as that user), so rate limits and the scope check apply; a call
   * that fails becomes an error result, never a rejection. The standalone `runToolCalls(manager,
   * calls, options)` does the same.
   *
   * @example
   * ```ts
   * import type OpenAI from 'openai'
   * import type { IncomingMessage } from 'node:http'
   * declare const manager: McpServerManager, req: IncomingMessage
   * declare const messages: OpenAI.ChatCompletionMessageParam[] // the conversation so far
   * declare const reply: OpenAI.ChatCompletionMessage // the model's answer, with tool calls
   * const run = await withUserContext({ cookie: req.headers.cookie }, () => manager.runToolCalls(reply.tool_calls ?? []))
   * messages.push(reply, ...run.messages)
   * ```
   */
  runToolCalls<C extends ToolCall>(
    calls: readonly C[],
    options: RunToolCallsOptions = {},
  ): Promise<ToolCallRun<ToolResultFor<C>>> {
    return runToolCalls(this, calls, options)
  }

  /**
   * Calls a tool on its server and returns the SDK's `CallToolResult` (a result with
   * `isError: true` is returned, not thrown). Inside `withUserContext`, the user's allowed
   * cookies and headers go along.
   *
   * Throws, with nothing sent: `UnknownToolError` (`ERR_UNKNOWN_TOOL`, `ERR_AMBIGUOUS_TOOL`),
   * `ServerUnavailableError`, `RateLimitedError` (`ERR_RATE_LIMITED`, when `rateLimits` is set),
   * `ScopeDeniedError` (pre-flight check, when `toolScopes` is set).
   * An expired session (HTTP 404) is replaced by a new one and the call retried once.
   */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    options: CallToolOptions = {},
  ): Promise<CallToolResult> {
    const start = this.#now()
    this.#assertOpen()
    this.#assertConnectCalled()
    const index = this.#indexFor(currentUserContext())
    const tool = index.resolve(name, (n) => this.#toolset(index.tools).byOpenAIName.get(n))
    const telemetry = this.#telemetry
    if (!telemetry) return this.#call(tool, args, options, start)
    return traceOperation(
      telemetry,
      {
        method: 'tools/call',
        tool: tool.name,
        toolCallId: options.toolCallId,
        attributes: this.#attributes.get(tool.server) ?? {},
      },
      () => this.#call(tool, args, options, start),
    )
  }

  async #call(
    tool: ManagedTool,
    args: Record<string, unknown>,
    options: CallToolOptions,
    start: number,
  ): Promise<CallToolResult> {
    const context = currentUserContext()
    const user = context !== undefined
    const identity: UserIdentity = this.#identify(context)
    const server = this.#servers.get(tool.server) as ManagedServer
    // Limits first: a refused call must not even ask for a token.
    await this.#limiter?.check({
      server: tool.server,
      tool: tool.name,
      qualifiedName: tool.qualifiedName,
      identity,
      user,
    })
    if (this.#policy && server.provider) {
      const verifier = typeof this.#verifier === 'function' ? this.#verifier(tool.server) : this.#verifier
      await preflight({
        provider: server.provider,
        tool,
        verifier,
        emit: this.#emit,
        now: this.#now,
        start,
        user,
        userId: identity.id,
      })
    }
    let reconnected = false
    const emitCall = (isError: boolean, code?: string) =>
      this.#emit?.({
        type: 'tool_call',
        at: this.#now(),
        server: tool.server,
        tool: tool.name,
        qualifiedName: tool.qualifiedName,
        durationMs: this.#now() - start,
        isError,
        requiredScopes: tool.requiredScopes,
        user,
        userId: identity.id,
        reconnected,
        ...(code === undefined ? {} : { code }),
      })
    try {
      const result = await server.callTool(tool.name, args, options, () => {
        reconnected = true
      })
      emitCall(result.isError === true)
      return result
    } catch (err) {
      emitCall(true, failureCode(err))
      throw err
    }
  }

  /**
   * Ends every session (HTTP DELETE for Streamable HTTP), stops background retries, closes the
   * clients and releases every connection pool the manager opened (the TLS pools of servers with
   * `tls` settings). Idempotent; later calls resolve when the first is done.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing
    this.#closed = true
    this.#closing = runAsService(async () => {
      await Promise.allSettled([
        ...[...this.#servers.values()].map((s) => s.close()),
        this.#limiter?.close(),
        this.#tokenStore?.close(),
      ])
      // Its token requests are no longer this manager's to report.
      if (this.#telemetry) unwatchTokenChannels(this.#telemetry)
      this.#rebuildIndex()
    })
    return this.#closing
  }

  // ---------------------------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed)
      throw new McpTransportError(McpTransportErrorCode.Closed, 'the server manager is closed')
  }

  #assertConnectCalled(): void {
    if (!this.#connectCalled) {
      throw new McpTransportError(
        McpTransportErrorCode.NotConnected,
        'call connect() before using the manager',
      )
    }
  }

  /** The index a call resolves names in: the user's view when there is one, else the shared one. */
  #indexFor(context: ReturnType<typeof currentUserContext>): ToolIndex {
    if (context === undefined || this.#views.size === 0) return this.#index
    const user = this.#identify(context).id
    return (user !== undefined && this.#views.get(user)) || this.#index
  }

  #rebuildIndex(): void {
    // A server's tools or usability changed: users' views are rebuilt at their next listing.
    this.#views.clear()
    this.#index.rebuild(
      [...this.#servers.values()].map((s) => ({
        name: s.name,
        tools: s.tools,
        usable: s.usable,
        unavailable: () => s.unavailable(),
      })),
    )
  }

  #toolset(tools: readonly ManagedTool[]): OpenAIToolset<ManagedTool> {
    if (this.#openAI?.for !== tools) this.#openAI = { for: tools, toolset: toOpenAITools(tools) }
    return this.#openAI.toolset
  }
}
