import {
  isLoopbackHost,
  type SharedTokenEntry,
  type TokenInvalidation,
  type TokenStore,
  type TokenStoreLockResult,
  type TokenStoreOperationOptions,
  type TokenStoreSetOptions,
} from '@mcp-oauth2/auth-core'
import { createClient } from '@redis/client'
import { RedisTokenStoreError, type RedisTokenStoreOperation } from './errors.js'
import { classify, isAuthFailure } from './internal/classify.js'
import { Keyring } from './internal/keyring.js'
import { COMPARE_AND_DELETE, LOCK, SET_AND_RELEASE, UNLOCK } from './internal/scripts.js'

/**
 * The part of a node-redis client (`redis` / `@redis/client`, v5 or v6) the store uses. Pass your
 * own client to share its connection settings (TLS, ACL user, sentinel-free reconnect policy); the
 * store adds an `error` listener to it (so a connection error never crashes the process), makes one
 * duplicate connection for its notices, and never closes your client.
 */
export interface RedisClientLike {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect(): Promise<unknown>
  sendCommand(args: readonly string[]): Promise<unknown>
  duplicate(): RedisClientLike
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>
  // biome-ignore lint/suspicious/noExplicitAny: the EventEmitter signature node-redis clients have
  on(event: 'error' | 'ready', listener: (...args: any[]) => void): unknown
  // biome-ignore lint/suspicious/noExplicitAny: the EventEmitter signature node-redis clients have
  off(event: 'error' | 'ready', listener: (...args: any[]) => void): unknown
  close(): Promise<unknown>
  destroy(): unknown
}

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * The server, `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). One of `url` or
   * `client` is required. A password over plain `redis://` is refused for a host that is not
   * loopback unless `allowInsecureTransport` is set.
   */
  url?: string | undefined
  /** A node-redis client to use instead of `url` (connected or not; the store connects it if needed). */
  client?: RedisClientLike | undefined
  /**
   * Prefix of every Redis key and channel the store uses.
   * @default 'mcp-oauth2:'
   */
  keyPrefix?: string | undefined
  /**
   * The AES-256-GCM key: 32 bytes, or their base64 (`openssl rand -base64 32`). With a list, the
   * first encrypts and every key decrypts (rotation: put the new key first, drop the old one once
   * the tokens it encrypted have expired). Every replica of a fleet needs the same keys.
   */
  encryptionKey: string | Uint8Array | readonly (string | Uint8Array)[]
  /**
   * Deadline of every operation, milliseconds: a command that the server has not answered by then
   * fails with `ERR_REDIS_TIMEOUT` (node-redis cannot time out a command it has sent, so the store
   * keeps its own deadline). The command may still run on the server; every operation is safe to
   * repeat.
   * @default 500
   */
  timeoutMs?: number | undefined
  /**
   * Allow a password over plain `redis://` to a host that is not loopback.
   * @default false
   */
  allowInsecureTransport?: boolean | undefined
  /**
   * Clock, epoch milliseconds (time left on tokens written).
   * @default Date.now
   */
  now?: (() => number) | undefined
}

/** Names of one cache key in Redis, under every key of the keyring (the encrypting key's first). */
interface Names {
  readonly names: readonly string[]
  readonly tokens: readonly string[]
  readonly lock: string
}

/** Cache keys whose Redis names are remembered at most (names are cheap to recompute). */
const MAX_REMEMBERED_KEYS = 10_000

function serverOf(url: URL): string {
  return url.port ? `${url.hostname}:${url.port}` : url.hostname
}

function describeClient(client: RedisClientLike): string {
  const options = (client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown } } })
    .options
  if (typeof options?.url === 'string') {
    try {
      return serverOf(new URL(options.url))
    } catch {}
  }
  const host = typeof options?.socket?.host === 'string' ? options.socket.host : 'localhost'
  const port = typeof options?.socket?.port === 'number' ? options.socket.port : 6379
  return `${host}:${port}`
}

/**
 * A shared {@link TokenStore} on Redis for a fleet of gateway replicas: tokens encrypted at rest
 * (AES-256-GCM, key id and cache key as associated data), Redis key names that are keyed hashes of
 * the cache keys, fleet-wide locks with owner tokens, notices over pub/sub, and a deadline on every
 * operation. Nothing readable in Redis (keys, values, messages) shows a token, secret or assertion.
 *
 * @example
 * ```ts
 * const store = new RedisTokenStore({
 *   url: process.env.REDIS_URL,
 *   encryptionKey: process.env.TOKEN_STORE_KEY!, // openssl rand -base64 32
 * })
 * // new ClientCredentialsTokenProvider({ ...options, store })
 * await store.close()
 * ```
 */
export class RedisTokenStore implements TokenStore {
  readonly #client: RedisClientLike
  readonly #subscriber: RedisClientLike
  readonly #owned: boolean
  readonly #keyring: Keyring
  readonly #prefix: string
  readonly #channel: string
  readonly #timeoutMs: number
  readonly #now: () => number
  readonly #server: string
  readonly #byKey = new Map<string, Names>()
  readonly #byName = new Map<string, string>()
  readonly #waiters = new Map<string, Set<(notified: boolean) => void>>()
  readonly #listeners = new Set<(notice: TokenInvalidation) => void>()
  #closed = false
  #everReady = false
  #lastError: unknown
  /** Operations waiting for the first connection: told when it is ready, or refused. */
  readonly #connecting = new Set<{ ready(): void; refused(error: unknown): void }>()
  readonly #onError = (error: unknown) => {
    this.#lastError = error
    // Wrong credentials will not fix themselves: no need to wait for the deadline.
    if (isAuthFailure(error)) for (const waiter of [...this.#connecting]) waiter.refused(error)
  }
  readonly #onReady = () => {
    this.#everReady = true
    this.#lastError = undefined
    for (const waiter of [...this.#connecting]) waiter.ready()
  }
  readonly #onSubscriberError = () => {}
  readonly #onMessage = (message: string) => this.#notice(message)

  constructor(options: RedisTokenStoreOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    const { url, client } = options
    if ((url === undefined) === (client === undefined))
      throw new TypeError('exactly one of "url" or "client" is required')
    this.#keyring = new Keyring(options.encryptionKey)
    const prefix = options.keyPrefix ?? 'mcp-oauth2:'
    if (typeof prefix !== 'string' || /[\s{}]/.test(prefix))
      throw new TypeError('"keyPrefix" must be a string without spaces or braces')
    this.#prefix = prefix
    this.#channel = `${prefix}events`
    const timeoutMs = options.timeoutMs ?? 500
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      throw new TypeError('"timeoutMs" option must be a positive number')
    this.#timeoutMs = timeoutMs
    const now = options.now ?? Date.now
    if (typeof now !== 'function') throw new TypeError('"now" option must be a function')
    this.#now = now

    if (url !== undefined) {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        throw new TypeError('"url" must be a redis:// or rediss:// URL')
      }
      if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
        throw new TypeError('"url" must be a redis:// or rediss:// URL')
      if (
        parsed.protocol === 'redis:' &&
        parsed.password !== '' &&
        !isLoopbackHost(parsed.hostname) &&
        options.allowInsecureTransport !== true
      ) {
        throw new TypeError(
          '"url" would send a password over plain redis:// to a host that is not loopback: use rediss:// or set "allowInsecureTransport"',
        )
      }
      this.#server = serverOf(parsed)
      this.#owned = true
      this.#client = createClient({
        url,
        // Fail at once while disconnected instead of queueing: the caller falls back.
        disableOfflineQueue: true,
        // Keeps idle connections alive through NAT and load balancers.
        pingInterval: 10_000,
        socket: {
          connectTimeout: 2_000,
          reconnectStrategy: (retries: number) =>
            Math.min(50 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100),
        },
      }) as unknown as RedisClientLike
    } else {
      if (
        typeof client !== 'object' ||
        client === null ||
        typeof client.sendCommand !== 'function' ||
        typeof client.duplicate !== 'function'
      ) {
        throw new TypeError(
          '"client" must be a node-redis client (createClient() from redis or @redis/client)',
        )
      }
      this.#server = describeClient(client)
      this.#owned = false
      this.#client = client
    }
    this.#client.on('error', this.#onError)
    this.#client.on('ready', this.#onReady)
    if (this.#client.isReady) this.#onReady()
    if (!this.#client.isOpen) this.#client.connect().catch(() => {})
    // Notices (writes, releases, invalidations) arrive on a connection of their own.
    this.#subscriber = this.#client.duplicate()
    this.#subscriber.on('error', this.#onSubscriberError)
    this.#subscriber
      .connect()
      .then(() => this.#subscriber.subscribe(this.#channel, this.#onMessage))
      .catch(() => {})
  }

  async get(key: string, options?: TokenStoreOperationOptions): Promise<SharedTokenEntry | undefined> {
    const names = this.#names(key)
    const records = await this.#exec('get', ['MGET', ...names.tokens], options?.signal)
    if (!Array.isArray(records)) throw classify(new Error('unexpected MGET reply'), 'get', this.#server)
    let unreadable = false
    for (const record of records) {
      if (typeof record !== 'string') continue
      let body: ReturnType<Keyring['open']>
      try {
        body = this.#keyring.open(key, record)
      } catch {
        unreadable = true
        continue
      }
      if (this.#now() >= body.e) continue
      return {
        token: Object.freeze({
          value: body.v,
          tokenType: body.t,
          expiresAt: body.e,
          scopes: Object.freeze(body.s.filter((s): s is string => typeof s === 'string')),
        }),
        refreshAt: body.r,
      }
    }
    if (unreadable) {
      throw new RedisTokenStoreError(
        'ERR_REDIS_DECRYPT',
        `redis get at ${this.#server}: the stored token cannot be decrypted with this replica's keys`,
        { operation: 'get', server: this.#server },
      )
    }
    return undefined
  }

  async set(key: string, entry: SharedTokenEntry, options?: TokenStoreSetOptions): Promise<void> {
    const names = this.#names(key)
    const owner = options?.owner ?? ''
    const ttlMs = Math.floor(entry.token.expiresAt - this.#now())
    if (ttlMs <= 0) {
      if (owner !== '') await this.unlock(key, owner, options)
      return
    }
    const record = this.#keyring.seal(key, {
      v: entry.token.value,
      t: entry.token.tokenType,
      e: entry.token.expiresAt,
      s: [...entry.token.scopes],
      r: entry.refreshAt,
    })
    await this.#exec(
      'set',
      [
        'EVAL',
        SET_AND_RELEASE,
        '2',
        names.tokens[0]!,
        names.lock,
        record,
        String(ttlMs),
        owner,
        this.#channel,
        JSON.stringify({ e: 'set', n: names.names[0] }),
      ],
      options?.signal,
    )
  }

  async lock(
    key: string,
    owner: string,
    ttlMs: number,
    options?: TokenStoreOperationOptions,
  ): Promise<TokenStoreLockResult> {
    const names = this.#names(key)
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const reply = await this.#exec(
      'lock',
      ['EVAL', LOCK, '1', names.lock, owner, String(ttl)],
      options?.signal,
    )
    if (Array.isArray(reply) && Number(reply[0]) === 1) return { acquired: true }
    const remaining = Array.isArray(reply) ? Number(reply[1]) : Number.NaN
    // -1 (a lock without expiry, not ours) or a vanished lock: wait no longer than our own ttl.
    return { acquired: false, expiresInMs: remaining >= 0 ? remaining : ttl }
  }

  async unlock(key: string, owner: string, options?: TokenStoreOperationOptions): Promise<boolean> {
    const names = this.#names(key)
    const reply = await this.#exec(
      'unlock',
      [
        'EVAL',
        UNLOCK,
        '1',
        names.lock,
        owner,
        this.#channel,
        JSON.stringify({ e: 'unlock', n: names.names[0] }),
      ],
      options?.signal,
    )
    return Number(reply) === 1
  }

  waitFor(key: string, timeoutMs: number, options?: TokenStoreOperationOptions): Promise<boolean> {
    const signal = options?.signal
    if (this.#closed || signal?.aborted) return Promise.resolve(false)
    this.#names(key) // so that notices for this key are recognised
    return new Promise<boolean>((resolve) => {
      let waiters = this.#waiters.get(key)
      if (waiters === undefined) {
        waiters = new Set()
        this.#waiters.set(key, waiters)
      }
      const set = waiters
      const done = (notified: boolean) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        set.delete(done)
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key)
        resolve(notified)
      }
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs))
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(done)
    })
  }

  async invalidate(key: string, rejected: string, options?: TokenStoreOperationOptions): Promise<boolean> {
    const names = this.#names(key)
    const records = await this.#exec('invalidate', ['MGET', ...names.tokens], options?.signal)
    if (!Array.isArray(records)) return false
    let dropped = false
    for (const [index, record] of records.entries()) {
      if (typeof record !== 'string') continue
      let value: string
      try {
        value = this.#keyring.open(key, record).v
      } catch {
        continue
      }
      if (value !== rejected) continue
      const { id, fingerprint } = this.#keyring.fingerprint(rejected)
      const reply = await this.#exec(
        'invalidate',
        [
          'EVAL',
          COMPARE_AND_DELETE,
          '1',
          names.tokens[index]!,
          record,
          this.#channel,
          JSON.stringify({ e: 'inv', n: names.names[0], k: id, f: fingerprint }),
        ],
        options?.signal,
      )
      if (Number(reply) === 1) dropped = true
    }
    return dropped
  }

  onInvalidate(listener: (notice: TokenInvalidation) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * Stops the store: pending waits end (`false`), later operations fail with `ERR_REDIS_CLOSED`,
   * the notice connection closes, and so does the client the store created from `url` (a client
   * passed in stays open).
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const waiters of [...this.#waiters.values()]) for (const done of [...waiters]) done(false)
    this.#listeners.clear()
    this.#client.off('ready', this.#onReady)
    try {
      this.#subscriber.destroy()
    } catch {}
    if (this.#owned) {
      if (this.#client.isReady) {
        await Promise.race([this.#client.close().catch(() => {}), new Promise((r) => setTimeout(r, 1_000))])
      }
      try {
        if (this.#client.isOpen) this.#client.destroy()
      } catch {}
    }
    // A client we created keeps our listener: an error it emits while closing must not crash the
    // process. Yours gets its listeners back as they were.
    if (!this.#owned) this.#client.off('error', this.#onError)
  }

  #names(key: string): Names {
    const known = this.#byKey.get(key)
    if (known !== undefined) return known
    if (this.#byKey.size >= MAX_REMEMBERED_KEYS) {
      this.#byKey.clear()
      this.#byName.clear()
    }
    const names = this.#keyring.names(key)
    const entry: Names = {
      names,
      tokens: names.map((name) => `${this.#prefix}t:{${name}}`),
      lock: `${this.#prefix}l:{${names[0]}}`,
    }
    this.#byKey.set(key, entry)
    for (const name of names) this.#byName.set(name, key)
    return entry
  }

  #notice(message: string): void {
    let parsed: { e?: unknown; n?: unknown; k?: unknown; f?: unknown }
    try {
      parsed = JSON.parse(message)
    } catch {
      return
    }
    if (typeof parsed.n !== 'string') return
    const key = this.#byName.get(parsed.n)
    if (key === undefined) return
    if (parsed.e === 'set' || parsed.e === 'unlock') {
      const waiters = this.#waiters.get(key)
      if (waiters !== undefined) for (const done of [...waiters]) done(true)
      return
    }
    if (parsed.e === 'inv' && typeof parsed.k === 'string' && typeof parsed.f === 'string') {
      const id = parsed.k
      const fingerprint = parsed.f
      const notice: TokenInvalidation = {
        key,
        matches: (value) => this.#keyring.matches(id, fingerprint, value),
      }
      for (const listener of [...this.#listeners]) {
        try {
          listener(notice)
        } catch {}
      }
    }
  }

  /** Sends one command under the store's deadline; every failure becomes a RedisTokenStoreError. */
  async #exec(
    operation: RedisTokenStoreOperation,
    args: string[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const server = this.#server
    if (this.#closed) {
      throw new RedisTokenStoreError(
        'ERR_REDIS_CLOSED',
        `redis ${operation} at ${server}: the store is closed`,
        {
          operation,
          server,
        },
      )
    }
    if (signal?.aborted) throw signal.reason
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort = () => {}
    const deadline = new Promise<never>((_, reject) => {
      const fail = (error: unknown) => {
        controller.abort()
        reject(error)
      }
      timer = setTimeout(() => fail(this.#timeoutError(operation)), this.#timeoutMs)
      onAbort = () => fail(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([this.#send(args, operation, controller.signal), deadline])
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error
      throw classify(error, operation, server)
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      controller.abort()
    }
  }

  async #send(args: string[], operation: RedisTokenStoreOperation, signal: AbortSignal): Promise<unknown> {
    const client = this.#client
    if (!client.isReady) {
      if (isAuthFailure(this.#lastError)) throw classify(this.#lastError, operation, this.#server)
      // Reconnecting after an outage: fail at once, the caller falls back. Only the first connect
      // is waited for (within the deadline), so a fleet starting together still shares one token.
      if (this.#everReady)
        throw new RedisTokenStoreError(
          'ERR_REDIS_UNAVAILABLE',
          `redis ${operation} at ${this.#server} failed: not connected`,
          { operation, server: this.#server },
        )
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          ready: () => {
            done()
            resolve()
          },
          refused: (error: unknown) => {
            done()
            reject(error)
          },
        }
        const onAbort = () => {
          done()
          reject(signal.reason)
        }
        const done = () => {
          this.#connecting.delete(waiter)
          signal.removeEventListener('abort', onAbort)
        }
        this.#connecting.add(waiter)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
    return client.sendCommand(args)
  }

  #timeoutError(operation: RedisTokenStoreOperation): RedisTokenStoreError {
    if (isAuthFailure(this.#lastError)) return classify(this.#lastError, operation, this.#server)
    return new RedisTokenStoreError(
      'ERR_REDIS_TIMEOUT',
      `redis ${operation} at ${this.#server} timed out after ${this.#timeoutMs} ms`,
      { operation, server: this.#server },
    )
  }
}
