/**
 * zod schema of the `rate_limits:` block as operators write it (snake_case). It checks each
 * value; rules across keys (one of `identify.cookie` / `identify.header`, `window_seconds` only
 * with a numeric `limit`, the store's `url` with `type: redis` only) live in
 * `config-rate-limits.ts`, like the rest of the configuration's.
 */
import { z } from 'zod'
import { cookieName, headerName, intish, nonEmpty, secretString } from './config-file-schema.js'
import { describeList } from './protocol.js'

/** Seconds of each window unit a `"<calls>/<window>"` limit may use. */
const WINDOW_UNITS: Readonly<Record<string, number>> = {
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

/** `100/min`, `5/10s`, `1000/hour` → `{ limit, windowSeconds }`; anything else: undefined. */
export function parseRateShorthand(text: string): { limit: number; windowSeconds: number } | undefined {
  const match = SHORTHAND.exec(text)
  if (!match) return undefined
  const [, count = '', multiplier = '', unit = ''] = match
  const seconds = WINDOW_UNITS[unit.toLowerCase()]
  const limit = Number(count)
  const times = multiplier === '' ? 1 : Number(multiplier)
  if (
    seconds === undefined ||
    !Number.isSafeInteger(limit) ||
    limit < 1 ||
    !Number.isSafeInteger(times) ||
    times < 1
  )
    return undefined
  return { limit, windowSeconds: seconds * times }
}

const SHORTHAND_ERROR = 'must be "<calls>/<window>", e.g. "100/min", "5/10s", "1000/hour"'
const shorthand = z
  .string({ error: SHORTHAND_ERROR })
  .refine((text) => parseRateShorthand(text) !== undefined, { error: SHORTHAND_ERROR })
const count = intish(1)

const limitValue = z.union([count, shorthand], {
  error: 'must be a positive whole number or "<calls>/<window>"',
})

/** `{ limit, window_seconds }`: calls per window (seconds, default 60). */
const rawLimitObject = z.strictObject({
  limit: limitValue,
  window_seconds: count.optional(),
})

/** A limit of a tool or a server may count each user on their own. */
const rawScopedLimitObject = z.strictObject({
  limit: limitValue,
  window_seconds: count.optional(),
  per_user: z.boolean({ error: 'must be true or false' }).optional(),
})

const LIMIT_ERROR = 'must be "<calls>/<window>" (e.g. "100/min") or { limit, window_seconds }'
export const rawRateLimitSchema = z.union([shorthand, rawLimitObject], { error: LIMIT_ERROR })
export const rawScopedRateLimitSchema = z.union([shorthand, rawScopedLimitObject], {
  error: `${LIMIT_ERROR.replace('window_seconds }', 'window_seconds, per_user }')}`,
})
export type RawRateLimit = z.infer<typeof rawRateLimitSchema>
export type RawScopedRateLimit = z.infer<typeof rawScopedRateLimitSchema>

/** Names that would reach `Object.prototype` when used as keys of a plain object. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])
const limitName = nonEmpty.refine((name) => !RESERVED.has(name), {
  error: 'is not a tool or server name (__proto__, constructor and prototype are reserved)',
})
const limitsByName = z.record(limitName, rawScopedRateLimitSchema, {
  error: 'must be a mapping of names to limits',
})

/** Store kinds of `rate_limits.store.type`. */
export const RATE_LIMIT_STORE_TYPES = ['memory', 'redis'] as const

export const rawRateLimitStoreSchema = z.strictObject(
  {
    /** `memory` (each process counts on its own) or `redis` (every replica shares the counters). */
    type: z.enum(RATE_LIMIT_STORE_TYPES, { error: `must be one of ${describeList(RATE_LIMIT_STORE_TYPES)}` }),
    /** `redis://[user:password@]host:port[/db]` or `rediss://…`; may hold a password: a secret. */
    url: secretString.optional(),
    /** Prefix of the Redis keys. */
    key_prefix: nonEmpty.optional(),
    /** How long a call waits for Redis before it counts in memory, milliseconds. */
    timeout_ms: count.optional(),
  },
  { error: 'must be { type: memory } or { type: redis, url, key_prefix?, timeout_ms? }' },
)
export type RawRateLimitStore = z.infer<typeof rawRateLimitStoreSchema>

/** `rate_limits:`: the manager's limits per user, tool, server and in all. */
export const rawRateLimitsSchema = z.strictObject(
  {
    /** What identifies a user without a `userId`: one cookie or one header (hashed). */
    identify: z
      .strictObject(
        { cookie: cookieName.optional(), header: headerName.optional() },
        { error: 'must be { cookie: <name> } or { header: <name> }' },
      )
      .optional(),
    /** Each user's calls, all tools together. */
    user: rawRateLimitSchema.optional(),
    /** Limits of tools: by tool name, `<server>__<tool>`, or `*` (each tool on its own). */
    tools: limitsByName.optional(),
    /** Limits of servers: by server name, or `*` (each server on its own). */
    servers: limitsByName.optional(),
    /** Every call through the manager. */
    global: rawRateLimitSchema.optional(),
    /** Where the counters live. */
    store: rawRateLimitStoreSchema.optional(),
  },
  { error: 'must be a mapping (identify, user, tools, servers, global, store)' },
)
export type RawRateLimits = z.infer<typeof rawRateLimitsSchema>
