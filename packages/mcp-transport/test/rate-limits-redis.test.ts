// Rate limits shared across replicas on a real redis-server (scripts/redis-server.mjs): three
// gateway processes, one user, one limit; and what a replica does when Redis fails.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ClientCredentialsTokenProvider, parseConfig } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedisServer } from '../../../scripts/redis-server.mjs'
import { RateLimitedError } from '../src/errors.js'
import type { McpManagerEvent } from '../src/internal/manager/events.js'
import { RateLimiter } from '../src/internal/manager/rate-limiter.js'
import { McpServerManager } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const replica = fileURLToPath(new URL('./support/rate-limit-replica.ts', import.meta.url))
/** Installing redis-server on a fresh CI machine (apt-get) can take a while. */
const INSTALL_TIMEOUT_MS = 600_000

let redis: RedisServer
let servers: MockServers
beforeAll(async () => {
  redis = await startRedisServer()
  servers = await startMockServers()
}, INSTALL_TIMEOUT_MS)
afterAll(async () => {
  await servers?.close()
  await redis?.stop()
})

/** An admin client of the test's redis-server, and how many clients the server has connected. */
async function connectionCounter() {
  const admin = createClient({ url: redis.url })
  admin.on('error', () => {})
  await admin.connect()
  const clients = async () =>
    String(await admin.sendCommand(['CLIENT', 'LIST']))
      .trim()
      .split('\n').length
  return { admin, clients }
}

type Outcome = { ok: true } | { ok: false; code: string; retryAfterMs: number; scope: string; at: number }

function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve()
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`))
      else setTimeout(tick, 20)
    }
    tick()
  })
}

describe('rate limits shared on Redis', () => {
  it('3 processes, 1,000 calls of one user, a limit of 100 per minute: exactly 100 pass, 900 refused with the time left in the window', async () => {
    const keyPrefix = `rl-test-${process.pid}-${Date.now()}`
    const split = [334, 333, 333]
    const children: ChildProcess[] = []
    const ready: boolean[] = []
    const done: Outcome[][] = []
    const failed: string[] = []
    try {
      split.forEach((calls, i) => {
        const child = fork(replica, [], {
          cwd: root,
          execArgv: ['--import', 'tsx'],
          env: {
            ...process.env,
            REDIS_URL: redis.url,
            MCP_URL: servers.mcp.url,
            TOKEN_URL: servers.oauth.tokenEndpoint,
            CALLS: String(calls),
            LIMIT: '100',
            KEY_PREFIX: keyPrefix,
            USER_ID: 'alice',
          },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        child.on('message', (m: { type: string; outcomes?: Outcome[] }) => {
          if (m.type === 'ready') ready[i] = true
          if (m.type === 'done') done[i] = m.outcomes ?? []
        })
        child.on('exit', (code) => {
          if (code !== 0 && !done[i]) failed.push(`replica ${i} exited with ${code}`)
        })
        children.push(child)
      })
      await until(
        () => failed.length > 0 || ready.filter(Boolean).length === 3,
        60_000,
        'the replicas to connect',
      )
      expect(failed).toEqual([])
      for (const child of children) child.send('go')
      await until(
        () => failed.length > 0 || done.filter(Boolean).length === 3,
        60_000,
        'the replicas to finish',
      )
      expect(failed).toEqual([])

      const admin = createClient({ url: redis.url })
      admin.on('error', () => {})
      await admin.connect()
      const key = `${keyPrefix}:user:u:alice`
      const pttl = Number(await admin.pTTL(key))
      const windowEnd = Date.now() + pttl
      await admin.close()

      const all = done.flat()
      const passed = all.filter((o) => o.ok)
      const refused = all.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok)
      expect(all).toHaveLength(1000)
      expect(passed).toHaveLength(100)
      expect(refused).toHaveLength(900)
      // Every replica had calls refused and let some through: the count is one, fleet-wide.
      for (const outcomes of done) expect(outcomes.some((o) => !o.ok)).toBe(true)
      expect(servers.mcp.server.toolCalls).toHaveLength(100)
      expect(pttl).toBeGreaterThan(0)
      for (const r of refused) {
        expect(r).toMatchObject({ code: 'ERR_RATE_LIMITED', scope: 'user' })
        expect(r.retryAfterMs).toBeGreaterThan(0)
        expect(r.retryAfterMs).toBeLessThanOrEqual(60_000)
        // retryAfterMs points at the end of the window Redis holds (the processes share this clock).
        expect(Math.abs(r.at + r.retryAfterMs - windowEnd)).toBeLessThan(2000)
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill()
    }
  }, 120_000)

  it('from a config file: a redis store by url shares the limit between managers, each closing the client it opened', async () => {
    const { admin, clients } = await connectionCounter()
    const baseline = await clients()
    const text = `
mcp_config:
  default_oauth2: { token_url: ${servers.oauth.tokenEndpoint}, client_id: test-client, client_secret: test-secret }
mcp_servers:
  crm: { url: ${servers.mcp.url} }
rate_limits:
  user: 2/min
  store: { type: redis, url: "$\{REDIS_URL}", key_prefix: "rl-config-${process.pid}-${Date.now()}" }
`
    const config = parseConfig(text, { env: { REDIS_URL: redis.url } })
    const [a, b] = [0, 1].map(() => McpServerManager.fromConfig(config, { retry: false })) as [
      McpServerManager,
      McpServerManager,
    ]
    const call = (m: McpServerManager) =>
      withUserContext({ userId: 'carol' }, () => m.callTool('get_customer_info', { customer_id: 'c' }))
    try {
      await Promise.all([a.connect(), b.connect()])
      await call(a)
      await call(b)
      const refused = await call(a).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(refused).toBeInstanceOf(RateLimitedError)
      expect(refused).toMatchObject({ code: 'ERR_RATE_LIMITED', scope: 'user', limit: 2 })
      expect(await clients()).toBe(baseline + 2)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
    const deadline = Date.now() + 5000
    while ((await clients()) !== baseline && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    expect(await clients()).toBe(baseline)
    await admin.close()
  }, 60_000)

  it('close() while the Redis client is still being made leaves no connection behind', async () => {
    const { admin, clients } = await connectionCounter()
    const baseline = await clients()
    try {
      for (let i = 0; i < 5; i++) {
        const limiter = new RateLimiter({ user: { limit: 5 }, redisUrl: redis.url }, undefined, Date.now)
        const checking = limiter.check({
          server: 'crm',
          tool: 'get_customer_info',
          qualifiedName: 'crm__get_customer_info',
          identity: { kind: 'user', id: 'dave' },
          user: true,
        })
        // check() is now waiting for the client module and the client: close before it is made.
        await limiter.close()
        await checking.catch(() => {})
      }
      // Give a client made after close() the time to connect (it would, and stay).
      await new Promise((r) => setTimeout(r, 1000))
      expect(await clients()).toBe(baseline)
    } finally {
      await admin.close()
    }
  }, 60_000)

  it('counts in memory while Redis does not answer (one event), and on Redis again once it does', async () => {
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
    const events: McpManagerEvent[] = []
    let now = 1_000_000
    const manager = new McpServerManager({
      servers: [
        {
          name: 'crm',
          url: servers.mcp.url,
          tokenProvider: new ClientCredentialsTokenProvider({
            tokenUrl: servers.oauth.tokenEndpoint,
            clientId: 'test-client',
            clientSecret: 'test-secret',
          }),
        },
      ],
      retry: false,
      now: () => now,
      rateLimits: {
        user: { limit: 3 },
        redis: client,
        keyPrefix: `rl-outage-${process.pid}-${Date.now()}`,
        redisTimeoutMs: 200,
      },
      onEvent: (e) => events.push(e),
    })
    const call = () =>
      withUserContext({ userId: 'bob' }, () => manager.callTool('get_customer_info', { customer_id: 'c' }))
    try {
      await manager.connect()
      await call() // counted on Redis: 1
      redis.signal('SIGSTOP') // Redis hangs: commands are sent and never answered
      const started = Date.now()
      await call() // waits redisTimeoutMs, then counts in memory: 1
      await call() // Redis is skipped for a while: memory 2
      await call() // memory 3
      await expect(call()).rejects.toBeInstanceOf(RateLimitedError) // memory 4: over the limit
      expect(Date.now() - started).toBeLessThan(5000)
      expect(events.filter((e) => e.type === 'store')).toEqual([
        expect.objectContaining({ type: 'store', store: 'rate_limits', state: 'unavailable' }),
      ])
      redis.signal('SIGCONT')
      now += 1500 // past the pause: the next call asks Redis again
      await call() // Redis: 2 (the hung command may have counted: 3 at most)
      expect(events.filter((e) => e.type === 'store').map((e) => (e as { state: string }).state)).toEqual([
        'unavailable',
        'available',
      ])
      expect(JSON.stringify(events)).not.toContain(redis.url)
    } finally {
      redis.signal('SIGCONT')
      await manager.close()
      await client.close()
    }
  }, 60_000)
})
