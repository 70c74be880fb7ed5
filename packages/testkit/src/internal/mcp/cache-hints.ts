/** Validation of the mock MCP server's cache hints (SEP-2549). Never re-exported. */
import type { CacheHint } from '@modelcontextprotocol/server'
import { CACHEABLE_METHODS, type CacheableMethod } from './sdk-server.js'

export type CacheHints = Partial<Record<CacheableMethod, CacheHint>>

/** A copy of `hints`, or a TypeError naming the `cacheHints` option and what is wrong. */
export function checkCacheHints(hints: unknown): CacheHints {
  if (!hints || typeof hints !== 'object') throw new TypeError('"cacheHints" option must be an object')
  for (const [method, hint] of Object.entries(hints as Record<string, CacheHint | undefined>)) {
    if (!(CACHEABLE_METHODS as readonly string[]).includes(method))
      throw new TypeError(`"cacheHints" option: ${method} is not a cacheable operation`)
    const ttl = hint?.ttlMs
    if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl < 0))
      throw new TypeError(`"cacheHints" option: ${method}.ttlMs must be a non-negative integer`)
    if (hint?.cacheScope !== undefined && hint.cacheScope !== 'public' && hint.cacheScope !== 'private')
      throw new TypeError(`"cacheHints" option: ${method}.cacheScope must be "public" or "private"`)
  }
  return structuredClone(hints) as CacheHints
}
