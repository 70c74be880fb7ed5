// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is the configuration syntax under test
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { configFromEnv } from '../src/config-from-env.js'
import { ConfigError, type ConfigIssue } from '../src/errors.js'
import { NEVER_FORWARD_HEADERS } from '../src/header-filter.js'
import { Secret } from '../src/secret.js'
import { configErrorOf } from './support/config-insecure.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

/** KEY=VALUE lines, # comments. */
function envFixture(name: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const line of fixture(name).split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    env[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return env
}

const issuesOf = (fn: () => unknown): ConfigIssue[] => [...configErrorOf(fn).issues]
const pathsOf = (fn: () => unknown): string[] => issuesOf(fn).map((i) => i.path)

const SECRETS = { OAUTH2_CLIENT_SECRET: 'default-secret-1', BILLING_CLIENT_SECRET: 'billing-secret-2' }

/** A minimal valid seed server with its oauth2 overridden. */
function withOAuth2(oauth2: Record<string, unknown>): unknown {
  return { mcp_servers: { crm: { url: 'https://crm.example/mcp', auth: { oauth2 } } } }
}
const baseOAuth2 = { token_url: 'https://as.example/token', client_id: 'gw', client_secret: 'shh-value' }

describe('parseConfig: seed example (a), default_oauth2 with an override and an opt-out', () => {
  const config = parseConfig(fixture('seed-default-oauth2.yaml'), { env: SECRETS })

  it('applies default_oauth2 to a server without its own oauth2', () => {
    const server = config.servers['user_context_server']!
    expect(server).toMatchObject({
      name: 'user_context_server',
      url: 'https://user-mcp.company.com/mcp',
      transport: 'streamable-http',
      cookiePassthrough: { allow: ['session_id', 'user_id'] },
      headers: {},
    })
    expect(server.oauth2).toMatchObject({
      clientId: 'litellm-proxy',
      tokenUrl: 'https://auth.company.com/oauth2/token',
      scopes: ['mcp:read', 'mcp:write'],
    })
    expect(server.oauth2?.clientSecret?.reveal()).toBe('default-secret-1')
  })

  it('uses a server’s own oauth2 instead of the default, with a scope list and sse transport', () => {
    const server = config.servers['billing']!
    expect(server.transport).toBe('sse')
    expect(server.oauth2).toMatchObject({
      clientId: 'billing-gateway',
      tokenUrl: 'https://billing-auth.company.com/token',
      scopes: ['billing:read', 'billing:write'],
      tokenEndpointAuthMethod: 'client_secret_post',
    })
    expect(server.oauth2?.clientSecret?.reveal()).toBe('billing-secret-2')
    expect(server.headers).toEqual({ 'x-tenant': 'acme' })
  })

  it('gives a server with auth: none no oauth2 even when a default exists', () => {
    expect(config.servers['public_docs']).toEqual({
      name: 'public_docs',
      url: 'https://docs-mcp.company.com/mcp',
      transport: 'streamable-http',
      headers: {},
    })
  })

  it('opts out of the default with oauth2: none while keeping passthrough, and applies it with an empty auth', () => {
    const c = parseConfig(
      {
        mcp_config: {
          default_oauth2: { token_url: 'https://as.example/t', client_id: 'gw', client_secret: 's' },
        },
        mcp_servers: {
          cookies_only: {
            url: 'https://c.example/mcp',
            auth: { oauth2: 'none', cookie_passthrough: ['sid'] },
          },
          empty_auth: { url: 'https://e.example/mcp', transport: 'streamable-http', auth: {} },
        },
      },
      { env: {} },
    )
    expect(c.servers['cookies_only']?.oauth2).toBeUndefined()
    expect(c.servers['cookies_only']?.cookiePassthrough).toEqual({ allow: ['sid'] })
    expect(c.servers['empty_auth']?.oauth2?.clientId).toBe('gw')
    expect(c.servers['empty_auth']?.transport).toBe('streamable-http')
  })

  it('keeps servers in file order', () => {
    expect(Object.keys(config.servers)).toEqual(['user_context_server', 'billing', 'public_docs'])
  })

  it('reads the same document as JSON text or as a parsed object', () => {
    const fromJson = parseConfig(fixture('seed-default-oauth2.json'), { env: SECRETS })
    const fromObject = parseConfig(JSON.parse(fixture('seed-default-oauth2.json')), { env: SECRETS })
    expect(JSON.stringify(fromJson)).toBe(JSON.stringify(fromObject))
    expect(fromJson.servers['user_context_server']?.oauth2?.clientId).toBe('litellm-proxy')
  })
})

describe('parseConfig: seed example (b), discover: true', () => {
  const config = parseConfig(fixture('seed-discover.yaml'), { env: { CRM_CLIENT_SECRET: 'crm-secret' } })

  it('discovers from the server url (RFC 9728) instead of a token_url', () => {
    const oauth2 = config.servers['crm']?.oauth2
    expect(oauth2?.resourceServerUrl).toBe('https://crm-mcp.company.com/mcp')
    expect(oauth2?.tokenUrl).toBeUndefined()
    expect(oauth2?.issuer).toBeUndefined()
    expect(oauth2?.resource).toEqual(['https://crm-mcp.company.com/mcp'])
    expect(oauth2?.scopes).toEqual(['customer:read', 'ticket:create'])
  })

  it('lower-cases passthrough header names and keeps TLS paths as written', () => {
    const server = config.servers['crm']!
    expect(server.headerPassthrough).toEqual({ allow: ['x-request-id'] })
    expect(server.tls).toEqual({ caFile: 'certs/company-ca.pem' })
  })

  it('uses each server’s own url when default_oauth2 has discover: true', () => {
    const config = parseConfig({
      mcp_config: { default_oauth2: { discover: true, client_id: 'gw', client_secret: 's' } },
      mcp_servers: { a: { url: 'https://a.example/mcp' }, b: { url: 'https://b.example/mcp' } },
    })
    expect(config.servers['a']?.oauth2?.resourceServerUrl).toBe('https://a.example/mcp')
    expect(config.servers['b']?.oauth2?.resourceServerUrl).toBe('https://b.example/mcp')
  })
})

describe('configFromEnv: seed example (c), environment variables only', () => {
  const env = envFixture('seed-env.env')

  it('builds one client for every server from MCP_OAUTH2_* and servers from MCP_SERVER_*', () => {
    const config = configFromEnv(env)
    expect(Object.keys(config.servers)).toEqual(['user_context_server', 'tickets'])
    const main = config.servers['user_context_server']!
    expect(main).toMatchObject({
      url: 'https://user-mcp.company.com/mcp',
      transport: 'streamable-http',
      cookiePassthrough: { allow: ['session_id', 'user_id'] },
      oauth2: {
        clientId: 'litellm-proxy',
        tokenUrl: 'https://auth.company.com/oauth2/token',
        scopes: ['mcp:read', 'mcp:write'],
      },
    })
    expect(main.oauth2?.clientSecret?.reveal()).toBe('env-secret-value')
    expect(config.servers['tickets']).toMatchObject({
      url: 'https://tickets-mcp.company.com/sse',
      transport: 'sse',
    })
    expect(config.servers['tickets']?.oauth2?.clientId).toBe('litellm-proxy')
  })

  it('names the server "default" when MCP_SERVER_NAME is unset, and accepts comma-separated scopes', () => {
    const config = configFromEnv({
      MCP_OAUTH2_TOKEN_URL: 'https://as.example/token',
      MCP_OAUTH2_CLIENT_ID: 'gw',
      MCP_OAUTH2_CLIENT_SECRET: 's',
      MCP_OAUTH2_SCOPE: 'a,b c',
      MCP_SERVER_URL: 'https://mcp.example/mcp',
    })
    expect(config.servers['default']?.oauth2?.scopes).toEqual(['a', 'b', 'c'])
  })

  it('turns OAuth2 off when MCP_OAUTH2_ENABLED or LITELLM_ENABLE_OAUTH2_PATCH is false', () => {
    for (const flag of ['MCP_OAUTH2_ENABLED', 'LITELLM_ENABLE_OAUTH2_PATCH']) {
      const config = configFromEnv({ ...env, LITELLM_ENABLE_OAUTH2_PATCH: undefined, [flag]: 'false' })
      expect(config.servers['user_context_server']?.oauth2).toBeUndefined()
    }
  })

  it('runs without OAuth2 when no MCP_OAUTH2_* variable is set', () => {
    const config = configFromEnv({ MCP_SERVER_URL: 'http://127.0.0.1:3000/mcp' })
    expect(config.servers['default']).toEqual({
      name: 'default',
      url: 'http://127.0.0.1:3000/mcp',
      transport: 'streamable-http',
      headers: {},
    })
  })

  it('requires the credential variables when OAuth2 is switched on, naming each variable', () => {
    expect(
      pathsOf(() => configFromEnv({ MCP_OAUTH2_ENABLED: 'true', MCP_SERVER_URL: 'https://m.example/mcp' })),
    ).toEqual(['MCP_OAUTH2_CLIENT_ID', 'MCP_OAUTH2_CLIENT_SECRET', 'MCP_OAUTH2_TOKEN_URL'])
  })

  it('reports every bad variable at once, by variable name', () => {
    const issues = issuesOf(() =>
      configFromEnv({
        MCP_OAUTH2_ENABLED: 'maybe',
        MCP_OAUTH2_TOKEN_URL: 'not a url',
        MCP_OAUTH2_CLIENT_ID: 'gw',
        MCP_OAUTH2_CLIENT_SECRET: 'env-secret-value',
        MCP_SERVER_URL: 'ftp://x',
        MCP_SERVER_CRM_URL: 'https://crm.example/mcp',
        MCP_SERVER_CRM_TRANSPORT: 'websocket',
      }),
    )
    const paths = issues.map((i) => i.path)
    expect(paths).toContain('MCP_OAUTH2_ENABLED')
    expect(paths).toContain('MCP_OAUTH2_TOKEN_URL')
    expect(paths).toContain('MCP_SERVER_URL')
    expect(paths).toContain('MCP_SERVER_CRM_TRANSPORT')
    expect(JSON.stringify(issues)).not.toContain('env-secret-value')
  })

  it('reports contradicting MCP_OAUTH2_ENABLED and LITELLM_ENABLE_OAUTH2_PATCH', () => {
    expect(pathsOf(() => configFromEnv({ ...env, MCP_OAUTH2_ENABLED: 'false' }))).toEqual([
      'MCP_OAUTH2_ENABLED',
    ])
  })

  it('reports two variables naming the same server', () => {
    expect(
      pathsOf(() =>
        configFromEnv({
          MCP_SERVER_URL: 'https://a.example/mcp',
          MCP_SERVER_DEFAULT_URL: 'https://b.example/mcp',
        }),
      ),
    ).toEqual(['MCP_SERVER_DEFAULT_URL'])
  })

  it('requires at least one server url', () => {
    expect(pathsOf(() => configFromEnv({}))).toEqual(['MCP_SERVER_URL'])
  })
})

describe('parseConfig: LiteLLM config.yaml', () => {
  const env = { MCP_CLIENT_ID: 'litellm-m2m', MCP_CLIENT_SECRET: 'litellm-secret-3' }
  const config = parseConfig(fixture('litellm-config.yaml'), { env })

  it('reads auth_type: oauth2 servers with os.environ/ references, scopes and headers', () => {
    const server = config.servers['github_m2m']!
    expect(server).toMatchObject({
      url: 'https://api.example-mcp.com/mcp',
      transport: 'streamable-http',
      headerPassthrough: { allow: ['x-request-id'] },
      headers: { 'x-team': 'platform' },
      oauth2: {
        clientId: 'litellm-m2m',
        tokenUrl: 'https://auth.example.com/oauth/token',
        scopes: ['tool.read', 'tool.write'],
      },
    })
    expect(server.oauth2?.clientSecret?.reveal()).toBe('litellm-secret-3')
  })

  it('ignores the rest of the LiteLLM file and LiteLLM’s descriptive server keys', () => {
    expect(Object.keys(config.servers)).toEqual(['github_m2m', 'legacy_sse', 'wiki'])
  })

  it('infers sse from a /sse url when transport is omitted, and auth_type: none means no oauth2', () => {
    expect(config.servers['legacy_sse']).toEqual({
      name: 'legacy_sse',
      url: 'https://legacy.example.com/sse',
      transport: 'sse',
      headers: {},
    })
  })

  it('neither validates nor interpolates the rest of a LiteLLM file', () => {
    // The fixture's model_list and general_settings reference OPENAI_API_KEY and LITELLM_MASTER_KEY, unset here.
    expect(Object.keys(parseConfig(fixture('litellm-config.yaml'), { env }).servers)).toHaveLength(3)
  })

  it('reports unsupported LiteLLM features precisely', () => {
    const issues = issuesOf(() =>
      parseConfig({
        mcp_servers: {
          stdio: {
            command: 'npx',
            args: ['server'],
            transport: 'stdio',
            auth_type: 'none',
            url: 'https://x.example',
          },
          interactive: {
            url: 'https://i.example/mcp',
            auth_type: 'oauth2',
            client_id: 'c',
            client_secret: 's',
          },
          pkce: {
            url: 'https://p.example/mcp',
            auth_type: 'oauth2',
            oauth2_flow: 'authorization_code',
            token_url: 'https://as/t',
            client_id: 'c',
            client_secret: 's',
          },
          apikey: { url: 'https://k.example/mcp', auth_type: 'api_key' },
          stray: { url: 'https://s.example/mcp', auth_type: 'none', client_id: 'c' },
        },
      }),
    )
    expect(issues.map((i) => i.path)).toEqual([
      'mcp_servers.stdio.command',
      'mcp_servers.stdio.args',
      'mcp_servers.stdio.transport',
      'mcp_servers.interactive.token_url',
      'mcp_servers.pkce.oauth2_flow',
      'mcp_servers.apikey.auth_type',
      'mcp_servers.stray.client_id',
    ])
  })

  it('names the variable and the path when an os.environ/ reference is unset', () => {
    const issues = issuesOf(() => parseConfig(fixture('litellm-config.yaml'), { env: {} }))
    expect(issues).toContainEqual({
      path: 'mcp_servers.github_m2m.client_secret',
      message: expect.stringContaining('MCP_CLIENT_SECRET'),
    })
  })
})

describe('parseConfig: environment interpolation', () => {
  const doc = (value: string) => withOAuth2({ ...baseOAuth2, client_id: value })
  const clientId = (value: string, env: Record<string, string>) =>
    parseConfig(doc(value), { env }).servers['crm']?.oauth2?.clientId

  it('replaces ${VAR} and ${VAR:-default} inside strings', () => {
    expect(clientId('${A}-${B:-fallback}', { A: 'x' })).toBe('x-fallback')
    expect(clientId('${A:-fallback}', { A: '' })).toBe('fallback')
    expect(clientId('${A:-fallback}', { A: 'set' })).toBe('set')
  })

  it('keeps $${ as a literal ${ and a lone $ as is', () => {
    expect(clientId('$${A}-$5', {})).toBe('${A}-$5')
  })

  it('reports an unset variable with its name and path, never as an empty string', () => {
    expect(issuesOf(() => parseConfig(doc('${MISSING_ID}'), { env: {} }))).toEqual([
      { path: 'mcp_servers.crm.auth.oauth2.client_id', message: expect.stringContaining('MISSING_ID') },
    ])
  })

  it('reports every unset variable in one value, and malformed references', () => {
    const issues = issuesOf(() => parseConfig(doc('${A}${B}${not-a-name}${C'), { env: {} }))
    expect(issues.map((i) => i.message).join('\n')).toMatch(/A[\s\S]*B[\s\S]*not-a-name/)
    expect(issuesOf(() => parseConfig(doc('abc${C'), { env: {} }))[0]?.message).toContain('unterminated')
  })

  it('interpolates into booleans and numbers written as references', () => {
    const config = parseConfig(
      withOAuth2({ ...baseOAuth2, timeout_ms: '${T}', allow_insecure_http: '${I}' }),
      {
        env: { T: '2500', I: 'false' },
      },
    )
    expect(config.servers['crm']?.oauth2).toMatchObject({ timeoutMs: 2500, allowInsecureHttp: false })
  })

  it('reads process.env when no env is given', () => {
    process.env['MCP_OAUTH2_KIT_TEST_ID'] = 'from-process'
    try {
      expect(parseConfig(doc('${MCP_OAUTH2_KIT_TEST_ID}')).servers['crm']?.oauth2?.clientId).toBe(
        'from-process',
      )
    } finally {
      delete process.env['MCP_OAUTH2_KIT_TEST_ID']
    }
  })
})

describe('parseConfig: error paths', () => {
  it("reports a YAML alias bomb as a ConfigError, not yaml's own error", () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i)
      const name = String.fromCharCode(97 + i)
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`)
    }
    const bomb = `${levels.join('\n')}\nmcp_servers: { s: { url: https://x.example/mcp } }\n`
    let error: unknown
    try {
      parseConfig(bomb, { env: {} })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues).toEqual([
      { path: '(document)', message: expect.stringContaining('aliases expand too far') },
    ])
  })

  it('rejects a document that is not a mapping or has no mcp_servers', () => {
    expect(pathsOf(() => parseConfig(42))).toEqual(['(root)'])
    expect(pathsOf(() => parseConfig({ model_list: [] }))).toEqual(['mcp_servers'])
    expect(pathsOf(() => parseConfig({ mcp_servers: [] }))).toEqual(['mcp_servers'])
  })

  it('treats __proto__ and other reserved names as bad keys, not as prototypes', () => {
    expect(pathsOf(() => parseConfig('mcp_servers:\n  __proto__: { url: https://a.example/mcp }\n'))).toEqual(
      ['mcp_servers.__proto__'],
    )
    expect(
      pathsOf(() => parseConfig({ mcp_servers: { constructor: { url: 'https://a.example/mcp' } } })),
    ).toEqual(['mcp_servers.constructor'])
    expect(
      pathsOf(() =>
        parseConfig('mcp_servers:\n  a:\n    url: https://a.example/mcp\n    __proto__: { x: 1 }\n'),
      ),
    ).toEqual(['mcp_servers.a.__proto__'])
    expect(pathsOf(() => configFromEnv({ MCP_SERVER___PROTO___URL: 'https://a.example/mcp' }))).toEqual([
      'MCP_SERVER___PROTO___URL',
    ])
  })

  it('reports YAML syntax errors by line and column without quoting the text', () => {
    const err = configErrorOf(() =>
      parseConfig('mcp_servers:\n  a: {url: "x\n  client_secret: hunter2-leak: x: y\n'),
    )
    expect(err.issues[0]?.path).toMatch(/^\(line \d+, column \d+\)$/)
    expect(err.message).not.toContain('hunter2-leak')
  })

  it('reports duplicate keys', () => {
    expect(
      issuesOf(() => parseConfig('mcp_servers:\n  a: {url: https://a/}\n  a: {url: https://b/}\n'))[0]
        ?.message,
    ).toContain('DUPLICATE_KEY')
  })

  it('lists every problem of a server with its dotted path', () => {
    const issues = issuesOf(() =>
      parseConfig({
        mcp_servers: {
          crm: {
            url: 'ftp://crm',
            transprt: 'sse',
            transport: 'websocket',
            headers: { 'Bad Header': 'x' },
            tls: { cert_file: 'c.pem' },
            auth: {
              oauth2: { token_url: 'https://as/t', issuer: 'https://as', client_id: 7 },
              cookie_passthrough: { enabled: 'perhaps', cookie_names: ['ok', 'bad;name'] },
            },
          },
        },
      }),
    )
    expect(issues.map((i) => i.path).sort()).toEqual(
      [
        'mcp_servers.crm.auth.cookie_passthrough.cookie_names[1]',
        'mcp_servers.crm.auth.cookie_passthrough.enabled',
        'mcp_servers.crm.auth.oauth2', // token_url and issuer both set
        'mcp_servers.crm.auth.oauth2', // no credential
        'mcp_servers.crm.auth.oauth2.client_id',
        'mcp_servers.crm.headers.Bad Header',
        'mcp_servers.crm.transport',
        'mcp_servers.crm.transprt',
        'mcp_servers.crm.url',
      ].sort(),
    )
  })

  it('reports problems in several servers and in mcp_config at once', () => {
    const paths = pathsOf(() =>
      parseConfig({
        mcp_config: { default_oauth2: { client_id: 'gw' }, extra: 1 },
        mcp_servers: { a: { url: 'https://a/mcp' }, 'b c': { url: 'https://b/mcp' }, d: 'https://d/mcp' },
      }),
    )
    expect(paths).toEqual([
      'mcp_config.extra',
      'mcp_config.default_oauth2', // no endpoint
      'mcp_config.default_oauth2', // no credential
      'mcp_servers.b c',
      'mcp_servers.d',
    ])
  })

  it.each([
    [{ client_id: 'gw', client_secret: 's' }, 'mcp_servers.crm.auth.oauth2', 'needs one of token_url'],
    [{ ...baseOAuth2, discover: true }, 'mcp_servers.crm.auth.oauth2', 'mutually exclusive'],
    [
      { token_url: 'https://as/t', client_id: 'gw' },
      'mcp_servers.crm.auth.oauth2',
      'needs one of client_secret',
    ],
    [{ ...baseOAuth2, private_key_file: 'k.pem' }, 'mcp_servers.crm.auth.oauth2', 'mutually exclusive'],
    [
      { ...baseOAuth2, token_endpoint_auth_method: 'private_key_jwt' },
      'mcp_servers.crm.auth.oauth2.token_endpoint_auth_method',
      'private_key',
    ],
    [
      {
        ...baseOAuth2,
        client_secret: undefined,
        private_key_file: 'k.pem',
        token_endpoint_auth_method: 'client_secret_basic',
      },
      'mcp_servers.crm.auth.oauth2.token_endpoint_auth_method',
      'client_secret',
    ],
    [{ ...baseOAuth2, private_key_id: 'k1' }, 'mcp_servers.crm.auth.oauth2.private_key_id', 'only applies'],
    [
      { ...baseOAuth2, token_url: 'http://as.example/token' },
      'mcp_servers.crm.auth.oauth2.token_url',
      'plain http',
    ],
    [
      { ...baseOAuth2, token_endpoint_auth_method: 'tls_client_auth' },
      'mcp_servers.crm.auth.oauth2.token_endpoint_auth_method',
      'must be one of',
    ],
    [{ ...baseOAuth2, scope: 42 }, 'mcp_servers.crm.auth.oauth2.scope', ''],
    [{ ...baseOAuth2, timeout_ms: 0 }, 'mcp_servers.crm.auth.oauth2.timeout_ms', 'at least 1'],
    [{ ...baseOAuth2, client_secret: '' }, 'mcp_servers.crm.auth.oauth2.client_secret', 'empty'],
    [{ ...baseOAuth2, colour: 'blue' }, 'mcp_servers.crm.auth.oauth2.colour', 'unknown key'],
  ])('rejects oauth2 %j at %s', (oauth2, path, message) => {
    const issues = issuesOf(() => parseConfig(withOAuth2(oauth2)))
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) })
  })

  it('rejects private keys that are not PKCS#8 PEM or private JWKs, without echoing them', () => {
    const cases: [unknown, string][] = [
      ['-----BEGIN RSA PRIVATE KEY-----\nleak-me\n-----END RSA PRIVATE KEY-----', 'openssl pkcs8'],
      ['just-some-leak-me-text', 'PKCS#8'],
      ['{"kty": "EC", "leak-me": ', 'not valid JSON'],
      ['{"kty":"EC","x":"leak-me"}', 'public JWK'],
      [{ x: 'leak-me' }, 'no kty'],
    ]
    for (const [key, message] of cases) {
      const oauth2 = { token_url: 'https://as/t', client_id: 'gw', private_key: key }
      const err = configErrorOf(() => parseConfig(withOAuth2(oauth2)))
      expect(err.issues).toContainEqual({
        path: 'mcp_servers.crm.auth.oauth2.private_key',
        message: expect.stringContaining(message),
      })
      expect(err.message).not.toContain('leak-me')
    }
  })

  it('accepts a private JWK as a mapping or JSON text, and a PEM', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }
    for (const key of [jwk, JSON.stringify(jwk)]) {
      const oauth2 = parseConfig(withOAuth2({ token_url: 'https://as/t', client_id: 'gw', private_key: key }))
        .servers['crm']?.oauth2
      expect(oauth2?.privateKey?.reveal()).toEqual(jwk)
    }
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n'
    const oauth2 = parseConfig(withOAuth2({ token_url: 'https://as/t', client_id: 'gw', private_key: pem }))
      .servers['crm']?.oauth2
    expect(oauth2?.privateKey?.reveal()).toBe(pem)
  })

  it('refuses a bearer token over plain http to a non-loopback server, and allows loopback', () => {
    const server = (url: string, extra = {}) => ({
      mcp_servers: { s: { url, auth: { oauth2: { ...baseOAuth2, ...extra } } } },
    })
    expect(pathsOf(() => parseConfig(server('http://mcp.example/mcp')))).toEqual(['mcp_servers.s.url'])
    expect(parseConfig(server('http://127.0.0.1:8080/mcp')).servers['s']?.url).toBe(
      'http://127.0.0.1:8080/mcp',
    )
    expect(
      parseConfig(server('http://mcp.example/mcp', { allow_insecure_http: true })).servers['s']?.oauth2
        ?.allowInsecureHttp,
    ).toBe(true)
    // Without oauth2 no credential is sent, so plain http is fine.
    expect(parseConfig({ mcp_servers: { s: { url: 'http://mcp.example/mcp' } } }).servers['s']?.url).toBe(
      'http://mcp.example/mcp',
    )
  })

  it('checks passthrough settings with the cookie and header filters’ own rules', () => {
    const server = (auth: unknown) => ({ mcp_servers: { s: { url: 'https://s/mcp', auth } } })
    expect(pathsOf(() => parseConfig(server({ header_passthrough: ['Authorization'] })))).toEqual([
      'mcp_servers.s.auth.header_passthrough',
    ])
    expect(pathsOf(() => parseConfig(server({ header_passthrough: { header_names: [] } })))).toEqual([
      'mcp_servers.s.auth.header_passthrough',
    ])
    expect(pathsOf(() => parseConfig(server({ cookie_passthrough: { enabled: true } })))).toEqual([
      'mcp_servers.s.auth.cookie_passthrough',
    ])
    const ok = parseConfig(
      server({
        cookie_passthrough: { cookie_names: ['sid'], cookie_prefixes: ['pref_'] },
        header_passthrough: { header_names: ['X-User-*'], rename: { 'X-Upstream-Auth': 'Authorization' } },
      }),
    ).servers['s']
    expect(ok?.cookiePassthrough).toEqual({ allow: ['sid'], allowPrefixes: ['pref_'] })
    expect(ok?.headerPassthrough).toEqual({
      allow: ['x-user-*'],
      rename: { 'x-upstream-auth': 'authorization' },
    })
    const off = parseConfig(
      server({ cookie_passthrough: { enabled: false }, header_passthrough: { enabled: 'false' } }),
    ).servers['s']
    expect(off?.cookiePassthrough).toBeUndefined()
    expect(off?.headerPassthrough).toBeUndefined()
  })

  it('rejects static headers that conflict with oauth2 or are hop-by-hop', () => {
    const issues = issuesOf(() =>
      parseConfig({
        mcp_servers: {
          s: {
            url: 'https://s/mcp',
            headers: { Authorization: 'Bearer x', Host: 'h' },
            auth: { oauth2: baseOAuth2 },
          },
        },
      }),
    )
    expect(issues.map((i) => i.path)).toEqual([
      'mcp_servers.s.headers.Authorization',
      'mcp_servers.s.headers.Host',
    ])
    expect(JSON.stringify(issues)).not.toContain('Bearer x')
  })

  it('refuses every never-forwarded header as a static header, but cookie', () => {
    const headers = Object.fromEntries(
      [...NEVER_FORWARD_HEADERS, 'proxy-authorization', 'cookie', 'x-static'].map((name) => [name, 'v']),
    )
    const issues = issuesOf(() => parseConfig({ mcp_servers: { s: { url: 'https://s/mcp', headers } } }))
    expect(issues.map((i) => i.path)).toEqual(
      [...NEVER_FORWARD_HEADERS, 'proxy-authorization']
        .filter((name) => name !== 'cookie')
        .map((name) => `mcp_servers.s.headers.${name}`),
    )
  })

  it('reports LiteLLM keys mixed into a seed-shaped server', () => {
    expect(
      pathsOf(() => parseConfig({ mcp_servers: { s: { url: 'https://s/mcp', auth: {}, client_id: 'c' } } })),
    ).toEqual(['mcp_servers.s.client_id'])
  })

  it('names the file in ConfigError when given one', () => {
    const err = configErrorOf(() => parseConfig({ mcp_servers: { s: {} } }, { file: 'gateway.yaml' }))
    expect(err.file).toBe('gateway.yaml')
    expect(err.code).toBe('ERR_CONFIG')
    expect(err.message).toContain('gateway.yaml')
    expect(err.issues).toEqual([{ path: 'mcp_servers.s.url', message: expect.any(String) }])
  })
})

describe('secret hygiene of parsed configuration', () => {
  const SECRET = 'never-print-this-3f9a'
  const config = parseConfig(withOAuth2({ ...baseOAuth2, client_secret: '${S}' }), { env: { S: SECRET } })

  it('wraps client secrets and private keys in Secret', () => {
    expect(config.servers['crm']?.oauth2?.clientSecret).toBeInstanceOf(Secret)
  })

  it('shows [redacted] in JSON.stringify, util.inspect, String() and template literals', () => {
    const oauth2 = config.servers['crm']?.oauth2
    expect(JSON.stringify(config)).not.toContain(SECRET)
    expect(JSON.stringify(config)).toContain('[redacted]')
    expect(inspect(config, { depth: 20 })).not.toContain(SECRET)
    expect(inspect(config, { depth: 20 })).toContain('[redacted]')
    expect(String(oauth2?.clientSecret)).toBe('[redacted]')
    expect(`${oauth2?.clientSecret}`).toBe('[redacted]')
  })

  it('never puts a secret value into error messages or issues', () => {
    const values = [
      { ...baseOAuth2, client_secret: SECRET, client_id: { nested: SECRET } },
      { ...baseOAuth2, client_secret: SECRET, private_key: SECRET },
      { ...baseOAuth2, client_secret: [SECRET] },
      { ...baseOAuth2, client_secret: SECRET, token_endpoint_auth_method: SECRET },
      { ...baseOAuth2, token_url: SECRET },
    ]
    for (const oauth2 of values) {
      const err = configErrorOf(() => parseConfig(withOAuth2(oauth2)))
      expect(err.message).not.toContain(SECRET)
      expect(JSON.stringify(err.issues)).not.toContain(SECRET)
      expect(inspect(err, { depth: 20 })).not.toContain(SECRET)
    }
  })
})
