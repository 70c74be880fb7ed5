// The manager's rate limiter: counts each call against every limit that applies, on
// rate-limiter-flexible, in memory or on Redis with a memory fallback while Redis is unreachable.
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import { RateLimitedError } from '../../errors.js'
import { createIdentify, type Identify } from '../user-identity.js'
import type { Emit } from './events.js'
import { failureCode } from './failure-code.js'
import { keyOf, type LimitedCall, rulesFor, userKeyOf } from './rate-limit-keys.js'
import {
  type RateLimitsOptions,
  type ResolvedRateLimits,
  type Rule,
  resolveRateLimits,
} from './rate-limit-options.js'
import {
  closeOwnedRedisClient,
  connectWithin,
  createOwnedRedisClient,
  type OwnedRedisClient,
  withDeadline,
} from './rate-limit-redis.js'

type RateLimiterModule = typeof import('rate-limiter-flexible')

/** How long a replica counts in memory after Redis failed, before it asks Redis again, ms. */
export const STORE_RETRY_MS = 1000

/** A rule with its counters. */
interface Counter {
  readonly rule: Rule
  readonly memory: RateLimiterAbstract
  readonly redis: RateLimiterAbstract | undefined
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
  readonly #limits: ResolvedRateLimits
  readonly #emit: Emit | undefined
  readonly #now: () => number
  readonly #identify: Identify
  #counters: Promise<Map<Rule, Counter>> | undefined
  /** The client made from `redisUrl`, closed by `close()`. */
  #owned: OwnedRedisClient | undefined
  #closed = false
  /** While Redis is considered down: when to ask it again (epoch ms of `now`). */
  #storeDownUntil: number | undefined

  constructor(options: RateLimitsOptions, emit: Emit | undefined, now: () => number) {
    this.#limits = resolveRateLimits(options)
    this.#emit = emit
    this.#now = now
    this.#identify = createIdentify(this.#limits.identify)
  }

  /** Closes the Redis client the limiter created from `redisUrl` (a given client is left alone). */
  async close(): Promise<void> {
    this.#closed = true
    const owned = this.#owned
    this.#owned = undefined
    if (owned) await closeOwnedRedisClient(owned)
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
    const rules = rulesFor(this.#limits, call)
    if (rules.length === 0) return
    const counters = await this.#loadCounters()
    const userKey = userKeyOf(call.identity)
    const outcomes = await Promise.all(
      rules.map((rule) => {
        const counter = counters.get(rule) as Counter
        return this.#consume(counter, keyOf(rule, call, userKey))
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

  async #consume(counter: Counter, key: string): Promise<Outcome> {
    if (counter.redis && !this.#skipStore()) {
      try {
        await withDeadline(counter.redis.consume(key, 1), this.#limits.redisTimeoutMs)
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
    if (this.#limits.redis !== undefined) return this.#limits.redis
    const url = this.#limits.redisUrl
    if (url === undefined || this.#closed) return undefined
    const client = await createOwnedRedisClient(url)
    // close() ran while the client module was loading: nothing is left open behind it.
    if (this.#closed) {
      await closeOwnedRedisClient(client)
      return undefined
    }
    this.#owned = client
    await connectWithin(client)
    return client
  }

  #build(mod: RateLimiterModule, client: object | undefined): Map<Rule, Counter> {
    const { user, tools, servers, global } = this.#limits
    const rules = [user, ...tools.values(), ...servers.values(), global].filter(
      (r): r is Rule => r !== undefined,
    )
    const counters = new Map<Rule, Counter>()
    for (const rule of rules) {
      const options = {
        points: rule.limit,
        duration: rule.windowMs / 1000,
        keyPrefix: `${this.#limits.keyPrefix}:${rule.id}`,
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
