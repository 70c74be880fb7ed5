import {
  type AccessToken,
  AuthCoreError,
  createToolScopePolicy,
  ErrorCode,
  type FetchLike,
  type GetTokenOptions,
  InsufficientScopeError,
  type McpConfig,
  type McpTransportKind,
  type ServerConfig,
  type TokenProvider,
  type TokenProviderFromConfigOptions,
  type ToolScopePolicy,
  tokenProvidersFromConfig,
} from '@mcp-oauth2/auth-core'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js'
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  type CallToolResult,
  type Implementation,
  ErrorCode as JsonRpcErrorCode,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { createTransport, type McpClientTransport } from './create-transport.js'
import {
  McpTransportError,
  McpTransportErrorCode,
  ScopeDeniedError,
  type ScopeDeniedReason,
  ServerUnavailableError,
  UnknownToolError,
} from './errors.js'
import { type OpenAITool, type OpenAIToolset, toOpenAITools } from './openai-tools.js'
import { getUserContext, withUserContext } from './user-context.js'

/** A server defined in code (the same settings as a configured `ServerConfig`). */
export interface McpServerDefinition {
  /** Unique name; it prefixes the server's tools when their names collide. No `__` in it. */
  name: string
  /** The MCP endpoint URL. */
  url: string
  /**
   * Transport to use.
   * @default 'streamable-http'
   */
  transport?: McpTransportKind | undefined
  /** The service's token source for this server; none: no bearer token. */
  tokenProvider?: TokenProvider | undefined
  /** Which of the user's cookies to forward (inside `withUserContext`). */
  cookiePassthrough?: ServerConfig['cookiePassthrough']
  /** Which of the user's headers to forward (inside `withUserContext`). */
  headerPassthrough?: ServerConfig['headerPassthrough']
  /**
   * Static headers for every request to this server.
   * @default {}
   */
  headers?: Readonly<Record<string, string>> | undefined
  /** TLS settings (custom CA, client certificate). */
  tls?: ServerConfig['tls']
}

/** What the pre-flight check needs of a verifier: `JwtScopeVerifier` fits. */
export interface ScopeVerifier {
  verify(
    token: string,
    options?: { requiredScopes?: readonly string[] },
  ): Promise<{ readonly scopes: readonly string[] }>
}

/** Background reconnection of servers that failed. */
export interface ReconnectOptions {
  /**
   * Delay before the first retry, in milliseconds; it doubles per failure (with jitter: each
   * delay is drawn between half and all of the nominal one).
   * @default 1000
   */
  initialDelayMs?: number | undefined
  /**
   * Upper bound of a retry delay, in milliseconds.
   * @default 60000
   */
  maxDelayMs?: number | undefined
  /**
   * Failed attempts after which a server is no longer retried (a later `connect()` tries again).
   * @default Infinity
   */
  maxAttempts?: number | undefined
}

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
}

/** Options of `new McpServerManager(…)`. */
export interface McpServerManagerOptions extends McpServerManagerBaseOptions {
  servers: readonly McpServerDefinition[]
}

/** Options of {@link McpServerManager.fromConfig}. */
export interface McpServerManagerConfigOptions extends McpServerManagerBaseOptions {
  /** Defaults for the token providers built from the config (retry, timeouts, …). */
  tokenProviderOptions?: Omit<TokenProviderFromConfigOptions, 'fetch' | 'now'> | undefined
}

/** A tool of a managed server, as `listTools()` returns it. */
export interface ManagedTool {
  /** The server offering it. */
  readonly server: string
  /** The tool's own name on its server. */
  readonly name: string
  /** The name to call it by: `name`, or `<server>__<name>` when several servers offer `name`. */
  readonly qualifiedName: string
  readonly title: string | undefined
  readonly description: string | undefined
  /** JSON Schema of its arguments. */
  readonly inputSchema: Tool['inputSchema']
  readonly outputSchema: Tool['outputSchema'] | undefined
  readonly annotations: Tool['annotations'] | undefined
  /**
   * Scopes the tool scope policy requires; `[]` without a policy; `null` when the policy allows
   * no scope to call it.
   */
  readonly requiredScopes: readonly string[] | null
}

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
}

/** Per-call options of {@link McpServerManager.callTool}. */
export interface CallToolOptions {
  /** Aborts the call. */
  signal?: AbortSignal | undefined
  /**
   * Timeout of the call, in milliseconds.
   * @default the SDK's (60000)
   */
  timeoutMs?: number | undefined
}

interface EventBase {
  /** When it happened, epoch ms (the manager's `now`). */
  readonly at: number
  readonly server: string
  readonly durationMs: number
}

/** An audit event of the manager. No token, secret or cookie value is ever part of one. */
export type McpManagerEvent =
  /** A token provider handed out a token it had not handed out before (a fetch or a refresh). */
  | (EventBase & {
      readonly type: 'token'
      readonly tool: undefined
      readonly expiresAt: number
      readonly scopes: readonly string[]
    })
  /** A tool call reached the server (`isError`: the call threw or the result is an error). */
  | (EventBase & {
      readonly type: 'tool_call'
      readonly tool: string
      readonly qualifiedName: string
      readonly isError: boolean
      /** Whether the call ran inside `withUserContext`. */
      readonly user: boolean
      /** Whether the session had expired and the call was retried on a new one. */
      readonly reconnected: boolean
      /** The failure's code, when the call threw. */
      readonly code?: string
    })
  /** The pre-flight scope check refused a call; nothing was sent to the server. */
  | (EventBase & {
      readonly type: 'denied'
      readonly tool: string
      readonly qualifiedName: string
      readonly reason: ScopeDeniedReason
      readonly requiredScopes: readonly string[] | null
      readonly missingScopes: readonly string[]
      readonly user: boolean
    })
  /** Something failed: connecting, refreshing the tool list, or getting a token. */
  | (EventBase & {
      readonly type: 'error'
      readonly tool: undefined
      readonly phase: 'connect' | 'refresh' | 'token'
      readonly code: string
      /** For `connect`: consecutive failed attempts. */
      readonly attempt?: number
      /** For `connect`: delay before the next background attempt, when one is scheduled. */
      readonly retryInMs?: number
    })
  /** A server connected (again) and its tools were listed. */
  | (EventBase & {
      readonly type: 'connected'
      readonly tool: undefined
      readonly toolCount: number
      readonly reconnect: boolean
    })
  /** A server announced `notifications/tools/list_changed` and its tools were listed again. */
  | (EventBase & { readonly type: 'tools_changed'; readonly tool: undefined; readonly toolCount: number })

interface Entry {
  readonly config: ServerConfig
  readonly provider: TokenProvider | undefined
  state: ServerState
  client: Client | undefined
  transport: McpClientTransport | undefined
  pending: Client | undefined
  sessionId: string | undefined
  tools: readonly Tool[]
  error: ServerUnavailableError | undefined
  attempts: number
  everConnected: boolean
  connecting: Promise<void> | undefined
  refreshing: Promise<void> | undefined
  retryTimer: ReturnType<typeof setTimeout> | undefined
  nextRetryAt: number | undefined
}

interface ResolvedRetry {
  initialDelayMs: number
  maxDelayMs: number
  maxAttempts: number
}

const SEPARATOR = '__'
const DEFAULT_CLIENT_INFO: Implementation = { name: 'mcp-oauth2-kit', version: '0.1.0' }
const TERMINATE_TIMEOUT_MS = 2000

/**
 * The `code` of any failure, for events and `ServerUnavailableError.causeCode`: our codes as they
 * are, `ERR_HTTP_<status>` for HTTP errors from the transports, `ERR_MCP_<code>` for JSON-RPC
 * errors, `ERR_NETWORK`, `ERR_TIMEOUT`, `ERR_ABORTED`, else `ERR_UNKNOWN`.
 */
function errorCode(err: unknown): string {
  if (err instanceof AuthCoreError) return err.code
  if (err instanceof StreamableHTTPError || err instanceof SseError) {
    return err.code === undefined || err.code < 0 ? 'ERR_HTTP' : `ERR_HTTP_${err.code}`
  }
  if (err instanceof McpError) {
    if (err.code === JsonRpcErrorCode.RequestTimeout) return 'ERR_TIMEOUT'
    if (err.code === JsonRpcErrorCode.ConnectionClosed) return 'ERR_CONNECTION_CLOSED'
    return `ERR_MCP_${err.code}`
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) {
    return err.name === 'AbortError' ? 'ERR_ABORTED' : 'ERR_TIMEOUT'
  }
  if (err instanceof TypeError && /fetch|network/i.test(err.message)) return 'ERR_NETWORK'
  return 'ERR_UNKNOWN'
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0)
    throw new TypeError(`"${name}" must be a positive number`)
  return v
}

function resolveRetry(retry: ReconnectOptions | false | undefined): ResolvedRetry | undefined {
  if (retry === false) return undefined
  const initialDelayMs = positive(retry?.initialDelayMs, 1000, 'retry.initialDelayMs')
  const maxDelayMs = positive(retry?.maxDelayMs, 60_000, 'retry.maxDelayMs')
  const maxAttempts = positive(retry?.maxAttempts, Number.POSITIVE_INFINITY, 'retry.maxAttempts')
  if (maxDelayMs < initialDelayMs) throw new TypeError('"retry.maxDelayMs" must be >= "retry.initialDelayMs"')
  return { initialDelayMs, maxDelayMs, maxAttempts }
}

function toServerConfig(def: McpServerDefinition): ServerConfig {
  if (typeof def !== 'object' || def === null) throw new TypeError('"servers" entries must be objects')
  if (typeof def.url !== 'string') throw new TypeError(`"servers.${def.name}.url" must be a string`)
  return {
    name: def.name,
    url: def.url,
    transport: def.transport ?? 'streamable-http',
    cookiePassthrough: def.cookiePassthrough,
    headerPassthrough: def.headerPassthrough,
    headers: { ...(def.headers ?? {}) },
    tls: def.tls,
  }
}

async function listAllTools(client: Client, timeout: number): Promise<Tool[]> {
  const tools: Tool[] = []
  let cursor: string | undefined
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout })
    tools.push(...page.tools)
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return tools
}

/**
 * Code that talks to servers on the service's behalf (connecting, listing tools, the long-lived
 * SSE stream, background retries) must not run in the user context of whatever call triggered
 * it: a reconnect inside a user's `callTool` would otherwise send that user's cookies on the new
 * session's requests, and timers would inherit the context.
 */
function asService<T>(fn: () => T): T {
  return withUserContext({}, fn)
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
 * const manager = McpServerManager.fromConfig(config, { onEvent: (e) => audit.log(e) })
 * await manager.connect()
 * const tools = await manager.openAITools()
 * const result = await withUserContext({ cookie: req.headers.cookie }, () =>
 *   manager.callTool('get_customer_info', { customer_id: '42' }),
 * )
 * await manager.close()
 * ```
 */
export class McpServerManager {
  readonly #entries = new Map<string, Entry>()
  readonly #fetch: FetchLike | undefined
  readonly #now: () => number
  readonly #policy: ToolScopePolicy | undefined
  readonly #verifier: McpServerManagerBaseOptions['verifier']
  readonly #onEvent: ((event: McpManagerEvent) => void) | undefined
  readonly #retry: ResolvedRetry | undefined
  readonly #clientInfo: Implementation
  readonly #connectTimeoutMs: number
  /** Last token value seen per underlying provider (shared providers emit one `token` event). */
  readonly #lastToken = new WeakMap<TokenProvider, { value: string | undefined }>()
  #tools: readonly ManagedTool[] = []
  #byQualifiedName = new Map<string, ManagedTool>()
  #openAI: OpenAIToolset<ManagedTool> | undefined
  #connectCalled = false
  #closed = false
  #closing: Promise<void> | undefined

  /**
   * A manager for servers defined in code.
   *
   * @example
   * ```ts
   * const manager = new McpServerManager({
   *   servers: [{ name: 'crm', url: 'https://crm.example/mcp', tokenProvider, cookiePassthrough: { allow: ['session_id'] } }],
   * })
   * ```
   */
  constructor(options: McpServerManagerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    if (!Array.isArray(options.servers)) throw new TypeError('"servers" must be an array')
    this.#fetch = options.fetch
    this.#now = options.now ?? Date.now
    if (typeof this.#now !== 'function') throw new TypeError('"now" must be a function')
    const scopes = options.toolScopes
    this.#policy =
      scopes === undefined
        ? undefined
        : typeof (scopes as ToolScopePolicy).requiredScopesFor === 'function'
          ? (scopes as ToolScopePolicy)
          : createToolScopePolicy(scopes as Readonly<Record<string, readonly string[]>>)
    this.#verifier = options.verifier
    this.#onEvent = options.onEvent
    this.#retry = resolveRetry(options.retry)
    this.#clientInfo = options.clientInfo ?? DEFAULT_CLIENT_INFO
    this.#connectTimeoutMs = positive(options.connectTimeoutMs, 10_000, 'connectTimeoutMs')
    for (const def of options.servers) {
      const config = toServerConfig(def)
      const name = config.name
      if (typeof name !== 'string' || name === '')
        throw new TypeError('"servers[].name" must be a non-empty string')
      if (name.includes(SEPARATOR))
        throw new TypeError(`server name "${name}" must not contain "${SEPARATOR}"`)
      if (this.#entries.has(name)) throw new TypeError(`server name "${name}" is used twice`)
      try {
        new URL(config.url)
      } catch {
        throw new TypeError(`"servers.${name}.url" must be an absolute URL`)
      }
      this.#entries.set(name, {
        config,
        provider: def.tokenProvider && this.#observeProvider(name, def.tokenProvider),
        state: 'idle',
        client: undefined,
        transport: undefined,
        pending: undefined,
        sessionId: undefined,
        tools: [],
        error: undefined,
        attempts: 0,
        everConnected: false,
        connecting: undefined,
        refreshing: undefined,
        retryTimer: undefined,
        nextRetryAt: undefined,
      })
    }
  }

  /**
   * A manager for every server of a normalised config (`parseConfig`, `configFromEnv`,
   * `loadConfigFile`). Servers with the same OAuth2 client share one token provider, hence one
   * token. Throws a `ConfigError` when a server's OAuth2 settings cannot make a provider.
   *
   * @example
   * ```ts
   * const manager = McpServerManager.fromConfig(parseConfig(yaml.parse(text)), { toolScopes })
   * ```
   */
  static fromConfig(config: McpConfig, options: McpServerManagerConfigOptions = {}): McpServerManager {
    const { tokenProviderOptions, ...rest } = options
    const providers = tokenProvidersFromConfig(config, {
      ...tokenProviderOptions,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.now ? { now: options.now } : {}),
    })
    const servers = Object.values(config.servers).map(
      (server): McpServerDefinition => ({ ...server, tokenProvider: providers.get(server.name) }),
    )
    const manager = new McpServerManager({ ...rest, servers })
    // Keep config-only settings (e.g. oauth2.allowInsecureHttp) that createTransport reads.
    for (const server of Object.values(config.servers)) {
      const entry = manager.#entries.get(server.name)
      if (entry) (entry as { config: ServerConfig }).config = server
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
      [...this.#entries.values()].filter((e) => e.state !== 'connected').map((e) => this.#connectServer(e)),
    )
    return this.status()
  }

  /** Every server's connection status. */
  status(): readonly ServerStatus[] {
    return [...this.#entries.values()].map((e) => ({
      name: e.config.name,
      url: e.config.url,
      transport: e.config.transport,
      state: e.state,
      error: e.error,
      attempts: e.attempts,
      nextRetryAt: e.nextRetryAt,
      toolCount: e.state === 'connected' ? e.tools.length : 0,
    }))
  }

  /**
   * The tools of every connected server (cached; refreshed when a server sends
   * `notifications/tools/list_changed`, or with `{ refresh: true }`).
   */
  async listTools(options: { refresh?: boolean } = {}): Promise<readonly ManagedTool[]> {
    this.#assertOpen()
    this.#assertConnectCalled()
    const entries = [...this.#entries.values()].filter((e) => e.state === 'connected')
    if (options.refresh) await Promise.all(entries.map((e) => e.client && this.#refresh(e, e.client)))
    else await Promise.all(entries.map((e) => e.refreshing))
    return this.#tools
  }

  /**
   * The tools in OpenAI's function-calling format, with names valid for OpenAI. Map a name the
   * model calls back with {@link openAINameToTool}, or pass it straight to `callTool`.
   */
  async openAITools(options: { refresh?: boolean } = {}): Promise<OpenAITool[]> {
    await this.listTools(options)
    return [...this.#toolset().tools]
  }

  /** The tool behind an OpenAI function name from {@link openAITools}. */
  openAINameToTool(name: string): ManagedTool | undefined {
    return this.#toolset().byOpenAIName.get(name)
  }

  /**
   * Calls a tool on its server and returns the SDK's `CallToolResult` (a result with
   * `isError: true` is returned, not thrown). Inside `withUserContext`, the user's allowed
   * cookies and headers go along.
   *
   * Throws, with nothing sent: `UnknownToolError` (`ERR_UNKNOWN_TOOL`, `ERR_AMBIGUOUS_TOOL`),
   * `ServerUnavailableError`, `ScopeDeniedError` (pre-flight check, when `toolScopes` is set).
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
    const user = getUserContext() !== undefined
    const tool = this.#resolve(name)
    const entry = this.#entries.get(tool.server) as Entry
    await this.#preflight(entry, tool, start, user)
    let reconnected = false
    const emitCall = (isError: boolean, code?: string) =>
      this.#emit({
        type: 'tool_call',
        at: this.#now(),
        server: tool.server,
        tool: tool.name,
        qualifiedName: tool.qualifiedName,
        durationMs: this.#now() - start,
        isError,
        user,
        reconnected,
        ...(code === undefined ? {} : { code }),
      })
    try {
      const result = await this.#send(entry, tool, args, options, () => {
        reconnected = true
      })
      emitCall(result.isError === true)
      return result
    } catch (err) {
      emitCall(true, errorCode(err))
      throw err
    }
  }

  /**
   * Ends every session (HTTP DELETE for Streamable HTTP), stops background retries and closes
   * the clients. Idempotent; later calls resolve when the first is done.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing
    this.#closed = true
    this.#closing = asService(async () => {
      await Promise.allSettled(
        [...this.#entries.values()].map(async (entry) => {
          if (entry.retryTimer) clearTimeout(entry.retryTimer)
          entry.retryTimer = undefined
          entry.nextRetryAt = undefined
          const { client, transport, pending } = entry
          entry.client = undefined
          entry.transport = undefined
          entry.pending = undefined
          entry.state = 'closed'
          if (pending) await pending.close().catch(() => {})
          if (!client) return
          if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
            await withTimeout(transport.terminateSession(), TERMINATE_TIMEOUT_MS).catch(() => {})
          }
          await client.close().catch(() => {})
        }),
      )
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

  #emit(event: McpManagerEvent): void {
    if (!this.#onEvent) return
    try {
      this.#onEvent(event)
    } catch {
      // An audit listener must not break tool calls.
    }
  }

  /** Wraps a provider to emit `token` and `error` events; shared providers emit once per token. */
  #observeProvider(server: string, provider: TokenProvider): TokenProvider {
    let last = this.#lastToken.get(provider)
    if (!last) {
      last = { value: undefined }
      this.#lastToken.set(provider, last)
    }
    const seen = last
    const manager = this
    return {
      async getToken(options?: GetTokenOptions): Promise<AccessToken> {
        const start = manager.#now()
        let token: AccessToken
        try {
          token = await provider.getToken(options)
        } catch (err) {
          manager.#emit({
            type: 'error',
            at: manager.#now(),
            server,
            tool: undefined,
            durationMs: manager.#now() - start,
            phase: 'token',
            code: errorCode(err),
          })
          throw err
        }
        if (token.value !== seen.value) {
          seen.value = token.value
          manager.#emit({
            type: 'token',
            at: manager.#now(),
            server,
            tool: undefined,
            durationMs: manager.#now() - start,
            expiresAt: token.expiresAt,
            scopes: [...token.scopes],
          })
        }
        return token
      },
      invalidate(rejected?: string): void {
        provider.invalidate(rejected)
      },
    }
  }

  #connectServer(entry: Entry): Promise<void> {
    if (entry.connecting) return entry.connecting
    if (entry.retryTimer) clearTimeout(entry.retryTimer)
    entry.retryTimer = undefined
    entry.nextRetryAt = undefined
    const attempt = asService(() => this.#attempt(entry)).finally(() => {
      entry.connecting = undefined
    })
    entry.connecting = attempt
    return attempt
  }

  async #attempt(entry: Entry): Promise<void> {
    if (this.#closed) return
    const name = entry.config.name
    const start = this.#now()
    entry.state = 'connecting'
    const previous = entry.client
    let client: Client | undefined
    let transport: McpClientTransport | undefined
    try {
      transport = createTransport(entry.config, { tokenProvider: entry.provider, fetch: this.#fetch })
      const created = new Client(this.#clientInfo, { capabilities: {} })
      client = created
      entry.pending = created
      created.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        void asService(() => this.#refresh(entry, created))
      })
      await created.connect(transport, { timeout: this.#connectTimeoutMs })
      const tools = await listAllTools(created, this.#connectTimeoutMs)
      entry.pending = undefined
      if (this.#closed) {
        await created.close().catch(() => {})
        return
      }
      entry.client = created
      entry.transport = transport
      entry.sessionId = transport instanceof StreamableHTTPClientTransport ? transport.sessionId : undefined
      entry.tools = tools
      entry.state = 'connected'
      entry.error = undefined
      entry.attempts = 0
      const reconnect = entry.everConnected
      entry.everConnected = true
      this.#rebuildIndex()
      this.#emit({
        type: 'connected',
        at: this.#now(),
        server: name,
        tool: undefined,
        durationMs: this.#now() - start,
        toolCount: tools.length,
        reconnect,
      })
      if (previous) await previous.close().catch(() => {})
    } catch (err) {
      entry.pending = undefined
      await client?.close().catch(() => {})
      if (this.#closed) return
      if (previous) {
        entry.client = undefined
        entry.transport = undefined
        entry.sessionId = undefined
        await previous.close().catch(() => {})
      }
      entry.attempts++
      const code = errorCode(err)
      entry.error = new ServerUnavailableError(name, {
        attempts: entry.attempts,
        causeCode: code,
        cause: err,
      })
      entry.state = 'failed'
      this.#rebuildIndex()
      const retryInMs = this.#scheduleRetry(entry)
      this.#emit({
        type: 'error',
        at: this.#now(),
        server: name,
        tool: undefined,
        durationMs: this.#now() - start,
        phase: 'connect',
        code,
        attempt: entry.attempts,
        ...(retryInMs === undefined ? {} : { retryInMs }),
      })
    }
  }

  /** Schedules a background attempt with exponential backoff and equal jitter; returns its delay. */
  #scheduleRetry(entry: Entry): number | undefined {
    const retry = this.#retry
    if (!retry || this.#closed || entry.attempts >= retry.maxAttempts) return undefined
    const nominal = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (entry.attempts - 1))
    const delay = Math.round(nominal / 2 + (Math.random() * nominal) / 2)
    entry.nextRetryAt = this.#now() + delay
    const timer = setTimeout(() => {
      entry.retryTimer = undefined
      if (!this.#closed && entry.state === 'failed') void this.#connectServer(entry)
    }, delay)
    // A pending retry must never keep the process (or a test run) alive.
    timer.unref?.()
    entry.retryTimer = timer
    return delay
  }

  #refresh(entry: Entry, client: Client): Promise<void> {
    if (entry.refreshing) return entry.refreshing
    const start = this.#now()
    // Always as the service: the list is cached and served to every user, so it must never be
    // fetched with one user's cookies, whoever triggered the refresh.
    const refreshing = asService(async () => {
      try {
        const tools = await listAllTools(client, this.#connectTimeoutMs)
        if (entry.client !== client || this.#closed) return
        entry.tools = tools
        this.#rebuildIndex()
        this.#emit({
          type: 'tools_changed',
          at: this.#now(),
          server: entry.config.name,
          tool: undefined,
          durationMs: this.#now() - start,
          toolCount: tools.length,
        })
      } catch (err) {
        this.#emit({
          type: 'error',
          at: this.#now(),
          server: entry.config.name,
          tool: undefined,
          durationMs: this.#now() - start,
          phase: 'refresh',
          code: errorCode(err),
        })
      }
    }).finally(() => {
      entry.refreshing = undefined
    })
    entry.refreshing = refreshing
    return refreshing
  }

  #requiredScopes(server: string, tool: string): readonly string[] | null {
    const policy = this.#policy
    if (!policy) return []
    const qualified = `${server}${SEPARATOR}${tool}`
    return policy.requiredScopesFor(policy.tools.includes(qualified) ? qualified : tool)
  }

  /** Names every connected server's tools: plain unless the name collides (see the class doc). */
  #rebuildIndex(): void {
    const entries = [...this.#entries.values()].filter((e) => usable(e))
    const count = new Map<string, number>()
    const fullNames = new Set<string>()
    for (const entry of entries) {
      for (const tool of entry.tools) {
        count.set(tool.name, (count.get(tool.name) ?? 0) + 1)
        fullNames.add(`${entry.config.name}${SEPARATOR}${tool.name}`)
      }
    }
    const tools: ManagedTool[] = []
    const byQualifiedName = new Map<string, ManagedTool>()
    for (const entry of entries) {
      const server = entry.config.name
      for (const tool of entry.tools) {
        // A plain name that equals another tool's `<server>__<tool>` form is namespaced as well,
        // so a qualified name always means one tool.
        const plain = count.get(tool.name) === 1 && !fullNames.has(tool.name)
        const qualifiedName = plain ? tool.name : `${server}${SEPARATOR}${tool.name}`
        if (byQualifiedName.has(qualifiedName)) continue // a server listing one name twice
        const managed: ManagedTool = Object.freeze({
          server,
          name: tool.name,
          qualifiedName,
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          outputSchema: tool.outputSchema,
          annotations: tool.annotations,
          requiredScopes: this.#requiredScopes(server, tool.name),
        })
        tools.push(managed)
        byQualifiedName.set(qualifiedName, managed)
      }
    }
    this.#tools = Object.freeze(tools)
    this.#byQualifiedName = byQualifiedName
    this.#openAI = undefined
  }

  #toolset(): OpenAIToolset<ManagedTool> {
    this.#openAI ??= toOpenAITools(this.#tools)
    return this.#openAI
  }

  #unavailable(entry: Entry): ServerUnavailableError {
    return (
      entry.error ??
      new ServerUnavailableError(entry.config.name, {
        attempts: entry.attempts,
        causeCode:
          entry.state === 'closed' ? McpTransportErrorCode.Closed : McpTransportErrorCode.NotConnected,
      })
    )
  }

  #resolve(name: string): ManagedTool {
    if (typeof name !== 'string' || name === '') throw new TypeError('"name" must be a non-empty string')
    const exact = this.#byQualifiedName.get(name) ?? this.#toolset().byOpenAIName.get(name)
    if (exact) return exact
    const at = name.indexOf(SEPARATOR)
    if (at > 0) {
      const entry = this.#entries.get(name.slice(0, at))
      if (entry) {
        const toolName = name.slice(at + SEPARATOR.length)
        if (!usable(entry)) {
          // Tools unknown while it is down: a typed "unavailable", not "unknown".
          throw this.#unavailable(entry)
        }
        const tool = this.#tools.find((t) => t.server === entry.config.name && t.name === toolName)
        if (tool) return tool
        throw new UnknownToolError(name)
      }
    }
    const matches = this.#tools.filter((t) => t.name === name)
    if (matches.length === 1) return matches[0] as ManagedTool
    if (matches.length > 1)
      throw new UnknownToolError(
        name,
        matches.map((t) => t.qualifiedName),
      )
    for (const entry of this.#entries.values()) {
      if (!usable(entry) && entry.tools.some((t) => t.name === name)) throw this.#unavailable(entry)
    }
    throw new UnknownToolError(name)
  }

  async #preflight(entry: Entry, tool: ManagedTool, start: number, user: boolean): Promise<void> {
    if (!this.#policy || !entry.provider) return
    const required = tool.requiredScopes
    const verifier = typeof this.#verifier === 'function' ? this.#verifier(tool.server) : this.#verifier
    let denial: { reason: ScopeDeniedReason; missing: readonly string[]; cause?: unknown } | undefined
    if (required === null) {
      denial = { reason: 'unknown_tool', missing: [] }
    } else if (required.length > 0 || verifier) {
      const token = await entry.provider.getToken()
      if (verifier) {
        try {
          await verifier.verify(token.value, { requiredScopes: required })
        } catch (err) {
          if (err instanceof InsufficientScopeError) {
            denial = { reason: 'insufficient_scope', missing: err.missingScopes, cause: err }
          } else if (err instanceof AuthCoreError && err.code === ErrorCode.InvalidToken) {
            denial = { reason: 'invalid_token', missing: [], cause: err }
          } else {
            throw err
          }
        }
      } else {
        const missing = required.filter((s) => !token.scopes.includes(s))
        if (missing.length > 0) denial = { reason: 'insufficient_scope', missing }
      }
    }
    if (!denial) return
    this.#emit({
      type: 'denied',
      at: this.#now(),
      server: tool.server,
      tool: tool.name,
      qualifiedName: tool.qualifiedName,
      durationMs: this.#now() - start,
      reason: denial.reason,
      requiredScopes: required,
      missingScopes: [...denial.missing],
      user,
    })
    throw new ScopeDeniedError(tool.server, tool.name, {
      reason: denial.reason,
      requiredScopes: required,
      missingScopes: denial.missing,
      cause: denial.cause,
    })
  }

  async #send(
    entry: Entry,
    tool: ManagedTool,
    args: Record<string, unknown>,
    options: CallToolOptions,
    onReconnect: () => void,
  ): Promise<CallToolResult> {
    // A session being replaced (another call found it expired): wait for the new one.
    if (entry.state === 'connecting' && entry.connecting) await entry.connecting
    const client = entry.client
    if (entry.state !== 'connected' || !client) throw this.#unavailable(entry)
    const request = { name: tool.name, arguments: args }
    const requestOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    }
    try {
      return (await client.callTool(request, undefined, requestOptions)) as CallToolResult
    } catch (err) {
      if (!(err instanceof StreamableHTTPError && err.code === 404 && entry.sessionId !== undefined)) {
        if (errorCode(err) === 'ERR_NETWORK' && entry.client === client) this.#markDown(entry, err)
        throw err
      }
      // The server forgot our session (restart, expiry): a new session, then one retry.
      if (entry.client === client) await this.#connectServer(entry)
      else if (entry.connecting) await entry.connecting
      const fresh = entry.client
      if (entry.state !== 'connected' || !fresh) throw this.#unavailable(entry)
      onReconnect()
      return (await fresh.callTool(request, undefined, requestOptions)) as CallToolResult
    }
  }

  /** A call found the server unreachable: drop the client and reconnect in the background. */
  #markDown(entry: Entry, err: unknown): void {
    const client = entry.client
    entry.client = undefined
    entry.transport = undefined
    entry.sessionId = undefined
    entry.attempts = 1
    entry.state = 'failed'
    entry.error = new ServerUnavailableError(entry.config.name, {
      attempts: 1,
      causeCode: errorCode(err),
      cause: err,
    })
    void client?.close().catch(() => {})
    this.#rebuildIndex()
    asService(() => this.#scheduleRetry(entry))
  }
}

/** Connected, or replacing an expired session (its tools stay listed meanwhile). */
function usable(entry: Entry): boolean {
  return entry.state === 'connected' || (entry.state === 'connecting' && entry.client !== undefined)
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
    timer.unref?.()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
