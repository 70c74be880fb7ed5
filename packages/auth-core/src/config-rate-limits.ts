/**
 * The `rate_limits:` block of a configuration file → {@link RateLimitsConfig}: per user, per
 * tool, per server and global limits, who a user is, and where the counters live. `parseConfig`
 * and `loadConfigFile` read it beside `mcp_servers`; {@link parseRateLimitsConfig} reads the
 * block on its own (what `rateLimitsFromConfig` of `@mcp-oauth2/mcp-transport` wraps).
 */
import type {
  RateLimitConfig,
  RateLimitStoreConfig,
  RateLimitsConfig,
  ScopedRateLimitConfig,
} from './config-schema.js'
import { defaultEnv, type EnvLike, interpolateEnv, isPlainObject } from './internal/config-interpolate.js'
import { addZodIssues, type ConfigPath, IssueList } from './internal/config-issues.js'
import {
  parseRateShorthand,
  type RawRateLimitStore,
  type RawRateLimits,
  type RawScopedRateLimit,
  rawRateLimitsSchema,
} from './internal/config-rate-limits-schema.js'
import { checkRedisUrl } from './internal/config-redis-url.js'
import { Secret } from './secret.js'

/** Options of {@link parseRateLimitsConfig}. */
export interface ParseRateLimitsConfigOptions {
  /**
   * Variables for `${VAR}`, `${VAR:-default}` and `os.environ/VAR` in the block (`store.url`
   * may hold a password).
   * @default globalThis.process?.env, else no variables
   */
  env?: EnvLike | undefined
  /**
   * The caller brings its own Redis client: a `store` of `type: redis` needs no `url`.
   * @default false
   */
  redisClient?: boolean | undefined
  /** The file the block came from, for `ConfigError.file` and messages. */
  file?: string | undefined
}

/** What {@link normaliseRateLimits} checks beyond the block itself. */
export interface RateLimitsContext {
  /** The names under `mcp_servers`: `rate_limits.servers` may name only these (and `*`). */
  readonly servers?: readonly string[] | undefined
  /** A `redis` store needs no `url` (the caller has a client). */
  readonly redisClient?: boolean | undefined
}

const DEFAULT_WINDOW_SECONDS = 60

/**
 * Check and normalise a `rate_limits:` block (already interpolated) at `path`, adding every
 * problem to `issues`; undefined when there is any. Never echoes `store.url`.
 */
export function normaliseRateLimits(
  raw: unknown,
  path: ConfigPath,
  issues: IssueList,
  context: RateLimitsContext = {},
): RateLimitsConfig | undefined {
  const before = issues.size
  if (isPlainObject(raw)) checkRateLimits(raw, path, issues, context)
  const parsed = rawRateLimitsSchema.safeParse(raw)
  if (!parsed.success) addZodIssues(issues, path, parsed.error.issues)
  if (!parsed.success || issues.size !== before) return undefined
  return toRateLimitsConfig(parsed.data)
}

/**
 * The `rate_limits:` block of a configuration document, on its own (YAML/JSON already parsed).
 * `parseConfig` and `loadConfigFile` read it from a whole file; this is for a block that comes
 * from elsewhere. Throws a `ConfigError` (`ERR_CONFIG`) whose `issues` name every problem's path
 * (`rate_limits.tools.x.window_seconds`), never a value of `store.url`.
 *
 * @example
 * ```ts
 * const limits = parseRateLimitsConfig({ user: '100/min', tools: { create_support_ticket: { limit: '5/min', per_user: true } } })
 * limits.user // { limit: 100, windowSeconds: 60 }
 * ```
 */
export function parseRateLimitsConfig(
  block: unknown,
  options: ParseRateLimitsConfigOptions = {},
): RateLimitsConfig {
  const issues = new IssueList()
  const path = ['rate_limits']
  const interpolated = interpolateEnv(block, options.env ?? defaultEnv(), path, issues)
  const config = normaliseRateLimits(interpolated, path, issues, { redisClient: options.redisClient })
  issues.throwIfAny(options.file)
  return config as RateLimitsConfig
}

// ---------------------------------------------------------------------------------------------
// Rules across keys, on the raw values (so they are reported beside zod's own issues)
// ---------------------------------------------------------------------------------------------

function checkRateLimits(
  raw: Record<string, unknown>,
  path: ConfigPath,
  issues: IssueList,
  context: RateLimitsContext,
): void {
  const identify = raw['identify']
  if (isPlainObject(identify)) {
    const kinds = ['cookie', 'header'].filter((k) => identify[k] !== undefined)
    if (kinds.length !== 1)
      issues.add([...path, 'identify'], 'must be { cookie: <name> } or { header: <name> }: exactly one')
  }
  for (const key of ['user', 'global']) checkLimit(raw[key], [...path, key], issues)
  for (const key of ['tools', 'servers']) {
    const limits = raw[key]
    if (!isPlainObject(limits)) continue
    for (const [name, limit] of Object.entries(limits)) checkLimit(limit, [...path, key, name], issues)
  }
  const servers = raw['servers']
  if (context.servers !== undefined && isPlainObject(servers)) {
    const known = context.servers
    for (const name of Object.keys(servers)) {
      if (name !== '*' && !known.includes(name))
        issues.add(
          [...path, 'servers', name],
          `is not a server under mcp_servers (servers: ${known.join(', ') || 'none'}; * for each)`,
        )
    }
  }
  const store = raw['store']
  if (isPlainObject(store)) checkStore(store, [...path, 'store'], issues, context)
}

function checkLimit(raw: unknown, path: ConfigPath, issues: IssueList): void {
  if (!isPlainObject(raw)) return
  if (
    typeof raw['limit'] === 'string' &&
    parseRateShorthand(raw['limit']) &&
    raw['window_seconds'] !== undefined
  )
    issues.add([...path, 'window_seconds'], 'not with a "<calls>/<window>" limit, which has its own window')
}

function checkStore(
  raw: Record<string, unknown>,
  path: ConfigPath,
  issues: IssueList,
  context: RateLimitsContext,
): void {
  const type = raw['type']
  if (type === 'memory') {
    if (raw['url'] !== undefined) issues.add([...path, 'url'], 'only applies with type: redis')
    return
  }
  if (type !== 'redis') return
  if (raw['url'] === undefined && context.redisClient !== true)
    issues.add([...path, 'url'], 'is required with type: redis')
  checkRedisUrl(raw['url'], [...path, 'url'], issues)
}

// ---------------------------------------------------------------------------------------------
// Raw (validated) → normalised
// ---------------------------------------------------------------------------------------------

function toLimit(raw: RawScopedRateLimit): ScopedRateLimitConfig {
  if (typeof raw === 'string') return parseRateShorthand(raw) as RateLimitConfig
  const limit =
    typeof raw.limit === 'string'
      ? (parseRateShorthand(raw.limit) as RateLimitConfig)
      : { limit: raw.limit, windowSeconds: raw.window_seconds ?? DEFAULT_WINDOW_SECONDS }
  return 'per_user' in raw && raw.per_user !== undefined ? { ...limit, perUser: raw.per_user } : limit
}

function toLimits(raw: Record<string, RawScopedRateLimit>): Record<string, ScopedRateLimitConfig> {
  // fromEntries defines own properties: no key can reach Object.prototype.
  return Object.fromEntries(Object.entries(raw).map(([name, limit]) => [name, toLimit(limit)]))
}

function toStore(raw: RawRateLimitStore): RateLimitStoreConfig {
  const store: RateLimitStoreConfig = { type: raw.type }
  if (raw.url !== undefined) store.url = new Secret(raw.url)
  if (raw.key_prefix !== undefined) store.keyPrefix = raw.key_prefix
  if (raw.timeout_ms !== undefined) store.timeoutMs = raw.timeout_ms
  return store
}

function toRateLimitsConfig(raw: RawRateLimits): RateLimitsConfig {
  const config: RateLimitsConfig = {}
  if (raw.identify?.cookie !== undefined) config.identify = { cookie: raw.identify.cookie }
  // Header names are case-insensitive; the manager reads them lower-case.
  if (raw.identify?.header !== undefined) config.identify = { header: raw.identify.header.toLowerCase() }
  if (raw.user !== undefined) config.user = toLimit(raw.user)
  if (raw.tools !== undefined) config.tools = toLimits(raw.tools)
  if (raw.servers !== undefined) config.servers = toLimits(raw.servers)
  if (raw.global !== undefined) config.global = toLimit(raw.global)
  if (raw.store !== undefined) config.store = toStore(raw.store)
  return config
}
