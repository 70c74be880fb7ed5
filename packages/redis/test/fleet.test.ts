// Fleet-wide single-flight on a real Redis: several store instances are several gateway replicas,
// each with its own ClientCredentialsTokenProvider given the store; tokens come from the testkit's
// loopback authorization server.
import {
  ClientCredentialsTokenProvider,
  parseConfig,
  type TokenProviderEvent,
  tokenProvidersFromConfig,
} from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisTokenStore, redisTokenStoreFromConfig } from '../src/index.js'
import {
  admin,
  dumpAll,
  INSTALL_TIMEOUT_MS,
  monitor,
  newKey,
  type RedisServer,
  startServer,
  subscribed,
  uniquePrefix,
  until,
} from './helpers.js'

const SECRET = 'fleet-client-secret-8c1f'
let redis: RedisServer
let servers: MockServers
const closers: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  redis = await startServer()
  servers = await startMockServers({
    clients: [{ clientId: 'fleet-client', clientSecret: SECRET, allowedScopes: ['mcp:read'] }],
  })
}, INSTALL_TIMEOUT_MS)

afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  servers.oauth.server.reset()
})

afterAll(async () => {
  await servers?.close()
  await redis?.stop()
})

async function fleet(size: number, encryptionKey = newKey(), keyPrefix = uniquePrefix()) {
  const options = {
    tokenUrl: servers.oauth.tokenEndpoint,
    clientId: 'fleet-client',
    clientSecret: SECRET,
    scope: ['mcp:read'],
  }
  return Array.from({ length: size }, () => {
    const store = new RedisTokenStore({ url: redis.url, encryptionKey, keyPrefix })
    const events: TokenProviderEvent[] = []
    const provider = new ClientCredentialsTokenProvider({
      ...options,
      store,
      onEvent: (event) => events.push(event),
    })
    closers.push(() => store.close())
    return Object.assign(provider, { events })
  })
}

describe('fleet-wide single-flight', () => {
  it('4 replicas × 50 concurrent calls at a cold start make one token request', async () => {
    const replicas = await fleet(4)
    const tokens = await Promise.all(
      replicas.flatMap((replica) => Array.from({ length: 50 }, () => replica.getToken())),
    )
    expect(servers.oauth.server.tokenRequests).toHaveLength(1)
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1)
    expect(replicas.flatMap((r) => r.events)).toEqual([])
  })

  it('a cache hit does not touch Redis', async () => {
    const [replica] = await fleet(1)
    await replica!.getToken()
    const db = await admin(redis)
    closers.push(() => db.destroy())
    const watch = await monitor(redis)
    try {
      for (let i = 0; i < 100; i++) await replica!.getToken()
      // MONITOR lines arrive asynchronously: one more command, seen after the calls, flushes them.
      await db.sendCommand(['ECHO', 'calls-done'])
      await until(() => watch.lines.some((line) => line.includes('calls-done')))
      expect(watch.lines.filter((line) => !line.includes('calls-done'))).toEqual([])
    } finally {
      await watch.stop()
    }
  })

  it('one 401 drops the token on every replica; the fleet then makes one new token request', async () => {
    const keyPrefix = uniquePrefix()
    const replicas = await fleet(3, newKey(), keyPrefix)
    const db = await admin(redis)
    closers.push(() => db.destroy())
    await subscribed(db, keyPrefix, 3)
    const first = await replicas[0]!.getToken()
    for (const replica of replicas.slice(1)) expect((await replica.getToken()).value).toBe(first.value)
    replicas[0]!.invalidate(first.value)
    replicas[1]!.invalidate(first.value)
    // Every replica, including the one that saw no 401, drops it once the notice arrives.
    await until(async () => {
      const third = replicas[2]!
      return (await third.getToken()).value !== first.value
    })
    const after = await Promise.all(replicas.map((replica) => replica.getToken()))
    expect(new Set(after.map((t) => t.value)).size).toBe(1)
    expect(after[0]!.value).not.toBe(first.value)
    expect(servers.oauth.server.tokenRequests).toHaveLength(2)
  })

  it('leaves no token or client secret readable in Redis', async () => {
    const encryptionKey = newKey()
    const watch = await monitor(redis)
    try {
      const replicas = await fleet(2, encryptionKey)
      const token = await replicas[0]!.getToken()
      await replicas[1]!.getToken()
      replicas[1]!.invalidate(token.value)
      await replicas[1]!.getToken()
      const db = await admin(redis)
      const text = [...(await dumpAll(db)), ...watch.lines].join('\n')
      db.destroy()
      expect(text).not.toContain(token.value.slice(20, 60))
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain(encryptionKey)
    } finally {
      await watch.stop()
    }
  })
})

describe('the provider when Redis dies', () => {
  it('keeps every call working on its own token request, with one warning and no secret', async () => {
    const own = await startServer()
    closers.push(() => own.stop())
    const encryptionKey = newKey()
    const store = new RedisTokenStore({
      url: own.url,
      encryptionKey,
      keyPrefix: uniquePrefix(),
      timeoutMs: 200,
    })
    closers.push(() => store.close())
    const events: TokenProviderEvent[] = []
    const provider = new ClientCredentialsTokenProvider({
      tokenUrl: servers.oauth.tokenEndpoint,
      clientId: 'fleet-client',
      clientSecret: SECRET,
      scope: ['mcp:read'],
      store,
      storeOptions: { retryStoreAfterMs: 60_000, operationTimeoutMs: 10_000 },
      onEvent: (event) => events.push(event),
    })
    const first = await provider.getToken()
    expect(events).toEqual([])
    await own.kill()
    provider.invalidate(first.value) // the fleet-wide drop fails too: that is the outage
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.getToken()))
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1)
    expect(tokens[0]!.value).not.toBe(first.value)
    expect(servers.oauth.server.tokenRequests).toHaveLength(2)
    await until(() => events.length > 0)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ type: 'token_store_unavailable' })
    expect(JSON.stringify(events)).not.toContain(SECRET)
    expect(JSON.stringify(events)).not.toContain(encryptionKey)
  })
})

describe('redisTokenStoreFromConfig', () => {
  it('builds the store of mcp_config.token_store: two gateways from one file make one token request', async () => {
    const yaml = `
mcp_config:
  default_oauth2:
    token_url: \${TOKEN_URL}
    client_id: fleet-client
    client_secret: \${SECRET}
    scope: mcp:read
  token_store:
    type: redis
    url: \${REDIS_URL}
    key_prefix: "\${PREFIX}"
    encryption_key: ["\${KEY}"]
    timeout_ms: 2000
mcp_servers:
  crm: { url: "\${MCP_URL}" }
`
    const env = {
      TOKEN_URL: servers.oauth.tokenEndpoint,
      SECRET,
      REDIS_URL: redis.url,
      PREFIX: uniquePrefix(),
      KEY: newKey(),
      MCP_URL: servers.mcp.url,
    }
    const gateways = [parseConfig(yaml, { env }), parseConfig(yaml, { env })].map((config) => {
      const store = redisTokenStoreFromConfig(config.tokenStore!)
      closers.push(() => store.close())
      return tokenProvidersFromConfig(config, { store }).get('crm')!
    })
    const tokens = await Promise.all(gateways.flatMap((g) => [g.getToken(), g.getToken()]))
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1)
    expect(servers.oauth.server.tokenRequests).toHaveLength(1)
  })

  it('refuses settings that are not a Redis store', () => {
    expect(() => redisTokenStoreFromConfig({ type: 'memory' })).toThrow(TypeError)
  })
})
