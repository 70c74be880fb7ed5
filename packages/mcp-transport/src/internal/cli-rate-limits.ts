// What `mcp-oauth2 check` shows of a config's `rate_limits:`: every limit, who a user is and
// where the counters live, never the store's URL (it may hold a password).
import type { RateLimitConfig, RateLimitsConfig, ScopedRateLimitConfig } from '@mcp-oauth2/auth-core'

/** The limits as `--json` prints them: the normalised block without `store.url`. */
export interface CliRateLimits {
  identify?: { cookie?: string | undefined; header?: string | undefined } | undefined
  user?: RateLimitConfig | undefined
  tools?: Record<string, ScopedRateLimitConfig> | undefined
  servers?: Record<string, ScopedRateLimitConfig> | undefined
  global?: RateLimitConfig | undefined
  store: { type: 'memory' | 'redis'; keyPrefix?: string | undefined; timeoutMs?: number | undefined }
}

/** The block for `--json`: plain data, `store.url` left out. */
export function rateLimitsJson(config: RateLimitsConfig): CliRateLimits {
  const { store, ...limits } = config
  const out: CliRateLimits = { ...limits, store: { type: store?.type ?? 'memory' } }
  if (store?.keyPrefix !== undefined) out.store.keyPrefix = store.keyPrefix
  if (store?.timeoutMs !== undefined) out.store.timeoutMs = store.timeoutMs
  return out
}

const UNITS: readonly [number, string][] = [
  [86_400, 'day'],
  [3600, 'h'],
  [60, 'min'],
  [1, 's'],
]

/** `100/min`, `5/10s`, `3/2h`: the file's own shorthand. */
function rate(limit: RateLimitConfig | ScopedRateLimitConfig): string {
  const [seconds, unit] = UNITS.find(([s]) => limit.windowSeconds % s === 0) ?? [1, 's']
  const times = limit.windowSeconds / seconds
  const perUser = 'perUser' in limit && limit.perUser === true ? ' per user' : ''
  return `${limit.limit}/${times === 1 ? '' : times}${unit}${perUser}`
}

function named(limits: Readonly<Record<string, ScopedRateLimitConfig>>): string {
  return Object.entries(limits)
    .map(([name, limit]) => `${name} ${rate(limit)}`)
    .join(', ')
}

/** One line for the human output of `check`. */
export function describeRateLimits(config: RateLimitsConfig): string {
  const parts: string[] = []
  if (config.user) parts.push(`user ${rate(config.user)}`)
  if (config.tools && Object.keys(config.tools).length > 0) parts.push(`tools ${named(config.tools)}`)
  if (config.servers && Object.keys(config.servers).length > 0) parts.push(`servers ${named(config.servers)}`)
  if (config.global) parts.push(`global ${rate(config.global)}`)
  if (parts.length === 0) parts.push('no limits')
  const identify = config.identify?.cookie
    ? `cookie ${config.identify.cookie}`
    : config.identify?.header
      ? `header ${config.identify.header}`
      : 'userId only'
  parts.push(`users by ${identify}`)
  const store = config.store
  if (store?.type === 'redis') {
    const settings = [
      store.keyPrefix === undefined ? undefined : `key_prefix ${store.keyPrefix}`,
      store.timeoutMs === undefined ? undefined : `timeout ${store.timeoutMs} ms`,
    ].filter((s) => s !== undefined)
    parts.push(`shared on redis${settings.length > 0 ? ` (${settings.join(', ')})` : ''}`)
  } else parts.push('in memory, per process')
  return parts.join('; ')
}
