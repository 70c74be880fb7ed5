import type {
  SharedTokenEntry,
  TokenInvalidation,
  TokenStore,
  TokenStoreLockResult,
  TokenStoreOperationOptions,
  TokenStoreSetOptions,
} from '@mcp-oauth2/auth-core'
import { RedisTokenStoreError } from './errors.js'
import { classify } from './internal/classify.js'
import { KeyNames } from './internal/key-names.js'
import { Keyring } from './internal/keyring.js'
import {
  checkClientLike,
  createUrlClient,
  describeClient,
  type RedisClientLike,
} from './internal/redis-client.js'
import { RedisConnection } from './internal/redis-connection.js'
import { COMPARE_AND_DELETE, LOCK, SET_AND_RELEASE, UNLOCK } from './internal/scripts.js'

export type { RedisClientLike } from './internal/redis-client.js'

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
  readonly #connection: RedisConnection
  readonly #subscriber: RedisClientLike
  readonly #owned: boolean
  readonly #keyring: Keyring
  readonly #names: KeyNames
  readonly #channel: string
  readonly #now: () => number
  readonly #waiters = new Map<string, Set<(notified: boolean) => void>>()
  readonly #listeners = new Set<(notice: TokenInvalidation) => void>()
  #closed = false
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
    this.#names = new KeyNames(this.#keyring, prefix)
    this.#channel = `${prefix}events`
    const timeoutMs = options.timeoutMs ?? 500
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))
      throw new TypeError('"timeoutMs" option must be a positive number')
    const now = options.now ?? Date.now
    if (typeof now !== 'function') throw new TypeError('"now" option must be a function')
    this.#now = now

    let redis: RedisClientLike
    let server: string
    if (url !== undefined) {
      const created = createUrlClient(url, options.allowInsecureTransport)
      redis = created.client
      server = created.server
      this.#owned = true
    } else {
      checkClientLike(client)
      redis = client
      server = describeClient(client)
      this.#owned = false
    }
    this.#connection = new RedisConnection(redis, server, timeoutMs)
    if (!redis.isOpen) redis.connect().catch(() => {})
    // Notices (writes, releases, invalidations) arrive on a connection of their own.
    this.#subscriber = redis.duplicate()
    this.#subscriber.on('error', this.#onSubscriberError)
    this.#subscriber
      .connect()
      .then(() => this.#subscriber.subscribe(this.#channel, this.#onMessage))
      .catch(() => {})
  }

  async get(key: string, options?: TokenStoreOperationOptions): Promise<SharedTokenEntry | undefined> {
    const names = this.#names.of(key)
    const records = await this.#connection.exec('get', ['MGET', ...names.tokens], options?.signal)
    if (!Array.isArray(records))
      throw classify(new Error('unexpected MGET reply'), 'get', this.#connection.server)
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
        `redis get at ${this.#connection.server}: the stored token cannot be decrypted with this replica's keys`,
        { operation: 'get', server: this.#connection.server },
      )
    }
    return undefined
  }

  async set(key: string, entry: SharedTokenEntry, options?: TokenStoreSetOptions): Promise<void> {
    const names = this.#names.of(key)
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
    await this.#connection.exec(
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
    const names = this.#names.of(key)
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const reply = await this.#connection.exec(
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
    const names = this.#names.of(key)
    const reply = await this.#connection.exec(
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
    this.#names.of(key) // so that notices for this key are recognised
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
    const names = this.#names.of(key)
    const records = await this.#connection.exec('invalidate', ['MGET', ...names.tokens], options?.signal)
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
      const reply = await this.#connection.exec(
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
    this.#connection.close()
    try {
      this.#subscriber.destroy()
    } catch {}
    if (this.#owned) {
      if (this.#connection.client.isReady) {
        await Promise.race([
          this.#connection.client.close().catch(() => {}),
          new Promise((r) => setTimeout(r, 1_000)),
        ])
      }
      try {
        if (this.#connection.client.isOpen) this.#connection.client.destroy()
      } catch {}
    }
    // A client we created keeps our listener: an error it emits while closing must not crash the
    // process. Yours gets its listeners back as they were.
    if (!this.#owned) this.#connection.detach()
  }

  #notice(message: string): void {
    let parsed: { e?: unknown; n?: unknown; k?: unknown; f?: unknown }
    try {
      parsed = JSON.parse(message)
    } catch {
      return
    }
    if (typeof parsed.n !== 'string') return
    const key = this.#names.keyOf(parsed.n)
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
}
