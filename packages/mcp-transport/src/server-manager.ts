// biome-ignore-all assist/source/organizeImports: kept sorted by hand, but with the re-exports first and
// the options' import last, so that the bundled declarations (api/mcp-transport.d.ts) keep the order
// they had when the options were declared in this file.
// The manager's concepts live in internal/manager/ (one file each); their public types are
// part of this module's API.
export type { McpManagerEvent } from './internal/manager/events.js'
export type { CallToolOptions, ServerState, ServerStatus } from './internal/manager/managed-server.js'
export type { McpSdk, McpVersionNegotiation } from './internal/manager/mcp-client.js'
export type { ScopeVerifier } from './internal/manager/preflight.js'
export type { ReconnectOptions } from './internal/manager/reconnect.js'
export type { ManagedTool } from './internal/manager/tool-index.js'
export type { McpServerDefinition } from './server-definition.js'

import type { McpConfig, ServerConfig } from '@mcp-oauth2/auth-core'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { type AnthropicTool, toAnthropicTools } from './anthropic-tools.js'
import { createServerAuthFetch } from './auth-fetch.js'
import { authFetchOptionsFor, transportOver } from './create-transport.js'
import { McpTransportError, McpTransportErrorCode } from './errors.js'
import { callManagedTool, type ToolCallSettings } from './internal/manager/call-tool.js'
import { type Emit, tokenObserver } from './internal/manager/events.js'
import { configSecrets, definitionsOf, providersFromConfig } from './internal/manager/from-config.js'
import type { LazyTokenStore } from './internal/manager/lazy-token-store.js'
import type { CallToolOptions, ManagedServer, ServerStatus } from './internal/manager/managed-server.js'
import { managerEmitter, resolveManagerOptions, uniqueNames } from './internal/manager/options.js'
import { requiredScopes } from './internal/manager/preflight.js'
import { RateLimiter } from './internal/manager/rate-limiter.js'
import { createManagedServers, type ServerFactorySettings } from './internal/manager/server-factory.js'
import { type ManagedTool, ToolIndex } from './internal/manager/tool-index.js'
import { sharedEntry, UserViews } from './internal/manager/user-views.js'
import { createTelemetry } from './internal/telemetry/create-telemetry.js'
import { traceOperation } from './internal/telemetry/operation-span.js'
import type { Telemetry } from './internal/telemetry/telemetry.js'
import { unwatchTokenChannels } from './internal/telemetry/token-channels.js'
import { currentUserContext, runAsService } from './internal/user-context-store.js'
import { createIdentify, type Identify } from './internal/user-identity.js'
import { type OpenAITool, type OpenAIToolset, toOpenAITools } from './openai-tools.js'
import { rateLimitsOptionsOf } from './rate-limits.js'
import { type ResponsesTool, toResponsesTools } from './responses-tools.js'
import { type McpServerDefinition, toServerConfig } from './server-definition.js'
import type { ToolCall, ToolResultFor } from './tool-call-formats.js'
import { type RunToolCallsOptions, runToolCalls, type ToolCallRun } from './tool-call-runner.js'
import type {
  McpServerManagerBaseOptions,
  McpServerManagerConfigOptions,
  McpServerManagerOptions,
} from './server-manager-options.js'

export type { McpServerManagerBaseOptions, McpServerManagerConfigOptions, McpServerManagerOptions }

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
  /** Users' views of servers with private tool lists. */
  readonly #views: UserViews
  readonly #now: () => number
  readonly #emit: Emit | undefined
  readonly #limiter: RateLimiter | undefined
  readonly #identify: Identify
  /** What every tool call goes through: limits, the scope check, events. */
  readonly #calls: ToolCallSettings
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
    const { now, policy, reconnect, clientInfo, connectTimeoutMs, sdk, negotiation } =
      resolveManagerOptions(options)
    this.#now = now
    const telemetry = createTelemetry(options.telemetry)
    this.#telemetry = telemetry
    const onEvent = options.onEvent
    this.#emit = managerEmitter(telemetry, onEvent)
    const limiter =
      options.rateLimits === undefined ? undefined : new RateLimiter(options.rateLimits, this.#emit, now)
    this.#limiter = limiter
    this.#identify = limiter?.identify ?? createIdentify(undefined)
    const verifier = options.verifier
    this.#calls = { limiter, policy, verifier, emit: this.#emit, now, identify: this.#identify }
    const scopesOf = (server: string, tool: string) => requiredScopes(policy, server, tool)
    this.#index = new ToolIndex(scopesOf)
    this.#views = new UserViews(scopesOf)
    const configs = uniqueNames(options.servers.map(toServerConfig))
    const emit = this.#emit
    const shared: ServerFactorySettings = {
      ...{ sdk, negotiation, clientInfo, connectTimeoutMs, reconnect, now, emit, telemetry },
      onToolsChanged: () => this.#rebuildIndex(),
    }
    const toBuild = configs.map((config, i) => {
      const def = options.servers[i] as McpServerDefinition
      const secrets = [...Object.values(config.headers), ...(configSecrets.get(def) ?? [])]
      return { config, tokenProvider: def.tokenProvider, secrets }
    })
    const observe = emit && onEvent ? tokenObserver(emit, now) : undefined
    // Each server's auth fetch is built here, so bad settings fail now (the factory closes the others).
    const built = createManagedServers(toBuild, shared, observe, (i, provider, onRetry) => {
      const config = configs[i] as ServerConfig
      const def = options.servers[i] as McpServerDefinition
      const fetch = createServerAuthFetch(
        {
          ...authFetchOptionsFor(config, {
            tokenProvider: provider,
            userTokenProvider: def.userTokenProvider,
            fetch: options.fetch,
            allowInsecureHttp: def.allowInsecureHttp,
          }),
          now,
          onEvent: onRetry,
        },
        { telemetry, serverName: config.name },
      )
      return { fetch, transport: () => transportOver(config, fetch) }
    })
    for (const { server, attributes } of built) {
      this.#servers.set(server.name, server)
      this.#attributes.set(server.name, attributes)
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
    const { providers, userProviders, store, forwardStoreEvents } = providersFromConfig(config, options)
    // The rest is the manager's: the providers took theirs.
    const { tokenProviderOptions: _options, tokenStoreClient: _client, ...rest } = options
    const servers: McpServerDefinition[] = definitionsOf(config, providers, userProviders)
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
    forwardStoreEvents(manager.#emit, manager.#now)
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
    // The user's own view (see `UserViews`), kept for callTool's name lookup.
    const user = this.#identify(context).id
    return (await this.#views.build(user, [...this.#servers.values()], options.refresh === true)).tools
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
    const server = this.#servers.get(tool.server) as ManagedServer
    const call = () => callManagedTool(this.#calls, server, tool, args, options, start)
    const telemetry = this.#telemetry
    if (!telemetry) return call()
    const attributes = this.#attributes.get(tool.server) ?? {}
    return traceOperation(
      telemetry,
      { method: 'tools/call', tool: tool.name, toolCallId: options.toolCallId, attributes },
      call,
    )
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
    if (this.#connectCalled) return
    throw new McpTransportError(McpTransportErrorCode.NotConnected, 'call connect() before using the manager')
  }

  /** The index a call resolves names in: the user's view when there is one, else the shared one. */
  #indexFor(context: ReturnType<typeof currentUserContext>): ToolIndex {
    if (context === undefined || this.#views.size === 0) return this.#index
    return this.#views.get(this.#identify(context).id) ?? this.#index
  }

  #rebuildIndex(): void {
    // A server's tools or usability changed: users' views are rebuilt at their next listing.
    this.#views.clear()
    this.#index.rebuild([...this.#servers.values()].map(sharedEntry))
  }

  #toolset(tools: readonly ManagedTool[]): OpenAIToolset<ManagedTool> {
    if (this.#openAI?.for !== tools) this.#openAI = { for: tools, toolset: toOpenAITools(tools) }
    return this.#openAI.toolset
  }
}
