import type { ConfigPath, IssueList } from './config-issues.js'
import { isLoopbackHostname } from './url.js'

/**
 * Check a Redis URL of a config file (`mcp_config.token_store.url`, `rate_limits.store.url`)
 * without ever echoing it: it may hold a password. `redis://` or `rediss://`, and no password
 * over plain `redis://` to a host that is not loopback.
 */
export function checkRedisUrl(url: unknown, path: ConfigPath, issues: IssueList): void {
  if (typeof url !== 'string' || url === '') return
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {}
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    issues.add(path, 'must be a redis:// or rediss:// URL')
  } else if (parsed.protocol === 'redis:' && parsed.password !== '' && !isLoopbackHostname(parsed.hostname)) {
    issues.add(
      path,
      'would send a password over plain redis:// to a host that is not loopback: use rediss://',
    )
  }
}
