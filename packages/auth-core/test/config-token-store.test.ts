// mcp_config.token_store in YAML, LiteLLM-shaped files and environment variables: parsed,
// checked, redacted, and handed to the providers by tokenProvidersFromConfig.
import { inspect } from 'node:util'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ConfigError,
  configFromEnv,
  InMemoryTokenStore,
  parseConfig,
  type TokenStoreOperationOptions,
  tokenProvidersFromConfig,
} from '../src/index.js'

const KEY = 'q0vM3mS7pDkV0n8wqk2b3m9J4x2YtqkQvZy1c7hF0jU=' // 32 bytes
const OLD_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' // 32 bytes
const PASSWORD = 'redis-pass-5b1e'

function yaml(store: string): string {
  return `
mcp_config:
  default_oauth2:
    token_url: https://auth.example.test/token
    client_id: gateway
    client_secret: s3cret
  token_store:
${store}
mcp_servers:
  crm: { url: https://crm.example.test/mcp }
  tickets:
    url: https://tickets.example.test/mcp
    auth_type: oauth2
    client_id: gateway
    client_secret: s3cret
    token_url: https://auth.example.test/token
`
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return [...(error as ConfigError).issues]
  }
  throw new Error('expected a ConfigError')
}

describe('mcp_config.token_store', () => {
  it('reads a redis store with environment references, the URL and keys as Secrets', () => {
    const config = parseConfig(
      yaml(`    type: redis
    url: \${REDIS_URL}
    key_prefix: 'gateway-prod:'
    encryption_key: ["\${KEY}", "\${OLD_KEY}"]
    timeout_ms: 300
    lock_ttl_ms: 20000
    wait_ms: 5000`),
      { env: { REDIS_URL: `rediss://gw:${PASSWORD}@redis.internal:6380/0`, KEY, OLD_KEY } },
    )
    const store = config.tokenStore!
    expect(store).toMatchObject({
      type: 'redis',
      keyPrefix: 'gateway-prod:',
      timeoutMs: 300,
      lockTtlMs: 20_000,
      waitMs: 5_000,
    })
    expect(store.url?.reveal()).toBe(`rediss://gw:${PASSWORD}@redis.internal:6380/0`)
    expect(store.encryptionKey?.reveal()).toEqual([KEY, OLD_KEY])
    for (const text of [inspect(config, { depth: 10 }), JSON.stringify(config), String(store.url)]) {
      expect(text).not.toContain(PASSWORD)
      expect(text).not.toContain(KEY)
      expect(text).not.toContain(OLD_KEY)
    }
  })

  it('accepts one encryption key as a string and a memory store without settings', () => {
    expect(
      parseConfig(
        yaml(`    type: redis\n    url: redis://127.0.0.1:6379\n    encryption_key: ${KEY}`),
      ).tokenStore?.encryptionKey?.reveal(),
    ).toEqual([KEY])
    expect(parseConfig(yaml('    type: memory')).tokenStore).toEqual({ type: 'memory' })
  })

  it('reports every problem at its path, never echoing the URL or the key', () => {
    const issues = issuesOf(() =>
      parseConfig(
        yaml(`    type: redis
    url: redis://gw:${PASSWORD}@redis.example.test:6379
    encryption_key: [not-a-key-${KEY.slice(0, 10)}]
    timeout_ms: 0`),
      ),
    )
    expect(issues.map((i) => i.path).sort()).toEqual([
      'mcp_config.token_store.encryption_key[0]',
      'mcp_config.token_store.timeout_ms',
      'mcp_config.token_store.url',
    ])
    expect(JSON.stringify(issues)).not.toContain(PASSWORD)
    expect(JSON.stringify(issues)).not.toContain(KEY.slice(0, 10))
    expect(issuesOf(() => parseConfig(yaml('    type: redis'))).map((i) => i.path)).toEqual([
      'mcp_config.token_store.url',
      'mcp_config.token_store.encryption_key',
    ])
    expect(issuesOf(() => parseConfig(yaml('    type: memcached')))[0]?.path).toBe(
      'mcp_config.token_store.type',
    )
    expect(issuesOf(() => parseConfig(yaml('    type: memory\n    url: redis://x')))[0]).toEqual({
      path: 'mcp_config.token_store.url',
      message: 'only applies with type: redis',
    })
    expect(
      issuesOf(() => parseConfig(yaml(`    type: redis\n    url: http://x\n    encryption_key: ${KEY}`)))[0]
        ?.message,
    ).toBe('must be a redis:// or rediss:// URL')
  })

  it('comes from MCP_OAUTH2_TOKEN_STORE* variables, issues naming the variable', () => {
    const env = {
      MCP_SERVER_URL: 'https://crm.example.test/mcp',
      MCP_OAUTH2_TOKEN_STORE: 'redis',
      MCP_OAUTH2_TOKEN_STORE_URL: 'redis://127.0.0.1:6379',
      MCP_OAUTH2_TOKEN_STORE_KEY_PREFIX: 'gw:',
      MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY: `${KEY}, ${OLD_KEY}`,
    }
    const store = configFromEnv(env).tokenStore!
    expect(store.type).toBe('redis')
    expect(store.keyPrefix).toBe('gw:')
    expect(store.encryptionKey?.reveal()).toEqual([KEY, OLD_KEY])
    const issues = issuesOf(() => configFromEnv({ ...env, MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY: 'short' }))
    expect(issues).toEqual([
      {
        path: 'MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY',
        message: 'must be 32 bytes as base64 (openssl rand -base64 32)',
      },
    ])
    expect(
      issuesOf(() =>
        configFromEnv({ MCP_SERVER_URL: env.MCP_SERVER_URL, MCP_OAUTH2_TOKEN_STORE_URL: 'redis://x' }),
      ),
    ).toEqual([{ path: 'MCP_OAUTH2_TOKEN_STORE_URL', message: 'is only used with MCP_OAUTH2_TOKEN_STORE' }])
  })
})

describe('tokenProvidersFromConfig with a token store', () => {
  const server = setupServer()
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())

  function tokenEndpoint() {
    let n = 0
    server.use(
      http.post('https://auth.example.test/token', () =>
        HttpResponse.json({ access_token: `token-${++n}`, token_type: 'Bearer', expires_in: 3600 }),
      ),
    )
    return () => n
  }

  it('type: memory gives the providers of one call one InMemoryTokenStore', async () => {
    // Two providers (their timeouts differ, so they are not shared) with the same client, scopes
    // and endpoint: the same token cache key, so one token with the store and two without.
    const file = (store: string) => `
mcp_config:
  default_oauth2: { token_url: https://auth.example.test/token, client_id: gateway, client_secret: s3cret }
${store}
mcp_servers:
  crm: { url: https://crm.example.test/mcp }
  tickets:
    url: https://tickets.example.test/mcp
    auth:
      oauth2: { token_url: https://auth.example.test/token, client_id: gateway, client_secret: s3cret, timeout_ms: 2000 }
`
    for (const [store, expected] of [
      ['', 2],
      ['  token_store: { type: memory }', 1],
    ] as const) {
      const requests = tokenEndpoint()
      const providers = tokenProvidersFromConfig(parseConfig(file(store)))
      expect(providers.get('crm')).not.toBe(providers.get('tickets'))
      await providers.get('crm')!.getToken()
      await providers.get('tickets')!.getToken()
      expect(requests()).toBe(expected)
    }
  })

  it('uses the store given, with the settings of the file', async () => {
    const requests = tokenEndpoint()
    const config = parseConfig(yaml('    type: memory\n    wait_ms: 4000\n    lock_ttl_ms: 9000'))
    const locks: number[] = []
    class Recording extends InMemoryTokenStore {
      override lock(key: string, owner: string, ttlMs: number, options?: TokenStoreOperationOptions) {
        locks.push(ttlMs)
        return super.lock(key, owner, ttlMs, options)
      }
    }
    const store = new Recording()
    const [a] = [...tokenProvidersFromConfig(config, { store }).values()]
    const [b] = [...tokenProvidersFromConfig(config, { store }).values()]
    await a!.getToken()
    await b!.getToken()
    expect(requests()).toBe(1)
    expect(locks).toEqual([9000])
  })

  it('type: redis without a store instance is a ConfigError that says where to get one', () => {
    const config = parseConfig(
      yaml(`    type: redis\n    url: redis://127.0.0.1:6379\n    encryption_key: ${KEY}`),
    )
    const issues = issuesOf(() => tokenProvidersFromConfig(config))
    expect(issues[0]?.path).toBe('mcp_config.token_store')
    expect(issues[0]?.message).toContain('redisTokenStoreFromConfig')
  })
})
