/** Cross-key rules of `mcp_config.token_store`, on the raw values. */
import type { ConfigPath, IssueList } from './config-issues.js'
import { checkRedisUrl } from './config-redis-url.js'
import { present } from './config-values.js'

/** Cross-key rules of `mcp_config.token_store`, on the raw values (never echoing the URL or key). */
export function checkTokenStore(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const type = raw['type']
  if (type === 'memory') {
    for (const key of ['url', 'key_prefix', 'encryption_key', 'timeout_ms']) {
      if (present(raw, key)) issues.add([...path, key], 'only applies with type: redis')
    }
    return
  }
  if (type !== 'redis') return
  if (!present(raw, 'url')) issues.add([...path, 'url'], 'is required with type: redis')
  if (!present(raw, 'encryption_key'))
    issues.add([...path, 'encryption_key'], 'is required with type: redis (openssl rand -base64 32)')
  checkRedisUrl(raw['url'], [...path, 'url'], issues)
  const keys = raw['encryption_key']
  for (const [i, key] of (Array.isArray(keys) ? keys : [keys]).entries()) {
    if (typeof key !== 'string' || key === '') continue
    const where = Array.isArray(keys) ? [...path, 'encryption_key', i] : [...path, 'encryption_key']
    if (!isEncryptionKey(key)) issues.add(where, 'must be 32 bytes as base64 (openssl rand -base64 32)')
  }
}

/** Whether `text` is the base64 of exactly 32 bytes (what RedisTokenStore accepts as a string). */
function isEncryptionKey(text: string): boolean {
  const t = text.trim().replace(/-/g, '+').replace(/_/g, '/')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return false
  try {
    return atob(t.padEnd(Math.ceil(t.length / 4) * 4, '=')).length === 32
  } catch {
    return false
  }
}
