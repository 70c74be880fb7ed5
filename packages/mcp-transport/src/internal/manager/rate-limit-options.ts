// The manager's `rateLimits` option: its types (public through rate-limits.ts), and its
// validation into the resolved rules the limiter counts on. Bad values fail at construction
// with a TypeError naming the option.
import { isLoopbackHost } from '@mcp-oauth2/auth-core'
import type { RateLimitScope } from '../../errors.js'
import type { IdentifyBy } from '../user-identity.js'

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

const DEFAULT_WINDOW_SECONDS = 60
const DEFAULT_KEY_PREFIX = 'mcp-oauth2:rl'
const DEFAULT_REDIS_TIMEOUT_MS = 250

/** One limit, resolved. */
export interface Rule {
  readonly scope: RateLimitScope
  /** Where it came from, for its counters' keys: `user`, `tool:crm__search`, `server:*`, `global`. */
  readonly id: string
  readonly limit: number
  readonly windowMs: number
  readonly perUser: boolean
}

/** `rateLimits`, validated, with its defaults applied. */
export interface ResolvedRateLimits {
  readonly user: Rule | undefined
  /** By tool name, `<server>__<tool>` or `*`. */
  readonly tools: ReadonlyMap<string, Rule>
  /** By server name or `*`. */
  readonly servers: ReadonlyMap<string, Rule>
  readonly global: Rule | undefined
  readonly identify: IdentifyBy | undefined
  readonly keyPrefix: string
  readonly redisTimeoutMs: number
  readonly redis: RateLimitRedisClient | undefined
  readonly redisUrl: string | undefined
}

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

/** Validates `rateLimits` (a TypeError naming the first bad option) and applies its defaults. */
export function resolveRateLimits(options: RateLimitsOptions): ResolvedRateLimits {
  if (typeof options !== 'object' || options === null) throw new TypeError('"rateLimits" must be an object')
  const user = options.user && ruleOf('user', 'user', options.user, 'rateLimits.user')
  const tools = rulesOf(options.tools, 'tool', 'rateLimits.tools')
  const servers = rulesOf(options.servers, 'server', 'rateLimits.servers')
  const global = options.global && ruleOf('global', 'global', options.global, 'rateLimits.global')
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
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX
  if (typeof keyPrefix !== 'string' || keyPrefix === '')
    throw new TypeError('"rateLimits.keyPrefix" must be a non-empty string')
  const redisTimeoutMs = options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  if (typeof redisTimeoutMs !== 'number' || !(redisTimeoutMs > 0) || !Number.isFinite(redisTimeoutMs))
    throw new TypeError('"rateLimits.redisTimeoutMs" must be a positive number')
  const redis = options.redis
  if (redis !== undefined && (typeof redis !== 'object' || redis === null))
    throw new TypeError('"rateLimits.redis" must be a node-redis client')
  const redisUrl = options.redisUrl
  if (redisUrl !== undefined) checkRedisUrl(redisUrl, options.redisAllowInsecureTransport === true)
  return { user, tools, servers, global, identify, keyPrefix, redisTimeoutMs, redis, redisUrl }
}
