/**
 * The manager's rate limits (`rateLimits`): per user, per tool, per server and global, checked
 * before anything leaves, in memory or shared by every replica on Redis. A config file's
 * `rate_limits:` block is read by `parseConfig` (`config.rateLimits`) and applied by
 * `McpServerManager.fromConfig`; {@link rateLimitsFromConfig} maps a block on its own.
 */
import { parseRateLimitsConfig, type RateLimitsConfig } from '@mcp-oauth2/auth-core'
import type { RateLimitsOptions } from './internal/manager/rate-limit-options.js'

export type {
  RateLimit,
  RateLimitRedisClient,
  RateLimitsOptions,
  ScopedRateLimit,
} from './internal/manager/rate-limit-options.js'

/** Options of {@link rateLimitsFromConfig}. */
export interface RateLimitsFromConfigOptions {
  /**
   * A connected node-redis client for `store: { type: redis }` (then `store.url` is not used).
   * @default none: the manager connects to `store.url` itself (and closes that client)
   */
  redis?: RateLimitsOptions['redis']
  /**
   * Variables for `${NAME}`, `${NAME:-default}` and `os.environ/NAME` in the block (a Redis URL
   * may hold a password).
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * The manager's `rateLimits` from a normalised `rate_limits:` block (`config.rateLimits`): what
 * `McpServerManager.fromConfig` uses when its options give no `rateLimits`. With `redis`, a
 * `redis` store counts on that client instead of connecting to `store.url`.
 */
export function rateLimitsOptionsOf(
  config: RateLimitsConfig,
  redis?: RateLimitsOptions['redis'],
): RateLimitsOptions {
  const { store, ...limits } = config
  const options: { -readonly [K in keyof RateLimitsOptions]: RateLimitsOptions[K] } = { ...limits }
  if (store?.keyPrefix !== undefined) options.keyPrefix = store.keyPrefix
  if (store?.timeoutMs !== undefined) options.redisTimeoutMs = store.timeoutMs
  if (store?.type === 'redis') {
    if (redis !== undefined) options.redis = redis
    else if (store.url !== undefined) options.redisUrl = store.url.reveal()
  }
  return options
}

/**
 * The manager's `rateLimits` option from a config file's `rate_limits:` block (YAML or JSON,
 * already parsed), for a block that does not come through `parseConfig` (which reads it into
 * `config.rateLimits`, and `McpServerManager.fromConfig` applies that by itself). Limits are
 * `"<calls>/<window>"` (`100/min`, `5/10s`, `1000/hour`) or `{ limit, window_seconds }`; tool
 * and server limits may add `per_user: true`. Checked by auth-core's `parseRateLimitsConfig`:
 * throws a `ConfigError` (`ERR_CONFIG`) listing every problem, never a value of `store.url`.
 *
 * @example
 * ```ts
 * import type { McpConfig } from '@mcp-oauth2/auth-core'
 * declare const config: McpConfig
 * const rateLimits = rateLimitsFromConfig({ user: '100/min', identify: { cookie: 'session_id' } })
 * const manager = McpServerManager.fromConfig(config, { rateLimits })
 * ```
 */
export function rateLimitsFromConfig(
  block: unknown,
  options: RateLimitsFromConfigOptions = {},
): RateLimitsOptions {
  const config = parseRateLimitsConfig(block, {
    env: options.env ?? {},
    redisClient: options.redis !== undefined,
  })
  return rateLimitsOptionsOf(config, options.redis)
}
