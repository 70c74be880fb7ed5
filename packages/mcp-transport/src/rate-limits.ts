/**
 * The manager's rate limits (`rateLimits`): per user, per tool, per server and global, checked
 * before anything leaves, in memory or shared by every replica on Redis. The YAML block
 * `rate_limits:` maps onto them with {@link rateLimitsFromConfig}.
 */
import { ConfigError, type ConfigIssue } from '@mcp-oauth2/auth-core'
import type { RateLimit, RateLimitsOptions, ScopedRateLimit } from './internal/manager/rate-limiter.js'

export type {
  RateLimit,
  RateLimitRedisClient,
  RateLimitsOptions,
  ScopedRateLimit,
} from './internal/manager/rate-limiter.js'

/** Options of {@link rateLimitsFromConfig}. */
export interface RateLimitsFromConfigOptions {
  /**
   * A connected node-redis client for `store: { type: redis }` (then `store.url` is not used).
   * @default none: the manager connects to `store.url` itself (and closes that client)
   */
  redis?: RateLimitsOptions['redis']
  /**
   * Variables for `${NAME}` in `store.url` (a Redis URL may hold a password).
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>> | undefined
}

const UNITS: Readonly<Record<string, number>> = {
  s: 1,
  sec: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
}

const SHORTHAND = /^\s*(\d+)\s*\/\s*(\d*)\s*([a-z]+)\s*$/i
const KNOWN_KEYS = ['identify', 'user', 'tools', 'servers', 'global', 'store'] as const

class Issues {
  readonly list: ConfigIssue[] = []
  add(path: string, message: string): undefined {
    this.list.push({ path, message })
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined
}

/** `100/min`, `5/10s`, `1000/hour` → `{ limit, windowSeconds }`. */
function shorthand(text: string): RateLimit | undefined {
  const match = SHORTHAND.exec(text)
  if (!match) return undefined
  const [, count, multiplier, unit] = match as unknown as [string, string, string, string]
  const seconds = UNITS[unit.toLowerCase()]
  const limit = Number(count)
  const times = multiplier === '' ? 1 : Number(multiplier)
  if (seconds === undefined || !(limit > 0) || !(times > 0)) return undefined
  return { limit, windowSeconds: seconds * times }
}

function limitOf(value: unknown, path: string, issues: Issues, scoped: boolean): ScopedRateLimit | undefined {
  if (typeof value === 'string') {
    return (
      shorthand(value) ?? issues.add(path, 'must be "<calls>/<window>", e.g. "100/min", "5/10s", "1000/hour"')
    )
  }
  if (!isRecord(value)) return issues.add(path, 'must be "<calls>/<window>" or { limit, window_seconds }')
  const known = scoped ? ['limit', 'window_seconds', 'per_user'] : ['limit', 'window_seconds']
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) issues.add(`${path}.${key}`, `unknown key (known: ${known.join(', ')})`)
  }
  let limit: RateLimit | undefined
  if (typeof value.limit === 'string') {
    limit = shorthand(value.limit)
    if (!limit) return issues.add(`${path}.limit`, 'must be a positive integer or "<calls>/<window>"')
    if (value.window_seconds !== undefined)
      return issues.add(`${path}.window_seconds`, 'not with a "<calls>/<window>" limit')
  } else {
    const calls = positiveInteger(value.limit)
    if (calls === undefined) return issues.add(`${path}.limit`, 'must be a positive integer')
    const window = value.window_seconds === undefined ? 60 : positiveInteger(value.window_seconds)
    if (window === undefined) return issues.add(`${path}.window_seconds`, 'must be a positive integer')
    limit = { limit: calls, windowSeconds: window }
  }
  if (value.per_user !== undefined && typeof value.per_user !== 'boolean')
    return issues.add(`${path}.per_user`, 'must be true or false')
  return value.per_user === true ? { ...limit, perUser: true } : limit
}

function limitsOf(value: unknown, path: string, issues: Issues): Record<string, ScopedRateLimit> | undefined {
  if (value === undefined) return undefined
  if (!isRecord(value)) return issues.add(path, 'must be a map of names to limits')
  const out: Record<string, ScopedRateLimit> = {}
  for (const [name, limit] of Object.entries(value)) {
    const resolved = limitOf(limit, `${path}.${name}`, issues, true)
    if (resolved) out[name] = resolved
  }
  return out
}

function interpolate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
  issues: Issues,
) {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name]
    if (value === undefined) {
      issues.add(path, `environment variable ${name} is not set`)
      return ''
    }
    return value
  })
}

/**
 * The manager's `rateLimits` option from a config file's `rate_limits:` block (YAML or JSON,
 * already parsed). Limits are `"<calls>/<window>"` (`100/min`, `5/10s`, `1000/hour`) or
 * `{ limit, window_seconds }`; tool and server limits may add `per_user: true`. Throws a
 * `ConfigError` (`ERR_CONFIG`) listing every problem, never a value of `store.url`.
 *
 * @example
 * ```ts
 * import { parseConfig } from '@mcp-oauth2/auth-core'
 * declare const raw: { rate_limits?: unknown } // the config file, parsed (YAML or JSON)
 * const manager = McpServerManager.fromConfig(parseConfig(raw), { rateLimits: rateLimitsFromConfig(raw.rate_limits) })
 * ```
 */
export function rateLimitsFromConfig(
  block: unknown,
  options: RateLimitsFromConfigOptions = {},
): RateLimitsOptions {
  const issues = new Issues()
  const root = 'rate_limits'
  if (!isRecord(block))
    throw new ConfigError(`${root} must be a map`, { issues: [{ path: root, message: 'must be a map' }] })
  for (const key of Object.keys(block)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key))
      issues.add(`${root}.${key}`, `unknown key (known: ${KNOWN_KEYS.join(', ')})`)
  }
  const result: {
    -readonly [K in keyof RateLimitsOptions]: RateLimitsOptions[K]
  } = {}
  if (block.identify !== undefined) {
    const identify = block.identify
    if (!isRecord(identify) || Object.keys(identify).length !== 1) {
      issues.add(`${root}.identify`, 'must be { cookie: <name> } or { header: <name> }')
    } else {
      const [[kind, name]] = Object.entries(identify) as [[string, unknown]]
      if (kind !== 'cookie' && kind !== 'header')
        issues.add(`${root}.identify.${kind}`, 'unknown key (known: cookie, header)')
      else if (typeof name !== 'string' || name === '')
        issues.add(`${root}.identify.${kind}`, 'must be a non-empty name')
      else result.identify = { [kind]: kind === 'header' ? name.toLowerCase() : name }
    }
  }
  if (block.user !== undefined) result.user = limitOf(block.user, `${root}.user`, issues, false)
  if (block.global !== undefined) result.global = limitOf(block.global, `${root}.global`, issues, false)
  const tools = limitsOf(block.tools, `${root}.tools`, issues)
  if (tools) result.tools = tools
  const servers = limitsOf(block.servers, `${root}.servers`, issues)
  if (servers) result.servers = servers
  const store = block.store
  if (store !== undefined) {
    const path = `${root}.store`
    if (!isRecord(store))
      issues.add(path, 'must be { type: memory } or { type: redis, url, key_prefix?, timeout_ms? }')
    else {
      const known = ['type', 'url', 'key_prefix', 'timeout_ms']
      for (const key of Object.keys(store)) {
        if (!known.includes(key)) issues.add(`${path}.${key}`, `unknown key (known: ${known.join(', ')})`)
      }
      if (store.type !== 'memory' && store.type !== 'redis')
        issues.add(`${path}.type`, 'must be memory or redis')
      if (store.key_prefix !== undefined) {
        if (typeof store.key_prefix !== 'string' || store.key_prefix === '')
          issues.add(`${path}.key_prefix`, 'must be a non-empty string')
        else result.keyPrefix = store.key_prefix
      }
      if (store.timeout_ms !== undefined) {
        const timeout = positiveInteger(store.timeout_ms)
        if (timeout === undefined) issues.add(`${path}.timeout_ms`, 'must be a positive integer')
        else result.redisTimeoutMs = timeout
      }
      if (store.type === 'redis') {
        if (options.redis !== undefined) result.redis = options.redis
        else if (typeof store.url !== 'string' || store.url === '')
          issues.add(`${path}.url`, 'required for type redis (or pass a client)')
        else {
          const url = interpolate(store.url, options.env ?? {}, `${path}.url`, issues)
          if (!/^rediss?:\/\//.test(url)) issues.add(`${path}.url`, 'must be a redis:// or rediss:// URL')
          else result.redisUrl = url
        }
      } else if (store.url !== undefined) issues.add(`${path}.url`, 'only with type redis')
    }
  }
  if (issues.list.length > 0) {
    throw new ConfigError(
      `invalid rate_limits: ${issues.list.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      { issues: issues.list },
    )
  }
  return result
}
