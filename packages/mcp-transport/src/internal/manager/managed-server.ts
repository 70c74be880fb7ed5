import type { TokenProvider } from '@mcp-oauth2/auth-core'
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js'
import { McpFailureCode, McpTransportErrorCode, ServerUnavailableError } from '../../errors.js'
import { recordingSentCredentials, type SentCredentials } from '../fetch/sent-credentials.js'
import { runAsService } from '../user-context-store.js'
import { withTimeout } from './client-calls.js'
import { failureCode } from './failure-code.js'
import { type ManagedServerOptions, untraced } from './managed-server-options.js'
import type { ListedTools, McpClientHandle, PendingClient } from './mcp-client.js'
import { PrivateLists } from './private-lists.js'
import { RetryTimer } from './retry-timer.js'
import { ErrorSanitizer } from './sanitize-error.js'
import type { CallToolOptions, ServerState, ServerStatus } from './server-status.js'

export type { ManagedServerOptions } from './managed-server-options.js'
export type { CallToolOptions, ServerState, ServerStatus } from './server-status.js'

/** How long `close()` waits for a session's HTTP DELETE, and for the pool to drain, ms. */
const CLOSE_TIMEOUT_MS = 2000

/**
 * One MCP server's connection, owning its lifecycle: connecting (initialize and the paginated
 * tool list, as the service), its state machine (idle → connecting → connected | failed → … →
 * closed), reconnecting in the background by its policy, replacing an expired session once per
 * call, refreshing its tools on `notifications/tools/list_changed`, and on `close()` ending its
 * session and releasing every client, timer and TLS pool it holds.
 *
 * Everything it does on the service's behalf runs outside any user context: a reconnect inside
 * a user's call would otherwise send that user's cookies on the new session's requests.
 */
export class ManagedServer {
  readonly name: string
  readonly provider: TokenProvider | undefined
  readonly #options: ManagedServerOptions
  #state: ServerState = 'idle'
  #client: McpClientHandle | undefined
  /** A client being connected (closed if the manager closes meanwhile). */
  #pending: PendingClient | undefined
  #tools: readonly Tool[] = []
  /** The cache hints of the last list, and when it was listed (the manager's `now`). */
  #hints: Omit<ListedTools, 'tools'> = { ttlMs: undefined, cacheScope: undefined }
  #listedAt = 0
  /** Users' private lists (of a server whose lists are `cacheScope: 'private'`). */
  readonly #privateLists = new PrivateLists()
  #error: ServerUnavailableError | undefined
  #attempts = 0
  #everConnected = false
  #connecting: Promise<void> | undefined
  #refreshing: Promise<void> | undefined
  readonly #retry = new RetryTimer()
  #closed = false
  /** Keeps this server's secrets, and the credentials sent for it, out of the errors it hands out. */
  readonly #sanitizer: ErrorSanitizer

  constructor(options: ManagedServerOptions) {
    this.#options = options
    this.name = options.name
    this.provider = options.provider
    this.#sanitizer = new ErrorSanitizer(options.secrets ?? [])
  }

  get state(): ServerState {
    return this.#state
  }

  /** Its last listed tools (kept while it is down). */
  get tools(): readonly Tool[] {
    return this.#tools
  }

  /** Connected, or replacing an expired session (its tools stay listed meanwhile). */
  get usable(): boolean {
    return this.#state === 'connected' || (this.#state === 'connecting' && this.#client !== undefined)
  }

  /** The list refresh in progress, if any. */
  get refreshing(): Promise<void> | undefined {
    return this.#refreshing
  }

  /** Whether its last list was `cacheScope: 'private'` (a 2026-07-28 server said so). */
  get privateList(): boolean {
    return this.#hints.cacheScope === 'private'
  }

  /** Whether its shared list is past its `ttlMs` (never, when the server gave none). */
  get listExpired(): boolean {
    const ttl = this.#hints.ttlMs
    return ttl !== undefined && this.#options.now() - this.#listedAt >= ttl
  }

  /**
   * The tools as `user` sees them, for a server whose lists are private: listed in the caller's
   * context (the user's cookies go along), kept for that user only until its `ttlMs`, at most
   * {@link MAX_PRIVATE_LISTS} users. `user` undefined (a user nobody can tell apart): listed
   * afresh and kept for nobody.
   */
  async toolsFor(user: string | undefined, refresh: boolean): Promise<readonly Tool[]> {
    const client = this.#client
    if (this.#state !== 'connected' || !client) return []
    const now = this.#options.now()
    const kept = user === undefined || refresh ? undefined : this.#privateLists.fresh(user, now)
    if (kept) return kept
    const sent: SentCredentials = new Set()
    let listed: ListedTools
    try {
      listed = await recordingSentCredentials(sent, () => client.listTools(this.#options.connectTimeoutMs))
    } catch (err) {
      throw this.#sanitizer.sanitize(err, sent)
    }
    if (user !== undefined && this.#client === client)
      this.#privateLists.set(user, { tools: listed.tools, listedAt: now, ttlMs: listed.ttlMs })
    return listed.tools
  }

  status(): ServerStatus {
    return {
      name: this.name,
      url: this.#options.url,
      transport: this.#options.transport,
      state: this.#state,
      error: this.#error,
      attempts: this.#attempts,
      nextRetryAt: this.#retry.dueAt,
      toolCount: this.#state === 'connected' ? this.#tools.length : 0,
      protocolVersion: this.#client?.protocolVersion,
    }
  }

  /** The error for a call to this server while it is not usable. */
  unavailable(): ServerUnavailableError {
    return (
      this.#error ??
      new ServerUnavailableError(this.name, {
        attempts: this.#attempts,
        causeCode:
          this.#state === 'closed' ? McpTransportErrorCode.Closed : McpTransportErrorCode.NotConnected,
      })
    )
  }

  /** Connects (one attempt at a time; concurrent callers share it). Never rejects. */
  connect(): Promise<void> {
    if (this.#connecting) return this.#connecting
    this.#retry.cancel()
    const attempt = runAsService(() =>
      recordingSentCredentials(this.#sanitizer.sent, () => this.#attempt()),
    ).finally(() => {
      this.#connecting = undefined
    })
    this.#connecting = attempt
    return attempt
  }

  /**
   * Lists the tools again (as the service: the shared list is served to every user). `expired`:
   * only because its `ttlMs` passed, so no `tools_changed` event and users' private lists stay.
   */
  refresh(expired = false): Promise<void> {
    const client = this.#client
    if (this.#state !== 'connected' || !client) return Promise.resolve()
    return this.#refresh(client, expired)
  }

  /**
   * Calls a tool. An expired session (HTTP 404 with a session id) is replaced by a new one and
   * the call retried once (`onReconnect` says so); an unreachable server is marked failed and
   * reconnected in the background.
   */
  async callTool(
    tool: string,
    args: Record<string, unknown>,
    options: CallToolOptions,
    onReconnect: () => void,
  ): Promise<CallToolResult> {
    // A session being replaced (another call found it expired): wait for the new one.
    if (this.#state === 'connecting' && this.#connecting) await this.#connecting
    const client = this.#client
    if (this.#state !== 'connected' || !client) throw this.unavailable()
    const requestOptions = {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    }
    // What this call sends (the user's token, the service's), to keep out of its errors.
    const sent: SentCredentials = new Set()
    try {
      return await recordingSentCredentials(sent, () => client.callTool(tool, args, requestOptions))
    } catch (err) {
      if (!client.isSessionExpired(err)) {
        const safe = this.#sanitizer.sanitize(err, sent)
        if (failureCode(err) === McpFailureCode.Network && this.#client === client) this.#markDown(safe)
        throw safe
      }
      // The server forgot our session (restart, expiry): a new session, then one retry.
      if (this.#client === client) await this.connect()
      else if (this.#connecting) await this.#connecting
      const fresh = this.#client
      if (this.#state !== 'connected' || !fresh) throw this.unavailable()
      onReconnect()
      try {
        return await recordingSentCredentials(sent, () => fresh.callTool(tool, args, requestOptions))
      } catch (retryErr) {
        throw this.#sanitizer.sanitize(retryErr, sent)
      }
    }
  }

  /**
   * Ends the session (HTTP DELETE for Streamable HTTP), stops the background retry, closes the
   * clients and releases the auth fetch's TLS pool. Bounded: a server that does not answer the
   * DELETE holds it up for {@link CLOSE_TIMEOUT_MS} at most.
   */
  async close(): Promise<void> {
    this.#closed = true
    this.#retry.cancel()
    const client = this.#client
    const pending = this.#pending
    this.#client = undefined
    this.#pending = undefined
    this.#privateLists.clear()
    this.#state = 'closed'
    await runAsService(async () => {
      if (pending) await pending.close().catch(() => {})
      if (client) {
        await withTimeout(client.terminateSession(), CLOSE_TIMEOUT_MS).catch(() => {})
        await client.close().catch(() => {})
      }
      await withTimeout(this.#options.release(), CLOSE_TIMEOUT_MS).catch(() => {})
    })
  }

  // ---------------------------------------------------------------------------------------------

  async #attempt(): Promise<void> {
    if (this.#closed) return
    const { connectTimeoutMs, now, emit } = this.#options
    const start = now()
    this.#state = 'connecting'
    const previous = this.#client
    let pending: PendingClient | undefined
    try {
      let handle: McpClientHandle | undefined
      const made = this.#options.makeClient(() => {
        if (handle) void runAsService(() => this.#refresh(handle as McpClientHandle))
      })
      pending = made
      this.#pending = made
      const trace = this.#options.trace ?? untraced
      const created = await trace('initialize', () => made.connect())
      handle = created
      const listed = await trace('tools/list', () => created.listTools(connectTimeoutMs))
      this.#pending = undefined
      if (this.#closed) {
        await created.close().catch(() => {})
        return
      }
      this.#client = created
      this.#setList(listed)
      this.#privateLists.clear()
      const tools = listed.tools
      this.#state = 'connected'
      this.#error = undefined
      this.#attempts = 0
      const reconnect = this.#everConnected
      this.#everConnected = true
      this.#options.onToolsChanged()
      emit?.({
        type: 'connected',
        at: now(),
        server: this.name,
        tool: undefined,
        durationMs: now() - start,
        toolCount: tools.length,
        reconnect,
      })
      if (previous) await previous.close().catch(() => {})
    } catch (err) {
      this.#pending = undefined
      await pending?.close().catch(() => {})
      if (this.#closed) return
      if (previous) {
        this.#dropClient()
        await previous.close().catch(() => {})
      }
      this.#attempts++
      const code = failureCode(err)
      this.#error = new ServerUnavailableError(this.name, {
        attempts: this.#attempts,
        causeCode: code,
        cause: this.#sanitizer.sanitize(err),
      })
      this.#state = 'failed'
      this.#options.onToolsChanged()
      const retryInMs = this.#scheduleRetry()
      this.#emitError(start, 'connect', code, {
        attempt: this.#attempts,
        ...(retryInMs === undefined ? {} : { retryInMs }),
      })
    }
  }

  /** The `error` event of a connection attempt or a list refresh that began at `start`. */
  #emitError(
    start: number,
    phase: 'connect' | 'refresh',
    code: string,
    extra: { attempt?: number; retryInMs?: number } = {},
  ): void {
    const { emit, now } = this.#options
    emit?.({
      type: 'error',
      at: now(),
      server: this.name,
      tool: undefined,
      durationMs: now() - start,
      phase,
      code,
      ...extra,
    })
  }

  /** Schedules a background attempt by the reconnect policy; returns its delay. */
  #scheduleRetry(): number | undefined {
    const delay = this.#closed ? undefined : this.#options.reconnect?.delayAfter(this.#attempts)
    if (delay === undefined) return undefined
    this.#retry.schedule(delay, this.#options.now(), () => {
      if (!this.#closed && this.#state === 'failed') void this.connect()
    })
    return delay
  }

  #setList(listed: ListedTools): void {
    this.#tools = listed.tools
    this.#hints = { ttlMs: listed.ttlMs, cacheScope: listed.cacheScope }
    this.#listedAt = this.#options.now()
  }

  #refresh(client: McpClientHandle, expired = false): Promise<void> {
    if (this.#refreshing) return this.#refreshing
    const { now, emit, connectTimeoutMs } = this.#options
    const start = now()
    // Always as the service: the list is cached and served to every user, so it must never be
    // fetched with one user's cookies, whoever triggered the refresh.
    const refreshing = runAsService(() =>
      recordingSentCredentials(this.#sanitizer.sent, async () => {
        try {
          const trace = this.#options.trace ?? untraced
          const listed = await trace('tools/list', () => client.listTools(connectTimeoutMs))
          if (this.#client !== client || this.#closed) return
          this.#setList(listed)
          this.#options.onToolsChanged()
          if (expired) return
          // The server said its tools changed: every user's private list is stale too.
          this.#privateLists.clear()
          const tools = listed.tools
          emit?.({
            type: 'tools_changed',
            at: now(),
            server: this.name,
            tool: undefined,
            durationMs: now() - start,
            toolCount: tools.length,
          })
        } catch (err) {
          this.#emitError(start, 'refresh', failureCode(err))
        }
      }),
    ).finally(() => {
      this.#refreshing = undefined
    })
    this.#refreshing = refreshing
    return refreshing
  }

  /** A call found the server unreachable (`err`, sanitized): drop the client and reconnect in the background. */
  #markDown(err: unknown): void {
    const client = this.#client
    this.#dropClient()
    this.#attempts = 1
    this.#state = 'failed'
    this.#error = new ServerUnavailableError(this.name, {
      attempts: 1,
      causeCode: failureCode(err),
      cause: err,
    })
    void client?.close().catch(() => {})
    this.#options.onToolsChanged()
    this.#scheduleRetry()
  }

  #dropClient(): void {
    this.#client = undefined
    this.#privateLists.clear()
  }
}
