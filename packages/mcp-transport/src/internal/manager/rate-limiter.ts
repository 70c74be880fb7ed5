import { isLoopbackHost } from '@mcp-oauth2/auth-core'
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import { RateLimitedError, type RateLimitScope } from '../../errors.js'
import { createIdentify, type Identify, type UserIdentity } from '../user-identity.js'
import type { Emit } from './events.js'
import { failureCode } from './failure-code.js'

type RateLimiterModule = typeof import('rate-limiter-flexible')

/** A number of calls per window. */
export interface RateLimit {
  /** Calls allowed per window (a positive integer). */
  limit: number
  /**
   * The window, in whole seconds. A window starts with its first call (a fixed window, as
   * rate-limiter-flexible counts).
   * @default 60
   */
  windowSeconds?: number | undefined
}

/** A limit of a tool or a server. */
export interface ScopedRateLimit extends RateLimit {
  /**
   * Count each user on their own (each gets `limit`), instead of all users together.
   * @default false
   */
  perUser?: boolean | undefined
}

/**
 * A connected node-redis client (`createClient()` of `redis` or `@redis/client`, v4 and later)
 * for limits shared across replicas. Its lifecycle is yours: the manager neither connects nor
 * closes it.
 */
export type RateLimitRedisClient = object

/** Options of the manager's `rateLimits`. Every limit is optional; calls are counted by all that apply. */
export interface RateLimitsOptions {
  /** Each user's calls, all tools together. Calls outside any user context count as one user: the service. */
  user?: RateLimit | undefined
  /**
   * Limits of tools, by tool name (`get_customer_info`), `<server>__<tool>` (which wins), or `*`
   * (each tool on its own).
   * @default {}
   */
  tools?: Readonly<Record<string, ScopedRateLimit>> | undefined
  /**
   * Limits of servers, by server name, or `*` (each server on its own).
   * @default {}
   */
  servers?: Readonly<Record<string, ScopedRateLimit>> | undefined
  /** Every call through the manager (through every replica, with `redis`). */
  global?: RateLimit | undefined
  /**
   * What identifies a user when `withUserContext` has no `userId`: a cookie (a session cookie)
   * or a header. Its value is hashed (SHA-256, the same on every replica), never stored or
   * logged. A user context with none of these counts against the service.
   * @default only `userId`
   */
  identify?: { cookie?: string | undefined; header?: string | undefined } | undefined
  /**
   * Shares the counters across replicas on Redis (rate-limiter-flexible's `RateLimiterRedis`).
   * When Redis fails or does not answer within `redisTimeoutMs`, each replica counts on its own
   * (in memory, with the same limits) until Redis answers again; one `store` event (`store: 'rate_limits'`)
   * says so, another when it is back.
   * @default in memory, per process
   */
  redis?: RateLimitRedisClient | undefined
  /**
   * A Redis URL (`redis://…`, `rediss://…`) to share the counters on when no `redis` client is
   * given: the manager creates the client (with `@redis/client`, an optional peer), waits up to
   * 2 s for it at the first call, and closes it in `close()`. It is never part of an event or
   * error.
   * A password over plain `redis://` to a host that is not loopback is refused (use
   * `rediss://`, or set `redisAllowInsecureTransport`).
   * @default none
   */
  redisUrl?: string | undefined
  /**
   * Allow `redisUrl` to send a password over plain `redis://` to a host that is not loopback
   * (a private network you trust).
   * @default false
   */
  redisAllowInsecureTransport?: boolean | undefined
  /**
   * Prefix of the Redis keys.
   * @default 'mcp-oauth2:rl'
   */
  keyPrefix?: string | undefined
  /**
   * How long a call waits for Redis before it is counted in memory instead, in milliseconds.
   * @default 250
   */
  redisTimeoutMs?: number | undefined
}

/** How long a replica counts in memory after Redis failed, before it asks Redis again, ms. */
export const STORE_RETRY_MS = 1000
const DEFAULT_WINDOW_SECONDS = 60
const DEFAULT_KEY_PREFIX = 'mcp-oauth2:rl'
const DEFAULT_REDIS_TIMEOUT_MS = 250
const SEPARATOR = '__'
/** How long the first call waits for a client the manager created to connect, ms. */
const CONNECT_WAIT_MS = 2000

/**
 * `redisUrl` is a `redis://` or `rediss://` URL, and sends no password in the clear to a host that
 * is not loopback (unless allowed). The URL itself is never part of the error.
 */
function checkRedisUrl(url: unknown, allowInsecure: boolean): void {
  let parsed: URL | undefined
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined
  } catch {
    parsed = undefined
  }
  if (
    parsed === undefined ||
    (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') ||
    parsed.hostname === ''
  )
    throw new TypeError('"rateLimits.redisUrl" must be a redis:// or rediss:// URL with a host')
  if (
    parsed.protocol === 'redis:' &&
    parsed.password !== '' &&
    !allowInsecure &&
    !isLoopbackHost(parsed.hostname)
  )
    throw new TypeError(
      '"rateLimits.redisUrl" would send a password over plain redis:// to a host that is not loopback: use rediss:// or set "rateLimits.redisAllowInsecureTransport"',
    )
}

/** What the limiter calls on a node-redis client it created. */
interface OwnedRedisClient {
  on(event: 'error', listener: (err: unknown) => void): unknown
  connect(): Promise<unknown>
  close?(): Promise<unknown>
  quit?(): Promise<unknown>
  destroy?(): void
}

/** One limit, resolved. */
interface Rule {
  readonly scope: RateLimitScope
  /** Where it came from, for its counters' keys: `user`, `tool:crm__search`, `server:*`, `global`. */
  readonly id: string
  readonly limit: number
  readonly windowMs: number
  readonly perUser: boolean
}

/** A rule with its counters. */
interface Counter {
  readonly rule: Rule
  readonly memory: RateLimiterAbstract
  readonly redis: RateLimiterAbstract | undefined
}

/** The call being checked. */
export interface LimitedCall {
  readonly server: string
  readonly tool: string
  readonly qualifiedName: string
  readonly identity: UserIdentity
  /** Whether the call runs inside `withUserContext`. */
  readonly user: boolean
}

function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new TypeError(`"${name}" must be a positive integer`)
  return value
}

function ruleOf(scope: RateLimitScope, id: string, limit: RateLimit | ScopedRateLimit, name: string): Rule {
  if (typeof limit !== 'object' || limit === null) throw new TypeError(`"${name}" must be an object`)
  const perUser = scope === 'user' ? true : ((limit as ScopedRateLimit).perUser ?? false)
  if (typeof perUser !== 'boolean') throw new TypeError(`"${name}.perUser" must be a boolean`)
  return {
    scope,
    id,
    limit: positiveInteger(limit.limit, `${name}.limit`),
    windowMs: positiveInteger(limit.windowSeconds ?? DEFAULT_WINDOW_SECONDS, `${name}.windowSeconds`) * 1000,
    perUser,
  }
}

function rulesOf(
  limits: Readonly<Record<string, ScopedRateLimit>> | undefined,
  scope: 'tool' | 'server',
  name: string,
): ReadonlyMap<string, Rule> {
  if (limits === undefined) return new Map()
  if (typeof limits !== 'object' || limits === null) throw new TypeError(`"${name}" must be a record`)
  return new Map(
    Object.entries(limits).map(([key, limit]) => [
      key,
      ruleOf(scope, `${scope}:${key}`, limit, `${name}.${key}`),
    ]),
  )
}

/** `promise`, or a rejection after `ms`; the late outcome of `promise` is swallowed. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms)
    timer.unref?.()
  })
  promise.catch(() => {})
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

type Outcome =
  | { readonly ok: true; readonly counter: Counter; readonly key: string; readonly shared: boolean }
  | { readonly ok: false; readonly counter: Counter; readonly retryAfterMs: number }

/**
 * The manager's rate limits, on rate-limiter-flexible: one counter per limit (`RateLimiterMemory`,
 * or `RateLimiterRedis` with a memory counter as the fallback while Redis is unreachable). A call
 * is counted by every limit that applies; when one refuses, the others are given their point back,
 * so a refused call uses up no limit.
 */
export class RateLimiter {
  readonly #options: RateLimitsOptions
  readonly #emit: Emit | undefined
  readonly #now: () => number
  readonly #identify: Identify
  readonly #user: Rule | undefined
  readonly #tools: ReadonlyMap<string, Rule>
  readonly #servers: ReadonlyMap<string, Rule>
  readonly #global: Rule | undefined
  readonly #keyPrefix: string
  readonly #redisTimeoutMs: number
  #counters: Promise<Map<Rule, Counter>> | undefined
  /** The client made from `redisUrl`, closed by `close()`. */
  #owned: OwnedRedisClient | undefined
  #closed = false
  /** While Redis is considered down: when to ask it again (epoch ms of `now`). */
  #storeDownUntil: number | undefined

  constructor(options: RateLimitsOptions, emit: Emit | undefined, now: () => number) {
    if (typeof options !== 'object' || options === null) throw new TypeError('"rateLimits" must be an object')
    this.#options = options
    this.#emit = emit
    this.#now = now
    this.#user = options.user && ruleOf('user', 'user', options.user, 'rateLimits.user')
    this.#tools = rulesOf(options.tools, 'tool', 'rateLimits.tools')
    this.#servers = rulesOf(options.servers, 'server', 'rateLimits.servers')
    this.#global = options.global && ruleOf('global', 'global', options.global, 'rateLimits.global')
    const identify = options.identify
    if (identify !== undefined) {
      if (typeof identify !== 'object' || identify === null)
        throw new TypeError('"rateLimits.identify" must be an object')
      for (const key of ['cookie', 'header'] as const) {
        const value = identify[key]
        if (value !== undefined && (typeof value !== 'string' || value === ''))
          throw new TypeError(`"rateLimits.identify.${key}" must be a non-empty string`)
      }
    }
    this.#identify = createIdentify(identify)
    const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX
    if (typeof keyPrefix !== 'string' || keyPrefix === '')
      throw new TypeError('"rateLimits.keyPrefix" must be a non-empty string')
    this.#keyPrefix = keyPrefix
    const timeout = options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
    if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))
      throw new TypeError('"rateLimits.redisTimeoutMs" must be a positive number')
    this.#redisTimeoutMs = timeout
    const redis = options.redis
    if (redis !== undefined && (typeof redis !== 'object' || redis === null))
      throw new TypeError('"rateLimits.redis" must be a node-redis client')
    const url = options.redisUrl
    if (url !== undefined) checkRedisUrl(url, options.redisAllowInsecureTransport === true)
  }

  /** Closes the Redis client the limiter created from `redisUrl` (a given client is left alone). */
  async close(): Promise<void> {
    this.#closed = true
    const owned = this.#owned
    this.#owned = undefined
    if (!owned) return
    try {
      if (owned.close) await owned.close()
      else if (owned.quit) await owned.quit()
    } catch {
      owned.destroy?.()
    }
  }

  /** The identity limits and events use for the current context. */
  get identify(): Identify {
    return this.#identify
  }

  /**
   * Counts a call against every limit that applies; throws `RateLimitedError` (with a
   * `rate_limited` event) when one refuses. Never sends anything but Redis commands.
   */
  async check(call: LimitedCall): Promise<void> {
    const rules = this.#rulesFor(call)
    if (rules.length === 0) return
    const counters = await this.#loadCounters()
    const userKey = call.identity.id === undefined ? 'service' : `u:${call.identity.id}`
    const outcomes = await Promise.all(
      rules.map((rule) => {
        const counter = counters.get(rule) as Counter
        return this.#consume(counter, this.#keyOf(rule, call, userKey))
      }),
    )
    let refused: Extract<Outcome, { ok: false }> | undefined
    for (const outcome of outcomes) {
      if (!outcome.ok && (refused === undefined || outcome.retryAfterMs > refused.retryAfterMs))
        refused = outcome
    }
    if (refused === undefined) return
    // A refused call uses up no limit: the limits that counted it get their point back.
    for (const outcome of outcomes) {
      if (!outcome.ok) continue
      const limiter = outcome.shared ? outcome.counter.redis : outcome.counter.memory
      void limiter?.reward(outcome.key, 1).catch(() => {})
    }
    const { rule } = refused.counter
    const error = new RateLimitedError(call.server, call.tool, {
      scope: rule.scope,
      limit: rule.limit,
      windowMs: rule.windowMs,
      retryAfterMs: Math.max(1, Math.ceil(refused.retryAfterMs)),
    })
    this.#emit?.({
      type: 'rate_limited',
      at: this.#now(),
      server: call.server,
      tool: call.tool,
      qualifiedName: call.qualifiedName,
      durationMs: 0,
      scope: error.scope,
      limit: error.limit,
      windowMs: error.windowMs,
      retryAfterMs: error.retryAfterMs,
      user: call.user,
      userId: call.identity.id,
    })
    throw error
  }

  #rulesFor(call: LimitedCall): Rule[] {
    const rules: Rule[] = []
    if (this.#user) rules.push(this.#user)
    const tool =
      this.#tools.get(`${call.server}${SEPARATOR}${call.tool}`) ??
      this.#tools.get(call.tool) ??
      this.#tools.get('*')
    if (tool) rules.push(tool)
    const server = this.#servers.get(call.server) ?? this.#servers.get('*')
    if (server) rules.push(server)
    if (this.#global) rules.push(this.#global)
    return rules
  }

  #keyOf(rule: Rule, call: LimitedCall, userKey: string): string {
    // Under the rule's own prefix (`<keyPrefix>:<rule id>:`): `u:<user>`, `crm__search`, `crm`, `all`.
    switch (rule.scope) {
      case 'user':
        return userKey
      case 'global':
        return 'all'
      case 'tool': {
        const key = `${call.server}${SEPARATOR}${call.tool}`
        return rule.perUser ? `${key}:${userKey}` : key
      }
      case 'server':
        return rule.perUser ? `${call.server}:${userKey}` : call.server
    }
  }

  async #consume(counter: Counter, key: string): Promise<Outcome> {
    if (counter.redis && !this.#skipStore()) {
      try {
        await withDeadline(counter.redis.consume(key, 1), this.#redisTimeoutMs)
        this.#storeAnswered()
        return { ok: true, counter, key, shared: true }
      } catch (err) {
        if (isLimiterRes(err)) {
          this.#storeAnswered()
          return { ok: false, counter, retryAfterMs: err.msBeforeNext }
        }
        // Redis is down, slow or refusing: count this call (and the next ones for a while) here.
        this.#storeFailed(err)
      }
    }
    try {
      await counter.memory.consume(key, 1)
      return { ok: true, counter, key, shared: false }
    } catch (err) {
      if (isLimiterRes(err)) return { ok: false, counter, retryAfterMs: err.msBeforeNext }
      throw err
    }
  }

  #skipStore(): boolean {
    return this.#storeDownUntil !== undefined && this.#now() < this.#storeDownUntil
  }

  #storeFailed(err: unknown): void {
    const wasUp = this.#storeDownUntil === undefined
    this.#storeDownUntil = this.#now() + STORE_RETRY_MS
    if (!wasUp) return
    this.#emit?.({
      type: 'store',
      at: this.#now(),
      server: undefined,
      tool: undefined,
      durationMs: 0,
      store: 'rate_limits',
      state: 'unavailable',
      code: failureCode(err),
    })
  }

  #storeAnswered(): void {
    if (this.#storeDownUntil === undefined) return
    this.#storeDownUntil = undefined
    this.#emit?.({
      type: 'store',
      at: this.#now(),
      server: undefined,
      tool: undefined,
      durationMs: 0,
      store: 'rate_limits',
      state: 'available',
    })
  }

  #loadCounters(): Promise<Map<Rule, Counter>> {
    this.#counters ??= Promise.all([import('rate-limiter-flexible'), this.#client()]).then(([mod, client]) =>
      this.#build(mod, client),
    )
    return this.#counters
  }

  /** The given client, or one made from `redisUrl` (connected, or given up on after a bounded wait). */
  async #client(): Promise<object | undefined> {
    if (this.#options.redis !== undefined) return this.#options.redis
    const url = this.#options.redisUrl
    if (url === undefined || this.#closed) return undefined
    const { createClient } = await import('@redis/client')
    const client = createClient({
      url,
      // Fail at once while disconnected (the memory counter counts), reconnect in the background.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_WAIT_MS,
        reconnectStrategy: (n: number) => Math.min(2 ** n * 50, 2000),
      },
    }) as unknown as OwnedRedisClient
    // node-redis crashes the process on an 'error' without a listener; outages are reported as events.
    client.on('error', () => {})
    this.#owned = client
    const connected = client.connect().then(
      () => true,
      () => false,
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    const waited = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), CONNECT_WAIT_MS)
      timer.unref?.()
    })
    await Promise.race([connected, waited]).finally(() => clearTimeout(timer))
    return client
  }

  #build(mod: RateLimiterModule, client: object | undefined): Map<Rule, Counter> {
    const rules = [this.#user, ...this.#tools.values(), ...this.#servers.values(), this.#global].filter(
      (r): r is Rule => r !== undefined,
    )
    const counters = new Map<Rule, Counter>()
    for (const rule of rules) {
      const options = {
        points: rule.limit,
        duration: rule.windowMs / 1000,
        keyPrefix: `${this.#keyPrefix}:${rule.id}`,
      }
      const redis = client
      counters.set(rule, {
        rule,
        memory: new mod.RateLimiterMemory(options),
        redis:
          redis === undefined
            ? undefined
            : new mod.RateLimiterRedis({
                ...options,
                storeClient: redis,
                // node-redis v4+ is not recognised by its constructor name: say which client it is.
                useRedisPackage: true,
                // A client that is reconnecting answers at once (then the memory counter counts).
                rejectIfRedisNotReady: true,
              }),
      })
    }
    return counters
  }
}

function isLimiterRes(value: unknown): value is RateLimiterRes {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Error) &&
    typeof (value as { msBeforeNext?: unknown }).msBeforeNext === 'number'
  )
}
