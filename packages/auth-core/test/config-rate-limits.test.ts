// The top-level `rate_limits:` block of a config file: parsed by parseConfig / loadConfigFile
// into McpConfig.rateLimits, every problem a ConfigError issue with its path, the Redis URL a
// Secret that no error or inspect output shows.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ConfigError,
  ErrorCode,
  mcpConfigSchema,
  parseConfig,
  parseRateLimitsConfig,
  rateLimitsConfigSchema,
  Secret,
} from '../src/index.js'
import { loadConfigFile } from '../src/node.js'

const PASSWORD = 'rl-pass-7c2d'
/** A config file's `${NAME}` reference. */
const ref = (name: string) => `$\{${name}}`
const env = { REDIS_PASSWORD: PASSWORD }

function yaml(block: string): string {
  return `
mcp_servers:
  crm: { url: https://crm.example.test/mcp }
  tickets: { url: https://tickets.example.test/mcp }
rate_limits:
${block}
`
}

const FULL = `
  identify: { header: X-User-Id }
  user: 100/min
  global: { limit: 5000, window_seconds: 60 }
  tools:
    create_support_ticket: { limit: 5/10s, per_user: true }
    crm__export: 10/hour
    "*": 600/minute
  servers:
    crm: 1000/1m
    "*": { limit: 50, per_user: true }
  store:
    type: redis
    url: rediss://:${ref('REDIS_PASSWORD')}@redis.internal:6380/0
    key_prefix: gw:rl
    timeout_ms: 100
`

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('rate_limits in a config file', () => {
  it('normalises every key onto McpConfig.rateLimits, camelCase, the Redis URL a Secret', () => {
    const config = parseConfig(yaml(FULL), { env })
    expect(config.rateLimits).toEqual({
      identify: { header: 'x-user-id' },
      user: { limit: 100, windowSeconds: 60 },
      global: { limit: 5000, windowSeconds: 60 },
      tools: {
        create_support_ticket: { limit: 5, windowSeconds: 10, perUser: true },
        crm__export: { limit: 10, windowSeconds: 3600 },
        '*': { limit: 600, windowSeconds: 60 },
      },
      servers: {
        crm: { limit: 1000, windowSeconds: 60 },
        '*': { limit: 50, windowSeconds: 60, perUser: true },
      },
      store: { type: 'redis', url: expect.any(Secret), keyPrefix: 'gw:rl', timeoutMs: 100 },
    })
    expect(config.rateLimits?.store?.url?.reveal()).toBe(`rediss://:${PASSWORD}@redis.internal:6380/0`)
    expect(inspect(config, { depth: 20 })).not.toContain(PASSWORD)
    expect(JSON.stringify(config)).not.toContain(PASSWORD)
    // The normalised value is what the published zod schema describes.
    expect(mcpConfigSchema.safeParse(config).success).toBe(true)
    expect(rateLimitsConfigSchema.safeParse(config.rateLimits).success).toBe(true)
  })

  it('reads every limit form and unit; a memory store; no block, no rateLimits', () => {
    const config = parseConfig(
      yaml(`
  identify: { cookie: session_id }
  user: { limit: 2 }
  global: { limit: 1/day }
  tools: { a: 5/10s, b: "3 / 2 h", c: { limit: 7, window_seconds: 30, per_user: false }, d: 1/sec }
  store: { type: memory, key_prefix: x }
`),
      { env },
    )
    expect(config.rateLimits).toEqual({
      identify: { cookie: 'session_id' },
      user: { limit: 2, windowSeconds: 60 },
      global: { limit: 1, windowSeconds: 86_400 },
      tools: {
        a: { limit: 5, windowSeconds: 10 },
        b: { limit: 3, windowSeconds: 7200 },
        c: { limit: 7, windowSeconds: 30, perUser: false },
        d: { limit: 1, windowSeconds: 1 },
      },
      store: { type: 'memory', keyPrefix: 'x' },
    })
    const without = parseConfig('mcp_servers: { crm: { url: https://crm.example.test/mcp } }', { env })
    expect(without).not.toHaveProperty('rateLimits')
  })

  it('reads rate_limits beside a LiteLLM-shaped mcp_servers, and ignores LiteLLM keys it does not own', () => {
    const config = parseConfig(
      `
model_list: [{ model_name: gpt, litellm_params: { api_key: os.environ/NOT_SET } }]
mcp_servers:
  crm: { url: https://crm.example.test/mcp, auth_type: oauth2, client_id: gw, client_secret: s, token_url: https://auth.example.test/token }
rate_limits: { user: os.environ/USER_LIMIT, servers: { crm: 10/min } }
`,
      { env: { USER_LIMIT: '20/min' } },
    )
    expect(config.rateLimits).toEqual({
      user: { limit: 20, windowSeconds: 60 },
      servers: { crm: { limit: 10, windowSeconds: 60 } },
    })
  })

  it.each([
    ['a limit that is not <calls>/<window>', '  user: 100 per minute', 'rate_limits.user'],
    ['a bare number', '  user: 100', 'rate_limits.user'],
    ['a zero limit', '  global: { limit: 0 }', 'rate_limits.global.limit'],
    ['a fractional limit', '  user: { limit: 1.5 }', 'rate_limits.user.limit'],
    ['a zero window', '  user: { limit: 1, window_seconds: 0 }', 'rate_limits.user.window_seconds'],
    ['an unknown unit', '  user: 5/fortnight', 'rate_limits.user'],
    ['a zero count', '  user: 0/min', 'rate_limits.user'],
    [
      'window_seconds beside a <calls>/<window> limit',
      '  tools: { x: { limit: 5/min, window_seconds: 60 } }',
      'rate_limits.tools.x.window_seconds',
    ],
    [
      'per_user that is not a boolean',
      '  tools: { y: { limit: 1, per_user: maybe } }',
      'rate_limits.tools.y.per_user',
    ],
    ['per_user on the user limit', '  user: { limit: 1, per_user: true }', 'rate_limits.user.per_user'],
    ['per_user on the global limit', '  global: { limit: 1, per_user: true }', 'rate_limits.global.per_user'],
    ['tools that are not a mapping', '  tools: [a, b]', 'rate_limits.tools'],
    ['a reserved tool name', '  tools: { constructor: 1/min }', 'rate_limits.tools.constructor'],
    ['a server not under mcp_servers', '  servers: { crn: 1/min }', 'rate_limits.servers.crn'],
    ['both cookie and header', '  identify: { cookie: a, header: b }', 'rate_limits.identify'],
    ['neither cookie nor header', '  identify: {}', 'rate_limits.identify'],
    ['an unknown identify key', '  identify: { query: u }', 'rate_limits.identify.query'],
    ['an invalid cookie name', '  identify: { cookie: "a b" }', 'rate_limits.identify.cookie'],
    ['an unknown top-level key', '  stores: {}', 'rate_limits.stores'],
    ['an unknown limit key', '  user: { limit: 1, burst: 2 }', 'rate_limits.user.burst'],
    ['an unknown store type', '  store: { type: memcached }', 'rate_limits.store.type'],
    ['an unknown store key', '  store: { type: memory, ttl: 1 }', 'rate_limits.store.ttl'],
    ['a redis store without url', '  store: { type: redis }', 'rate_limits.store.url'],
    [
      'a url on a memory store',
      '  store: { type: memory, url: "redis://127.0.0.1" }',
      'rate_limits.store.url',
    ],
    ['an empty key_prefix', '  store: { type: memory, key_prefix: "" }', 'rate_limits.store.key_prefix'],
    ['a zero timeout_ms', '  store: { type: memory, timeout_ms: 0 }', 'rate_limits.store.timeout_ms'],
  ])('refuses %s with ERR_CONFIG at its path', (_, block, path) => {
    const error = configErrorOf(() => parseConfig(yaml(block), { env }))
    expect(error.code).toBe(ErrorCode.Config)
    expect(error.issues.map((i) => i.path)).toContain(path)
  })

  it('refuses a block that is not a mapping', () => {
    const error = configErrorOf(() =>
      parseConfig(yaml('  100/min').replace('\n  100/min', ' 100/min'), { env }),
    )
    expect(error.issues).toEqual([{ path: 'rate_limits', message: expect.any(String) }])
  })

  it.each([
    [`http://:${ref('REDIS_PASSWORD')}@redis.internal/`, 'must be a redis:// or rediss:// URL'],
    [`redis://:${ref('REDIS_PASSWORD')}@redis.internal:6379`, 'use rediss://'],
    [`not a url ${ref('REDIS_PASSWORD')}`, 'must be a redis:// or rediss:// URL'],
  ])('refuses the store url %s without ever showing it', (url, message) => {
    const error = configErrorOf(() => parseConfig(yaml(`  store: { type: redis, url: "${url}" }`), { env }))
    expect(error.issues).toEqual([
      { path: 'rate_limits.store.url', message: expect.stringContaining(message) },
    ])
    for (const text of [error.message, inspect(error, { depth: 20 }), JSON.stringify(error.issues)])
      expect(text).not.toContain(PASSWORD)
  })

  it('names an unset variable of the store url, not its value', () => {
    const error = configErrorOf(() =>
      parseConfig(yaml(`  store: { type: redis, url: "rediss://:${ref('NOT_SET')}@redis.internal" }`), {
        env,
      }),
    )
    expect(error.issues).toEqual([
      { path: 'rate_limits.store.url', message: expect.stringContaining('NOT_SET') },
    ])
  })

  it('reports every problem at once, beside those of mcp_servers', () => {
    const error = configErrorOf(() =>
      parseConfig(
        `
mcp_servers:
  crm: { url: not-a-url }
rate_limits:
  user: x
  servers: { other: 1/s }
  store: { type: redis, url: "http://:${PASSWORD}@h/" }
`,
        { env },
      ),
    )
    expect(error.issues.map((i) => i.path).sort()).toEqual(
      [
        'mcp_servers.crm.url',
        'rate_limits.servers.other',
        'rate_limits.store.url',
        'rate_limits.user',
      ].sort(),
    )
    expect(error.message).not.toContain(PASSWORD)
  })

  it('is read by loadConfigFile too, with the file named in the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-config-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))
    const good = join(dir, 'good.yaml')
    writeFileSync(good, yaml(`  user: 2/min\n  store: { type: redis, url: "${ref('REDIS_URL')}" }`))
    const config = await loadConfigFile(good, { env: { REDIS_URL: `rediss://:${PASSWORD}@r.internal` } })
    expect(config.rateLimits?.user).toEqual({ limit: 2, windowSeconds: 60 })
    expect(config.rateLimits?.store?.url?.reveal()).toBe(`rediss://:${PASSWORD}@r.internal`)
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, yaml('  user: 2/min\n  servers: { nope: 1/s }'))
    const error = (await loadConfigFile(bad, { env }).then(
      () => undefined,
      (e: unknown) => e,
    )) as ConfigError
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.file).toBe(bad)
    expect(error.issues.map((i) => i.path)).toEqual(['rate_limits.servers.nope'])
  })
})

describe('parseRateLimitsConfig (the block on its own)', () => {
  it('parses a block with its own env, and accepts any server name (no mcp_servers to check)', () => {
    expect(
      parseRateLimitsConfig(
        {
          servers: { anything: '1/s' },
          store: { type: 'redis', url: `rediss://:${ref('REDIS_PASSWORD')}@r.internal` },
        },
        { env },
      ),
    ).toEqual({
      servers: { anything: { limit: 1, windowSeconds: 1 } },
      store: { type: 'redis', url: expect.any(Secret) },
    })
  })

  it('needs no url for a redis store when the caller brings a client', () => {
    expect(parseRateLimitsConfig({ store: { type: 'redis' } }, { redisClient: true, env })).toEqual({
      store: { type: 'redis' },
    })
    const error = configErrorOf(() => parseRateLimitsConfig({ store: { type: 'redis' } }, { env }))
    expect(error.issues.map((i) => i.path)).toEqual(['rate_limits.store.url'])
  })

  it('throws ERR_CONFIG for a block that is not a mapping', () => {
    expect(configErrorOf(() => parseRateLimitsConfig('100/min', { env })).code).toBe(ErrorCode.Config)
  })
})
