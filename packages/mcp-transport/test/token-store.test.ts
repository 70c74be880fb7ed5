// McpServerManager.fromConfig with mcp_config.token_store on a real redis-server: the store comes
// from @mcp-oauth2/redis (imported when configured), is shared by the providers of every replica,
// is closed by close(), and its outages are the manager's `store` events.
import { randomBytes } from 'node:crypto'
import { type McpConfig, parseConfig } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, type RedisServer, startRedisServer } from '../../../scripts/redis-server.mjs'
import type { McpManagerEvent } from '../src/internal/manager/events.js'
import { McpServerManager } from '../src/server-manager.js'

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

/** `timeoutMs`: the store's per-operation deadline (short where Redis is down on purpose). */
function config(url: string, keyPrefix: string, timeoutMs = 200): McpConfig {
  return parseConfig(
    {
      mcp_config: {
        token_store: {
          type: 'redis',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's ${ENV} reference
          url: '${REDIS_URL}',
          key_prefix: keyPrefix,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: as above
          encryption_key: '${TOKEN_KEY}',
          timeout_ms: timeoutMs,
        },
      },
      mcp_servers: {
        crm: {
          url: servers.mcp.url,
          auth: {
            oauth2: {
              token_url: servers.oauth.tokenEndpoint,
              client_id: 'test-client',
              client_secret: 'test-secret',
            },
          },
        },
      },
    },
    { env: { REDIS_URL: url, TOKEN_KEY: randomBytes(32).toString('base64') } },
  )
}

async function clients(): Promise<number> {
  const admin = createClient({ url: redis.url })
  admin.on('error', () => {})
  await admin.connect()
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
  await admin.close()
  return list.split('\n').filter((line) => line.includes('cmd=') && !line.includes('cmd=client')).length
}

describe('fromConfig with token_store: redis', () => {
  it('builds the store, shares one token across replicas, and closes the store', async () => {
    // A generous deadline: on a loaded machine a 200 ms Redis answer is late, and the replica
    // would (rightly) fetch its own token.
    const shared = config(redis.url, `mgr-${process.pid}-${Date.now()}`, 5000)
    const before = await clients()
    servers.oauth.server.reset()
    const replicas = [
      McpServerManager.fromConfig(shared, { retry: false }),
      McpServerManager.fromConfig(shared, { retry: false }),
    ]
    try {
      await replicas[0]!.connect()
      await replicas[1]!.connect()
      await Promise.all(replicas.map((m) => m.callTool('get_customer_info', { customer_id: 'cust-001' })))
      // The second replica read the first one's token from Redis.
      expect(servers.oauth.server.tokenRequests).toHaveLength(1)
      expect(await clients()).toBeGreaterThan(before)
    } finally {
      await Promise.all(replicas.map((m) => m.close()))
    }
    expect(await clients()).toBe(before)
  })

  it("reports the store's outage as a manager event, and the call still succeeds", async () => {
    const port = await freePort() // nobody listens there
    const events: McpManagerEvent[] = []
    const manager = McpServerManager.fromConfig(config(`redis://127.0.0.1:${port}`, 'down'), {
      retry: false,
      onEvent: (e) => events.push(e),
    })
    try {
      const [status] = await manager.connect()
      expect(status?.state).toBe('connected')
      await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
      const outages = events.filter((e) => e.type === 'store')
      expect(outages).toEqual([
        expect.objectContaining({
          type: 'store',
          store: 'tokens',
          state: 'unavailable',
          code: expect.any(String),
        }),
      ])
      expect(JSON.stringify(events)).not.toContain(String(port))
    } finally {
      await manager.close()
    }
  })

  it('uses a store given in tokenProviderOptions instead of building one', async () => {
    const { InMemoryTokenStore } = await import('@mcp-oauth2/auth-core')
    const store = new InMemoryTokenStore()
    const before = await clients()
    const manager = McpServerManager.fromConfig(config(redis.url, 'given'), {
      retry: false,
      tokenProviderOptions: { store },
    })
    try {
      await manager.connect()
      expect(await clients()).toBe(before) // no Redis connection was made
    } finally {
      await manager.close()
    }
  })
})
