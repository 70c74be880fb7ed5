// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is the configuration syntax under test
// Issue #13 item 2, the configuration's side: no credential of any kind goes over plain http to
// a host that is not loopback without allow_insecure_http, in the seed shape, LiteLLM's shape and
// the environment alike (ERR_INSECURE_HTTP), and static header values never print.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { configFromEnv } from '../src/config-from-env.js'
import { AuthCoreError, ConfigError, ErrorCode } from '../src/errors.js'
import { loadConfigFile } from '../src/node.js'

/** The ConfigError `fn` throws. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

/** Every value below that is secret: none may appear in an error, its issues or its cause. */
const SECRET_VALUES = [
  'cs-leak-1',
  'assertion-leak-2',
  'idp-secret-leak-3',
  'static-leak-4',
  'redis-pw-leak-5',
  'jag-secret-leak-6',
]

/** An insecure-http refusal: at `path`, with the code in its message and as the error's cause. */
function expectInsecure(fn: () => unknown, path: string): ConfigError {
  const err = configErrorOf(fn)
  expect(err.issues).toContainEqual({ path, message: expect.stringContaining(ErrorCode.InsecureHttp) })
  expect(err.cause).toBeInstanceOf(AuthCoreError)
  expect(err.cause).toMatchObject({ code: ErrorCode.InsecureHttp })
  expect((err.cause as Error).message).toContain(path)
  const printed = [err.message, JSON.stringify(err.issues), inspect(err, { depth: 5 })].join('\n')
  for (const secret of SECRET_VALUES) expect(printed).not.toContain(secret)
  return err
}

const PLAIN = 'http://mcp.example/mcp'
const LOOPBACK = [
  'http://127.0.0.1:8080/mcp',
  'http://127.9.9.9/mcp',
  'http://localhost:3000/mcp',
  'http://[::1]:8080/mcp',
]
const AS = 'https://as.example/token'
const clientCredentials = { token_url: AS, client_id: 'gw', client_secret: 'cs-leak-1' }
const jwtBearer = { grant_type: 'jwt_bearer', token_url: AS, client_id: 'gw', assertion: 'assertion-leak-2' }
const tokenExchange = {
  grant_type: 'token_exchange',
  token_url: AS,
  client_id: 'gw',
  client_secret: 'cs-leak-1',
}
const idJag = {
  grant_type: 'id_jag',
  token_url: AS,
  client_id: 'gw',
  client_secret: 'cs-leak-1',
  idp: { token_url: 'https://idp.example/token', client_id: 'gw-idp', client_secret: 'idp-secret-leak-3' },
}

/** Seed-shaped servers, each sending one kind of credential to its url. */
const SEED_KINDS: [string, Record<string, unknown>][] = [
  ['oauth2 client credentials', { auth: { oauth2: clientCredentials } }],
  ['oauth2 jwt-bearer', { auth: { oauth2: jwtBearer } }],
  ['user_token token exchange', { auth: { user_token: tokenExchange } }],
  ['user_token ID-JAG', { auth: { user_token: idJag } }],
  ['cookie passthrough', { auth: { cookie_passthrough: ['session_id'] } }],
  ['header passthrough', { auth: { header_passthrough: ['x-user-id'] } }],
  [
    'a header renamed to authorization',
    { auth: { header_passthrough: { rename: { 'x-user-token': 'authorization' } } } },
  ],
  ['static headers', { headers: { 'X-Api-Key': 'static-leak-4' } }],
  ['static headers with auth: none', { auth: 'none', headers: { 'X-Api-Key': 'static-leak-4' } }],
]

/** LiteLLM-shaped servers, each sending one kind of credential to its url. */
const LITELLM_KINDS: [string, Record<string, unknown>][] = [
  ['auth_type oauth2 (client credentials)', { auth_type: 'oauth2', ...clientCredentials }],
  [
    'auth_type oauth2, oauth2_flow jwt_bearer',
    {
      auth_type: 'oauth2',
      oauth2_flow: 'jwt_bearer',
      token_url: AS,
      client_id: 'gw',
      assertion: 'assertion-leak-2',
    },
  ],
  [
    'auth_type oauth2_token_exchange',
    {
      auth_type: 'oauth2_token_exchange',
      token_exchange_endpoint: AS,
      client_id: 'gw',
      client_secret: 'cs-leak-1',
    },
  ],
  [
    'auth_type oauth2_id_jag',
    {
      auth_type: 'oauth2_id_jag',
      token_exchange_endpoint: 'https://idp.example/token',
      client_id: 'gw-idp',
      client_secret: 'idp-secret-leak-3',
      id_jag_resource_token_endpoint: AS,
      id_jag_client_id: 'gw',
      id_jag_client_secret: 'jag-secret-leak-6',
    },
  ],
  ['extra_headers (header passthrough)', { extra_headers: ['x-user-id'] }],
  ['static_headers', { auth_type: 'none', static_headers: { 'X-Api-Key': 'static-leak-4' } }],
]

const seed = (url: string, server: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  ...top,
  mcp_servers: { s: { url, ...server } },
})

describe('a server url over plain http that would receive a credential', () => {
  describe.each([
    ['seed shape', SEED_KINDS],
    ['LiteLLM shape', LITELLM_KINDS],
  ] as const)('%s', (_shape, kinds) => {
    it.each(kinds)('refuses %s to a non-loopback host, at mcp_servers.s.url', (_kind, server) => {
      expectInsecure(() => parseConfig(seed(PLAIN, server)), 'mcp_servers.s.url')
    })

    it.each(kinds)('allows %s to loopback hosts', (_kind, server) => {
      for (const url of LOOPBACK) expect(parseConfig(seed(url, server)).servers['s']?.url).toBe(url)
    })

    it.each(kinds)('allows %s with the server’s allow_insecure_http: true', (_kind, server) => {
      const config = parseConfig(seed(PLAIN, { ...server, allow_insecure_http: true }))
      expect(config.servers['s']).toMatchObject({ url: PLAIN, allowInsecureHttp: true })
    })

    it.each(kinds)('allows %s over https', (_kind, server) => {
      expect(parseConfig(seed('https://mcp.example/mcp', server)).servers['s']?.url).toBe(
        'https://mcp.example/mcp',
      )
    })
  })

  it('refuses the default_oauth2 bearer token to a server that names no auth', () => {
    expectInsecure(
      () => parseConfig(seed(PLAIN, {}, { mcp_config: { default_oauth2: clientCredentials } })),
      'mcp_servers.s.url',
    )
  })

  it('lets the client’s allow_insecure_http allow its server’s url (seed shape)', () => {
    for (const auth of [
      { oauth2: { ...clientCredentials, allow_insecure_http: true }, cookie_passthrough: ['sid'] },
      { user_token: { ...tokenExchange, allow_insecure_http: 'true' }, header_passthrough: ['x-user-id'] },
    ]) {
      expect(parseConfig(seed(PLAIN, { auth })).servers['s']?.url).toBe(PLAIN)
    }
  })

  it('names every credential kind in the issue, never a value', () => {
    const err = expectInsecure(
      () =>
        parseConfig(
          seed(PLAIN, {
            auth: { cookie_passthrough: ['sid'], header_passthrough: { rename: { 'x-t': 'authorization' } } },
            headers: { 'x-api-key': 'static-leak-4' },
          }),
        ),
      'mcp_servers.s.url',
    )
    expect(err.issues[0]?.message).toMatch(
      /user cookies, user headers \(one as authorization\), static headers/,
    )
  })

  it('accepts plain http to a server with no credential at all', () => {
    for (const server of [{}, { auth: 'none' }, { transport: 'sse' }, { auth: { oauth2: 'none' } }]) {
      expect(parseConfig(seed(PLAIN, server)).servers['s']?.url).toBe(PLAIN)
    }
    // LiteLLM's shape, read as such because of auth_type.
    expect(parseConfig(seed(PLAIN, { auth_type: 'none' })).servers['s']?.url).toBe(PLAIN)
  })
})

describe('an authorization-server url over plain http that would receive a credential', () => {
  const plainAs = 'http://as.example/token'
  const SEED_AS: [string, Record<string, unknown>, string][] = [
    [
      'oauth2 token_url (client secret)',
      { auth: { oauth2: { ...clientCredentials, token_url: plainAs } } },
      'mcp_servers.s.auth.oauth2.token_url',
    ],
    [
      'oauth2 issuer (client secret)',
      { auth: { oauth2: { ...clientCredentials, token_url: undefined, issuer: 'http://as.example' } } },
      'mcp_servers.s.auth.oauth2.issuer',
    ],
    [
      'oauth2 jwt-bearer token_url (assertion)',
      { auth: { oauth2: { ...jwtBearer, token_url: plainAs } } },
      'mcp_servers.s.auth.oauth2.token_url',
    ],
    [
      'user_token token_url (subject token)',
      { auth: { user_token: { ...tokenExchange, token_url: plainAs } } },
      'mcp_servers.s.auth.user_token.token_url',
    ],
    [
      'user_token issuer',
      { auth: { user_token: { ...tokenExchange, token_url: undefined, issuer: 'http://as.example' } } },
      'mcp_servers.s.auth.user_token.issuer',
    ],
    [
      'user_token with auth method none (the subject token alone)',
      {
        auth: {
          user_token: {
            ...tokenExchange,
            client_secret: undefined,
            token_endpoint_auth_method: 'none',
            token_url: plainAs,
          },
        },
      },
      'mcp_servers.s.auth.user_token.token_url',
    ],
    [
      'user_token ID-JAG idp.token_url (ID token, IdP secret)',
      { auth: { user_token: { ...idJag, idp: { ...idJag.idp, token_url: plainAs } } } },
      'mcp_servers.s.auth.user_token.idp.token_url',
    ],
    [
      'user_token ID-JAG idp.issuer',
      {
        auth: {
          user_token: { ...idJag, idp: { ...idJag.idp, token_url: undefined, issuer: 'http://idp.example' } },
        },
      },
      'mcp_servers.s.auth.user_token.idp.issuer',
    ],
  ]
  const LITELLM_AS: [string, Record<string, unknown>, string][] = [
    [
      'oauth2 token_url (client secret)',
      { auth_type: 'oauth2', ...clientCredentials, token_url: plainAs },
      'mcp_servers.s.token_url',
    ],
    [
      'oauth2 jwt_bearer token_url (assertion)',
      {
        auth_type: 'oauth2',
        oauth2_flow: 'jwt_bearer',
        token_url: plainAs,
        client_id: 'gw',
        assertion: 'assertion-leak-2',
      },
      'mcp_servers.s.token_url',
    ],
    [
      'oauth2_token_exchange token_exchange_endpoint',
      { ...LITELLM_KINDS[2]![1], token_exchange_endpoint: plainAs },
      'mcp_servers.s.token_exchange_endpoint',
    ],
    [
      'oauth2_id_jag token_exchange_endpoint (the IdP)',
      { ...LITELLM_KINDS[3]![1], token_exchange_endpoint: plainAs },
      'mcp_servers.s.token_exchange_endpoint',
    ],
    [
      'oauth2_id_jag id_jag_resource_token_endpoint',
      { ...LITELLM_KINDS[3]![1], id_jag_resource_token_endpoint: plainAs },
      'mcp_servers.s.id_jag_resource_token_endpoint',
    ],
  ]
  const https = 'https://mcp.example/mcp'

  describe.each([
    ['seed shape', SEED_AS, (server: Record<string, unknown>) => allowIn(server)],
    [
      'LiteLLM shape',
      LITELLM_AS,
      (server: Record<string, unknown>) => ({ ...server, allow_insecure_http: true }),
    ],
  ] as const)('%s', (_shape, cases, allowed) => {
    it.each(cases)('refuses %s to a non-loopback host', (_what, server, path) => {
      expectInsecure(() => parseConfig(seed(https, server)), path)
    })

    it.each(cases)('allows %s with the client’s allow_insecure_http: true', (_what, server) => {
      expect(parseConfig(seed(https, allowed(server))).servers['s']?.url).toBe(https)
    })

    it.each(cases)('allows %s to loopback', (_what, server) => {
      const local = JSON.parse(
        JSON.stringify(server).replace(/http:\/\/(as|idp)\.example/g, 'http://127.0.0.1:9000'),
      )
      expect(parseConfig(seed(https, local)).servers['s']?.url).toBe(https)
    })
  })

  it('refuses mcp_config.default_oauth2.token_url over plain http, and its allow_insecure_http allows it', () => {
    const top = (extra = {}) => ({
      mcp_config: { default_oauth2: { ...clientCredentials, token_url: plainAs, ...extra } },
    })
    expectInsecure(() => parseConfig(seed(https, {}, top())), 'mcp_config.default_oauth2.token_url')
    expect(
      parseConfig(seed(https, {}, top({ allow_insecure_http: true }))).servers['s']?.oauth2?.tokenUrl,
    ).toBe(plainAs)
  })
})

/** The seed server with `allow_insecure_http: true` in its oauth2 or user_token client. */
function allowIn(server: Record<string, unknown>): Record<string, unknown> {
  const auth = server['auth'] as Record<string, Record<string, unknown>>
  return {
    ...server,
    auth: Object.fromEntries(
      Object.entries(auth).map(([key, client]) => [key, { ...client, allow_insecure_http: true }]),
    ),
  }
}

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
