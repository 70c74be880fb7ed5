// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is the configuration syntax under test
// No credential over plain http from the other sources of a configuration: Redis urls, the
// environment and files; and static header values never print.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { configFromEnv } from '../src/config-from-env.js'
import { ConfigError, ErrorCode } from '../src/errors.js'
import { loadConfigFile } from '../src/node.js'
import { configErrorOf, expectInsecure } from './support/config-insecure.js'

const PLAIN = 'http://mcp.example/mcp'
const AS = 'https://as.example/token'
const seed = (url: string, server: Record<string, unknown>) => ({ mcp_servers: { s: { url, ...server } } })

describe('Redis urls with a password over plain redis:// to a non-loopback host', () => {
  const key = Buffer.alloc(32, 7).toString('base64')
  const tokenStore = (url: string) => ({
    mcp_config: { token_store: { type: 'redis', url, encryption_key: key } },
    mcp_servers: { s: { url: 'https://mcp.example/mcp' } },
  })
  const rateLimits = (url: string) => ({
    mcp_servers: { s: { url: 'https://mcp.example/mcp' } },
    rate_limits: { store: { type: 'redis', url }, user: '5/min' },
  })

  it.each([
    ['mcp_config.token_store.url', tokenStore],
    ['rate_limits.store.url', rateLimits],
  ] as const)(
    'refuses %s without echoing it, and allows loopback, rediss:// and no password',
    (path, doc) => {
      const err = configErrorOf(() => parseConfig(doc('redis://:redis-pw-leak-5@redis.example:6379/0')))
      expect(err.issues.map((i) => i.path)).toEqual([path])
      expect(`${err.message}${inspect(err)}`).not.toContain('redis-pw-leak-5')
      for (const ok of [
        'redis://:pw@127.0.0.1:6379',
        'redis://:pw@localhost:6379',
        'redis://:pw@[::1]:6379',
        'rediss://:pw@redis.example:6379',
        'redis://redis.example:6379',
      ])
        expect(() => parseConfig(doc(ok))).not.toThrow()
    },
  )
})

describe('configFromEnv', () => {
  const server = { MCP_SERVER_URL: PLAIN }
  const oauth2 = {
    MCP_OAUTH2_TOKEN_URL: AS,
    MCP_OAUTH2_CLIENT_ID: 'gw',
    MCP_OAUTH2_CLIENT_SECRET: 'cs-leak-1',
  }

  it.each([
    ['the bearer token', { ...server, ...oauth2 }],
    ['user cookies', { ...server, MCP_COOKIE_PASSTHROUGH: 'session_id' }],
    ['user headers', { ...server, MCP_HEADER_PASSTHROUGH: 'x-user-id' }],
    ['user cookies to a named server', { MCP_SERVER_CRM_URL: PLAIN, MCP_COOKIE_PASSTHROUGH: 'sid' }],
  ])('refuses %s over plain http to a non-loopback server, naming the variable', (_what, env) => {
    const path = 'MCP_SERVER_CRM_URL' in env ? 'MCP_SERVER_CRM_URL' : 'MCP_SERVER_URL'
    expectInsecure(() => configFromEnv(env), path)
  })

  it('refuses MCP_OAUTH2_TOKEN_URL over plain http to a non-loopback host', () => {
    expectInsecure(
      () =>
        configFromEnv({
          MCP_SERVER_URL: 'https://mcp.example/mcp',
          ...oauth2,
          MCP_OAUTH2_TOKEN_URL: 'http://as.example/t',
        }),
      'MCP_OAUTH2_TOKEN_URL',
    )
  })

  it('allows them with MCP_OAUTH2_ALLOW_INSECURE_HTTP=true, and on loopback', () => {
    const all = {
      ...server,
      ...oauth2,
      MCP_OAUTH2_TOKEN_URL: 'http://as.example/t',
      MCP_COOKIE_PASSTHROUGH: 'sid',
      MCP_HEADER_PASSTHROUGH: 'x-user-id',
    }
    const config = configFromEnv({ ...all, MCP_OAUTH2_ALLOW_INSECURE_HTTP: 'true' })
    expect(config.servers['default']).toMatchObject({
      allowInsecureHttp: true,
      oauth2: { allowInsecureHttp: true },
    })
    // OAuth2 off: the flag still allows passthrough to the server.
    expect(
      configFromEnv({ ...server, MCP_COOKIE_PASSTHROUGH: 'sid', MCP_OAUTH2_ALLOW_INSECURE_HTTP: 'true' })
        .servers['default']?.url,
    ).toBe(PLAIN)
    expect(
      configFromEnv({
        ...all,
        MCP_SERVER_URL: 'http://127.0.0.1:8080/mcp',
        MCP_OAUTH2_TOKEN_URL: 'http://localhost/t',
      }).servers['default']?.url,
    ).toBe('http://127.0.0.1:8080/mcp')
  })

  it('refuses MCP_OAUTH2_TOKEN_STORE_URL with a password over plain redis:// to a non-loopback host', () => {
    const err = configErrorOf(() =>
      configFromEnv({
        MCP_SERVER_URL: 'https://mcp.example/mcp',
        MCP_OAUTH2_TOKEN_STORE: 'redis',
        MCP_OAUTH2_TOKEN_STORE_URL: 'redis://:redis-pw-leak-5@redis.example:6379',
        MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      }),
    )
    expect(err.issues.map((i) => i.path)).toEqual(['MCP_OAUTH2_TOKEN_STORE_URL'])
    expect(`${err.message}${inspect(err)}`).not.toContain('redis-pw-leak-5')
  })
})

describe('static header values', () => {
  const docs = [
    ['seed headers', seed('https://mcp.example/mcp', { headers: { 'X-Api-Key': 'static-leak-4' } })],
    [
      'LiteLLM static_headers',
      seed('https://mcp.example/mcp', {
        auth_type: 'none',
        static_headers: { 'X-Api-Key': 'static-leak-4' },
      }),
    ],
  ] as const

  it.each(docs)('%s print as [redacted] in util.inspect and JSON.stringify', (_what, doc) => {
    const config = parseConfig(doc)
    const headers = config.servers['s']!.headers
    for (const printed of [
      inspect(config, { depth: 10 }),
      inspect(headers),
      JSON.stringify(config),
      JSON.stringify(headers),
      `${JSON.stringify(config.servers)}`,
    ]) {
      expect(printed).not.toContain('static-leak-4')
      expect(printed).toContain('x-api-key')
    }
    expect(JSON.parse(JSON.stringify(headers))).toEqual({ 'x-api-key': '[redacted]' })
    expect(inspect(headers)).toContain('[redacted]')
  })

  it.each(docs)(
    '%s stay a plain Record<string, string> for reading, iterating and spreading',
    (_what, doc) => {
      const headers = parseConfig(doc).servers['s']!.headers
      expect(headers['x-api-key']).toBe('static-leak-4')
      expect(Object.keys(headers)).toEqual(['x-api-key'])
      expect(Object.entries(headers)).toEqual([['x-api-key', 'static-leak-4']])
      expect({ ...headers }).toEqual({ 'x-api-key': 'static-leak-4' })
      expect(new Headers(headers).get('x-api-key')).toBe('static-leak-4')
    },
  )
})

describe('loadConfigFile', () => {
  it('refuses a file whose LiteLLM and seed servers would send credentials over plain http', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-insecure-'))
    try {
      const file = join(dir, 'config.yaml')
      writeFileSync(
        file,
        [
          'mcp_servers:',
          '  seed:',
          `    url: ${PLAIN}`,
          '    headers: { X-Api-Key: "${API_KEY}" }',
          '  litellm:',
          `    url: ${PLAIN}`,
          '    extra_headers: [x-user-id]',
          '  ok:',
          '    url: http://127.0.0.1:9/mcp',
          '    auth: { cookie_passthrough: [sid] }',
          '',
        ].join('\n'),
      )
      const err = await loadConfigFile(file, { env: { API_KEY: 'static-leak-4' } }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ConfigError)
      const configError = err as ConfigError
      expect(configError.file).toBe(file)
      expect(configError.issues.map((i) => i.path)).toEqual([
        'mcp_servers.seed.url',
        'mcp_servers.litellm.url',
      ])
      expect(configError.cause).toMatchObject({ code: ErrorCode.InsecureHttp })
      expect(`${configError.message}${inspect(configError, { depth: 5 })}`).not.toContain('static-leak-4')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
