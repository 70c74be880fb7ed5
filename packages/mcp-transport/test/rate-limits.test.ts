// The manager's rate limits in memory, against the testkit's loopback servers: per user, per tool,
// per server, global; who the user is; a refused call sends nothing; the YAML block's mapping
// (rateLimitsFromConfig, a thin wrapper over auth-core's parser).
import {
  type AccessToken,
  ClientCredentialsTokenProvider,
  ConfigError,
  parseConfig,
  type TokenProvider,
} from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RateLimitedError } from '../src/errors.js'
import type { McpManagerEvent } from '../src/internal/manager/events.js'
import { rateLimitsFromConfig, rateLimitsOptionsOf } from '../src/rate-limits.js'
import { McpServerManager, type McpServerManagerOptions } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
})
afterAll(() => servers.close())
const managers: McpServerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  servers.mcp.server.reset()
  servers.oauth.server.reset()
})

/** A token provider that counts getToken calls (to prove a refused call asks for none). */
function counted(): TokenProvider & { calls: number } {
  const inner = new ClientCredentialsTokenProvider({
    tokenUrl: servers.oauth.tokenEndpoint,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    scope: ['customer:read', 'ticket:create'],
  })
  const provider = {
    calls: 0,
    getToken(options?: { signal?: AbortSignal; scopes?: readonly string[] }): Promise<AccessToken> {
      provider.calls++
      return inner.getToken(options)
    },
    invalidate: (rejected?: string) => inner.invalidate(rejected),
  }
  return provider
}

async function manager(
  rateLimits: McpServerManagerOptions['rateLimits'],
  extra: Partial<McpServerManagerOptions> = {},
): Promise<{ manager: McpServerManager; events: McpManagerEvent[]; provider: ReturnType<typeof counted> }> {
  const events: McpManagerEvent[] = []
  const provider = counted()
  const m = new McpServerManager({
    servers: [
      {
        name: 'crm',
        url: servers.mcp.url,
        tokenProvider: provider,
        cookiePassthrough: { allow: ['session_id'] },
      },
    ],
    retry: false,
    rateLimits,
    onEvent: (e) => events.push(e),
    ...extra,
  })
  managers.push(m)
  await m.connect()
  return { manager: m, events, provider }
}

const lookup = (m: McpServerManager) => m.callTool('get_customer_info', { customer_id: 'cust-001' })
const recent = (m: McpServerManager) => m.callTool('get_recent_customers', { limit: 1 })

async function refusal(call: Promise<unknown>): Promise<RateLimitedError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RateLimitedError)
  return error as RateLimitedError
}

describe('rate limits (in memory)', () => {
  it('refuses the call over a user limit with ERR_RATE_LIMITED, the limit and retryAfterMs, and sends nothing', async () => {
    const { manager: m, events, provider } = await manager({ user: { limit: 3, windowSeconds: 60 } })
    await withUserContext({ userId: 'alice' }, async () => {
      for (let i = 0; i < 3; i++) await lookup(m)
    })
    const sent = servers.mcp.server.requests.length
    const tokens = provider.calls
    const error = await refusal(withUserContext({ userId: 'alice' }, () => lookup(m)))
    expect(error).toMatchObject({
      code: 'ERR_RATE_LIMITED',
      scope: 'user',
      limit: 3,
      windowMs: 60_000,
      server: 'crm',
      tool: 'get_customer_info',
    })
    expect(error.retryAfterMs).toBeGreaterThan(30_000)
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000)
    // Nothing left: no MCP request, not even a token lookup.
    expect(servers.mcp.server.requests.length).toBe(sent)
    expect(provider.calls).toBe(tokens)
    expect(servers.mcp.server.toolCalls).toHaveLength(3)
    expect(events.filter((e) => e.type === 'rate_limited')).toEqual([
      expect.objectContaining({
        type: 'rate_limited',
        server: 'crm',
        tool: 'get_customer_info',
        scope: 'user',
        limit: 3,
        windowMs: 60_000,
        retryAfterMs: error.retryAfterMs,
        user: true,
        userId: 'alice',
      }),
    ])
  })

  it('counts each user on their own; calls outside a user context, or from a user nobody can tell, count as the service', async () => {
    const { manager: m } = await manager({ user: { limit: 2 } })
    for (const user of ['alice', 'bob']) {
      await withUserContext({ userId: user }, async () => {
        await lookup(m)
        await lookup(m)
      })
    }
    await refusal(withUserContext({ userId: 'bob' }, () => lookup(m)))
    await lookup(m) // the service: its own count
    await withUserContext({ cookie: 'session_id=s-1' }, () => lookup(m)) // no userId, no identify: the service
    await refusal(lookup(m))
    expect(servers.mcp.server.toolCalls).toHaveLength(6)
  })

  it('identifies users by the hash of a configured cookie or header, never by its value', async () => {
    const byCookie = await manager({ user: { limit: 1 }, identify: { cookie: 'session_id' } })
    await withUserContext({ cookie: 'session_id=s-ada; theme=dark' }, () => lookup(byCookie.manager))
    await withUserContext({ cookie: 'session_id=s-bob' }, () => lookup(byCookie.manager))
    const error = await refusal(
      withUserContext({ cookie: 'theme=x; session_id=s-ada' }, () => lookup(byCookie.manager)),
    )
    expect(error.scope).toBe('user')
    const call = byCookie.events.find((e) => e.type === 'tool_call')
    const refused = byCookie.events.find((e) => e.type === 'rate_limited')
    expect(call).toMatchObject({ type: 'tool_call', userId: expect.stringMatching(/^sha256:[0-9a-f]{32}$/) })
    expect(refused).toMatchObject({ type: 'rate_limited', userId: (call as { userId: string }).userId })
    expect(JSON.stringify(byCookie.events)).not.toMatch(/s-ada|s-bob/)

    const byHeader = await manager({ user: { limit: 1 }, identify: { header: 'X-User' } })
    await withUserContext({ headers: { 'x-user': 'u-1' } }, () => lookup(byHeader.manager))
    await withUserContext({ headers: [['X-User', 'u-2']] }, () => lookup(byHeader.manager))
    await refusal(
      withUserContext({ headers: new Headers({ 'x-user': 'u-1' }) }, () => lookup(byHeader.manager)),
    )
    // userId wins over the header.
    await withUserContext({ userId: 'u-1', headers: { 'x-user': 'u-1' } }, () => lookup(byHeader.manager))
  })

  it('applies tool limits (by name, <server>__<tool> first, * for each tool), per user when asked', async () => {
    const { manager: m } = await manager({
      tools: {
        get_customer_info: { limit: 5 },
        crm__get_customer_info: { limit: 1, perUser: true },
        '*': { limit: 2 },
      },
    })
    await withUserContext({ userId: 'alice' }, () => lookup(m))
    const perUser = await refusal(withUserContext({ userId: 'alice' }, () => lookup(m)))
    expect(perUser).toMatchObject({ scope: 'tool', limit: 1 })
    await withUserContext({ userId: 'bob' }, () => lookup(m))
    // Every other tool: two calls each, all users together.
    await withUserContext({ userId: 'alice' }, () => recent(m))
    await withUserContext({ userId: 'bob' }, () => recent(m))
    expect(await refusal(recent(m))).toMatchObject({ scope: 'tool', limit: 2, tool: 'get_recent_customers' })
  })

  it('applies server and global limits', async () => {
    const server = await manager({ servers: { crm: { limit: 2, windowSeconds: 10 } } })
    await lookup(server.manager)
    await recent(server.manager)
    expect(await refusal(lookup(server.manager))).toMatchObject({
      scope: 'server',
      limit: 2,
      windowMs: 10_000,
    })

    const global = await manager({ global: { limit: 1, windowSeconds: 3600 } })
    await withUserContext({ userId: 'alice' }, () => lookup(global.manager))
    const error = await refusal(withUserContext({ userId: 'bob' }, () => recent(global.manager)))
    expect(error).toMatchObject({ scope: 'global', windowMs: 3_600_000 })
    expect(error.message).toBe(
      'call to tool "get_recent_customers" on "crm" refused: the global rate limit of 1 per hour is reached; ' +
        `retry in ${Math.ceil(error.retryAfterMs / 1000)} s`,
    )
  })

  it('gives a refused call its point back from the limits that counted it', async () => {
    const { manager: m } = await manager({ user: { limit: 4 }, tools: { get_customer_info: { limit: 1 } } })
    await withUserContext({ userId: 'alice' }, async () => {
      await lookup(m)
      // Refused by the tool limit: the user limit is given its point back.
      for (let i = 0; i < 3; i++) expect((await refusal(lookup(m))).scope).toBe('tool')
      await recent(m)
      await recent(m)
      await recent(m)
      expect((await refusal(recent(m))).scope).toBe('user')
    })
  })

  it('lets runToolCalls answer a refused call with an error result the model can read', async () => {
    const { manager: m } = await manager({ user: { limit: 1 } })
    const calls = ['c1', 'c2'].map((id) => ({
      id,
      type: 'function' as const,
      function: { name: 'get_customer_info', arguments: '{"customer_id":"cust-001"}' },
    }))
    const run = await withUserContext({ userId: 'alice' }, () => m.runToolCalls(calls, { concurrency: 1 }))
    expect(run.results.map((r) => r.event.outcome)).toEqual(['ok', 'rate_limited'])
    expect(run.results[1]!.event.retryAfterMs).toBeGreaterThan(0)
    expect(run.messages[1]!.content).toMatch(
      /^Error: call to tool "get_customer_info" on "crm" refused: the user rate limit of 1 per minute/,
    )
  })

  it('refuses bad options at construction with a TypeError naming the option', () => {
    const make = (rateLimits: unknown) => () =>
      new McpServerManager({ servers: [], rateLimits: rateLimits as McpServerManagerOptions['rateLimits'] })
    expect(make({ user: { limit: 0 } })).toThrow(/"rateLimits\.user\.limit" must be a positive integer/)
    expect(make({ user: { limit: 1, windowSeconds: 0.5 } })).toThrow(/"rateLimits\.user\.windowSeconds"/)
    expect(make({ tools: { x: { limit: 1, perUser: 'yes' } } })).toThrow(/"rateLimits\.tools\.x\.perUser"/)
    expect(make({ servers: 5 })).toThrow(/"rateLimits\.servers" must be a record/)
    expect(make({ identify: { cookie: '' } })).toThrow(/"rateLimits\.identify\.cookie"/)
    expect(make({ redisTimeoutMs: -1 })).toThrow(/"rateLimits\.redisTimeoutMs"/)
    expect(make({ redisUrl: 'http://x' })).toThrow(/"rateLimits\.redisUrl"/)
    expect(make({ redisUrl: 'redis://' })).toThrow(/"rateLimits\.redisUrl" must be a redis/)
    // A password in the clear to a host that is not loopback: refused, and never echoed.
    const insecure = make({ redisUrl: 'redis://:hunter2-secret@redis.example.com:6379/0' })
    expect(insecure).toThrow(/plain redis:\/\/ to a host that is not loopback/)
    expect(insecure).not.toThrow(/hunter2-secret/)
    expect(
      make({ redisUrl: 'redis://:pw@redis.example.com:6379', redisAllowInsecureTransport: true }),
    ).not.toThrow()
    expect(make({ redisUrl: 'rediss://:pw@redis.example.com:6379' })).not.toThrow()
    expect(make({ redisUrl: 'redis://:pw@127.0.0.1:6379' })).not.toThrow()
    expect(make({ redisUrl: 'redis://redis.example.com:6379' })).not.toThrow()
    expect(make({ redis: 'redis://x' })).toThrow(/"rateLimits\.redis"/)
    expect(make('100/min')).toThrow(/"rateLimits" must be an object/)
  })
})

describe('rateLimitsFromConfig (the rate_limits: block)', () => {
  const block = {
    identify: { header: 'X-User-Id' },
    user: '100/min',
    global: { limit: 5000, window_seconds: 60 },
    tools: {
      create_support_ticket: { limit: '5/10s', per_user: true },
      crm__export: '10/hour',
      '*': '600/minute',
    },
    servers: { crm: '1000/1m' },
    store: {
      type: 'redis',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a config file's ${ENV} reference
      url: 'redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0',
      key_prefix: 'gw:rl',
      timeout_ms: 100,
    },
  }

  it('maps every limit form, the identity and the store onto the manager option', () => {
    expect(rateLimitsFromConfig(block, { env: { REDIS_PASSWORD: 'pw' } })).toEqual({
      identify: { header: 'x-user-id' },
      user: { limit: 100, windowSeconds: 60 },
      global: { limit: 5000, windowSeconds: 60 },
      tools: {
        create_support_ticket: { limit: 5, windowSeconds: 10, perUser: true },
        crm__export: { limit: 10, windowSeconds: 3600 },
        '*': { limit: 600, windowSeconds: 60 },
      },
      servers: { crm: { limit: 1000, windowSeconds: 60 } },
      keyPrefix: 'gw:rl',
      redisTimeoutMs: 100,
      redisUrl: 'redis://:pw@127.0.0.1:6379/0',
    })
    const client = {}
    expect(rateLimitsFromConfig({ user: '1/s', store: { type: 'redis' } }, { redis: client })).toEqual({
      user: { limit: 1, windowSeconds: 1 },
      redis: client,
    })
    expect(rateLimitsFromConfig({ store: { type: 'memory' }, user: { limit: 3 } })).toEqual({
      user: { limit: 3, windowSeconds: 60 },
    })
  })

  it('lists every problem in one ConfigError, without the Redis URL', () => {
    let error: unknown
    try {
      rateLimitsFromConfig(
        {
          user: '100 per minute',
          global: { limit: 0 },
          tools: { x: { limit: '5/min', window_seconds: 60 }, y: { limit: 1, per_user: 'yes' } },
          identify: { cookie: 'a', header: 'b' },
          stores: {},
          store: { type: 'redis', url: 'http://:hunter2@host/' },
        },
        {},
      )
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const { issues, message } = error as ConfigError
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'rate_limits.stores',
        'rate_limits.identify',
        'rate_limits.user',
        'rate_limits.global.limit',
        'rate_limits.tools.x.window_seconds',
        'rate_limits.tools.y.per_user',
        'rate_limits.store.url',
      ].sort(),
    )
    expect(message).not.toContain('hunter2')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config file's ${ENV} reference
    expect(() => rateLimitsFromConfig({ store: { type: 'redis', url: 'redis://${NOPE}@h' } })).toThrow(
      /NOPE is not set/,
    )
    expect(() => rateLimitsFromConfig('100/min')).toThrow(ConfigError)
  })

  it('accepts and refuses exactly what parseConfig reads from a file, and maps it the same', () => {
    const valid = [
      block,
      { user: '1/s' },
      { user: { limit: 2 } },
      { tools: { '*': { limit: '1/day', per_user: false } } },
      { store: { type: 'memory' } },
      { identify: { cookie: 'session_id' }, servers: { crm: '3/2h' } },
    ]
    const invalid = [
      { user: 'x' },
      { user: { limit: 1.5 } },
      { user: { limit: 1, per_user: true } },
      { tools: { a: { limit: '1/min', window_seconds: 1 } } },
      { identify: {} },
      { store: { type: 'memcached' } },
      { store: { type: 'redis' } },
      { other: 1 },
    ]
    const env = { REDIS_PASSWORD: 'pw' }
    const fromFile = (rate_limits: unknown) =>
      parseConfig({ mcp_servers: { crm: { url: 'https://crm.example/mcp' } }, rate_limits }, { env })
    for (const input of valid) {
      const { rateLimits } = fromFile(input)
      expect(rateLimitsFromConfig(input, { env })).toEqual(rateLimitsOptionsOf(rateLimits!))
    }
    for (const input of invalid) {
      const file = (() => {
        try {
          fromFile(input)
        } catch (e) {
          return (e as ConfigError).issues
        }
      })()
      expect(file, JSON.stringify(input)).toBeDefined()
      let alone: unknown
      try {
        rateLimitsFromConfig(input, { env })
      } catch (e) {
        alone = e
      }
      expect(alone, JSON.stringify(input)).toBeInstanceOf(ConfigError)
      expect((alone as ConfigError).issues).toEqual(file)
    }
  })

  it('drives a manager from YAML limits', async () => {
    const { manager: m } = await manager(
      rateLimitsFromConfig({ user: '1/min', identify: { cookie: 'session_id' } }),
    )
    await withUserContext({ cookie: 'session_id=a' }, () => lookup(m))
    expect((await refusal(withUserContext({ cookie: 'session_id=a' }, () => lookup(m)))).limit).toBe(1)
  })
})
