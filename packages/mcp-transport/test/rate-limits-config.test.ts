// The rate_limits: block of a config file, end to end: parseConfig reads it, and
// McpServerManager.fromConfig applies it (options win) against the testkit's loopback servers,
// through the SDK's real client.
import { inspect } from 'node:util'
import { ErrorCode, parseConfig } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { McpTransportErrorCode, RateLimitedError } from '../src/errors.js'
import type { McpManagerEvent } from '../src/internal/manager/events.js'
import { McpServerManager } from '../src/server-manager.js'
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

function yaml(rateLimits: string): string {
  return `
mcp_config:
  default_oauth2:
    token_url: ${servers.oauth.tokenEndpoint}
    client_id: test-client
    client_secret: \${CLIENT_SECRET}
    scope: customer:read ticket:create
mcp_servers:
  crm:
    url: ${servers.mcp.url}
    auth: { cookie_passthrough: [session_id] }
rate_limits:
${rateLimits}
`
}

async function connected(
  text: string,
  options: Parameters<typeof McpServerManager.fromConfig>[1] = {},
): Promise<{ manager: McpServerManager; events: McpManagerEvent[] }> {
  const events: McpManagerEvent[] = []
  const config = parseConfig(text, { env: { CLIENT_SECRET: 'test-secret' } })
  const manager = McpServerManager.fromConfig(config, {
    retry: false,
    onEvent: (e) => events.push(e),
    ...options,
  })
  managers.push(manager)
  await manager.connect()
  return { manager, events }
}

const lookup = (m: McpServerManager) => m.callTool('get_customer_info', { customer_id: 'cust-001' })

async function refusal(call: Promise<unknown>): Promise<RateLimitedError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RateLimitedError)
  return error as RateLimitedError
}

describe('McpServerManager.fromConfig with rate_limits: in the config', () => {
  it('refuses the 3rd call of a 2/min user limit with ERR_RATE_LIMITED, and the server sees only 2', async () => {
    const { manager, events } = await connected(yaml('  user: 2/min'))
    await withUserContext({ userId: 'alice' }, () => lookup(manager))
    await withUserContext({ userId: 'alice' }, () => lookup(manager))
    const error = await refusal(withUserContext({ userId: 'alice' }, () => lookup(manager)))
    expect(error.code).toBe(McpTransportErrorCode.RateLimited)
    expect(error.code).toBe('ERR_RATE_LIMITED')
    expect(error).toMatchObject({ scope: 'user', limit: 2, windowMs: 60_000, server: 'crm' })
    expect(error.retryAfterMs).toBeGreaterThan(0)
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000)
    expect(servers.mcp.server.toolCalls).toHaveLength(2)
    expect(events.filter((e) => e.type === 'rate_limited')).toHaveLength(1)
    // Another user has a limit of their own.
    await withUserContext({ userId: 'bob' }, () => lookup(manager))
    expect(servers.mcp.server.toolCalls).toHaveLength(3)
  })

  it('applies identify, tool and server limits from the file', async () => {
    const { manager } = await connected(
      yaml(`
  identify: { cookie: session_id }
  tools: { get_customer_info: { limit: 1/min, per_user: true } }
  servers: { crm: 3/min }
`),
    )
    const as = (session: string) =>
      withUserContext({ cookie: `session_id=${session}` }, () => lookup(manager))
    await as('a')
    expect((await refusal(as('a'))).scope).toBe('tool')
    await as('b')
    await as('c')
    expect((await refusal(as('d'))).scope).toBe('server')
    expect(servers.mcp.server.toolCalls).toHaveLength(3)
  })

  it('lets options.rateLimits replace the file as a whole', async () => {
    const { manager } = await connected(yaml('  user: 1/min'), { rateLimits: { user: { limit: 3 } } })
    for (let i = 0; i < 3; i++) await lookup(manager)
    expect((await refusal(lookup(manager))).limit).toBe(3)
  })

  it('applies no limits when the file has none', async () => {
    const config = parseConfig(yaml('  user: 1/min').replace(/rate_limits:[\s\S]*$/, ''), {
      env: { CLIENT_SECRET: 'test-secret' },
    })
    expect(config.rateLimits).toBeUndefined()
    const manager = McpServerManager.fromConfig(config, { retry: false })
    managers.push(manager)
    await manager.connect()
    for (let i = 0; i < 3; i++) await lookup(manager)
    expect(servers.mcp.server.toolCalls).toHaveLength(3)
  })

  it('keeps the store url out of the config, the error and inspect output', () => {
    const password = 'rl-redis-pass-91'
    const ref = '$' + '{REDIS_PASSWORD}' // the file's reference, not a template placeholder
    let error: unknown
    try {
      parseConfig(yaml(`  store: { type: redis, url: "http://:${ref}@redis.example/" }`), {
        env: { CLIENT_SECRET: 'test-secret', REDIS_PASSWORD: password },
      })
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: ErrorCode.Config, issues: [{ path: 'rate_limits.store.url' }] })
    expect(inspect(error, { depth: 20 })).not.toContain(password)
    const config = parseConfig(yaml(`  store: { type: redis, url: "rediss://:${ref}@redis.example" }`), {
      env: { CLIENT_SECRET: 'test-secret', REDIS_PASSWORD: password },
    })
    expect(inspect(config, { depth: 20 })).not.toContain(password)
  })
})
