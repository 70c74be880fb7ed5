// Issue #13 item 2, the configuration's side: no credential of any kind goes over plain http to
// a host that is not loopback without allow_insecure_http, in the seed shape, LiteLLM's shape and
// the environment alike (ERR_INSECURE_HTTP), and static header values never print.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import { expectInsecure } from './support/config-insecure.js'

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
