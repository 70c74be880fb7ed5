import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config.js'
import {
  sameTokenClient,
  tokenProviderFromConfig,
  tokenProvidersFromConfig,
  toTokenProviderOptions,
} from '../src/config-builders.js'
import { ConfigError } from '../src/errors.js'
import { ClientCredentialsTokenProvider } from '../src/token-provider.js'

const oauth2 = {
  token_url: 'https://as.example/token',
  client_id: 'gw',
  client_secret: 'secret-1',
  scope: 'a b',
}

function config(servers: Record<string, unknown>, defaultOAuth2: unknown = oauth2) {
  return parseConfig({ mcp_config: { default_oauth2: defaultOAuth2 }, mcp_servers: servers })
}

describe('toTokenProviderOptions', () => {
  it('maps basic_credentials_encoding, and refuses it without client_secret_basic', () => {
    const raw = config(
      { s: { url: 'https://s.example/mcp' } },
      { ...oauth2, basic_credentials_encoding: 'raw' },
    )
    expect(toTokenProviderOptions(raw.servers['s']!)?.basicCredentialsEncoding).toBe('raw')
    expect(() =>
      config(
        { s: { url: 'https://s.example/mcp' } },
        { ...oauth2, token_endpoint_auth_method: 'client_secret_post', basic_credentials_encoding: 'raw' },
      ),
    ).toThrow(
      expect.objectContaining({
        issues: [expect.objectContaining({ path: 'mcp_config.default_oauth2.basic_credentials_encoding' })],
      }),
    )
    expect(() =>
      config({ s: { url: 'https://s.example/mcp' } }, { ...oauth2, basic_credentials_encoding: 'base64' }),
    ).toThrow(ConfigError)
  })

  it('maps every configured setting to ClientCredentialsTokenProvider options, revealing secrets', () => {
    const c = config({
      crm: {
        url: 'https://crm.example/mcp',
        auth: {
          oauth2: {
            issuer: 'https://as.example',
            client_id: 'gw',
            client_secret: 'secret-1',
            token_endpoint_auth_method: 'client_secret_post',
            scope: ['a', 'b'],
            resource: 'https://crm.example/mcp',
            audience: 'crm-api',
            extra_params: { tenant: 'acme' },
            refresh_skew_seconds: 30,
            timeout_ms: 2000,
            allow_insecure_http: false,
          },
        },
      },
    })
    const fetch = async () => new Response()
    const now = () => 0
    expect(
      toTokenProviderOptions(c.servers['crm']!, { fetch, now, retry: { limit: 0 }, timeoutMs: 9999 }),
    ).toEqual({
      clientId: 'gw',
      clientSecret: 'secret-1',
      issuer: 'https://as.example',
      tokenEndpointAuthMethod: 'client_secret_post',
      scope: ['a', 'b'],
      resource: ['https://crm.example/mcp'],
      audience: 'crm-api',
      extraParams: { tenant: 'acme' },
      refreshSkewSeconds: 30,
      timeoutMs: 2000, // the configured value wins over the default passed in
      allowInsecureHttp: false,
      retry: { limit: 0 },
      fetch,
      now,
    })
  })

  it('maps discover: true to resourceServerUrl and a private JWK to privateKey', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd', kid: 'k1' }
    const c = config({
      crm: {
        url: 'https://crm.example/mcp',
        auth: {
          oauth2: { discover: true, client_id: 'gw', private_key: jwk, private_key_algorithm: 'ES256' },
        },
      },
    })
    expect(toTokenProviderOptions(c.servers['crm']!)).toEqual({
      clientId: 'gw',
      privateKey: jwk,
      privateKeyAlgorithm: 'ES256',
      resourceServerUrl: 'https://crm.example/mcp',
    })
  })

  it('returns undefined for a server without oauth2', () => {
    const c = config({ open: { url: 'https://open.example/mcp', auth: 'none' } })
    expect(toTokenProviderOptions(c.servers['open']!)).toBeUndefined()
    expect(tokenProviderFromConfig(c.servers['open']!)).toBeUndefined()
  })

  it('refuses a private_key_file that parseConfig could not read, naming the path', () => {
    const c = config({
      s: {
        url: 'https://s.example/mcp',
        auth: { oauth2: { ...oauth2, client_secret: undefined, private_key_file: 'k.pem' } },
      },
    })
    let err: unknown
    try {
      toTokenProviderOptions(c.servers['s']!)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).issues).toEqual([
      {
        path: 'mcp_servers.s.auth.oauth2.private_key_file',
        message: expect.stringContaining('loadConfigFile'),
      },
    ])
  })
})

describe('tokenProvidersFromConfig', () => {
  it('shares one provider between servers with the same client, endpoint and scopes', () => {
    const providers = tokenProvidersFromConfig(
      config({
        a: { url: 'https://a.example/mcp' },
        b: { url: 'https://b.example/mcp' },
        // Same settings written out, scopes in another order, secret from another string instance.
        c: {
          url: 'https://c.example/mcp',
          auth: { oauth2: { ...oauth2, client_secret: ['secret', '1'].join('-'), scope: ['b', 'a'] } },
        },
        open: { url: 'https://open.example/mcp', auth: 'none' },
      }),
    )
    expect([...providers.keys()]).toEqual(['a', 'b', 'c'])
    expect(providers.get('a')).toBeInstanceOf(ClientCredentialsTokenProvider)
    expect(providers.get('a')).toBe(providers.get('b'))
    expect(providers.get('a')).toBe(providers.get('c'))
  })

  it.each([
    ['another secret', { client_secret: 'secret-2' }],
    ['another client', { client_id: 'gw2' }],
    ['other scopes', { scope: 'a' }],
    ['another endpoint', { token_url: 'https://as2.example/token' }],
    ['another auth method', { token_endpoint_auth_method: 'client_secret_post' }],
    ['an audience', { audience: 'x' }],
    ['a resource', { resource: 'https://r.example' }],
    ['extra params', { extra_params: { t: '1' } }],
  ])('gives a server with %s its own provider', (_what, override) => {
    const providers = tokenProvidersFromConfig(
      config({
        a: { url: 'https://a.example/mcp' },
        b: { url: 'https://b.example/mcp', auth: { oauth2: { ...oauth2, ...override } } },
      }),
    )
    expect(providers.get('a')).not.toBe(providers.get('b'))
  })

  it('does not share discovery-based providers between different server urls', () => {
    const providers = tokenProvidersFromConfig(
      config(
        { a: { url: 'https://a.example/mcp' }, b: { url: 'https://b.example/mcp' } },
        { discover: true, client_id: 'gw', client_secret: 's' },
      ),
    )
    expect(providers.get('a')).not.toBe(providers.get('b'))
  })

  it('fetches one token for N servers sharing a client', async () => {
    let tokenRequests = 0
    const fetch = async (input: string | URL | Request) => {
      expect(String(input instanceof Request ? input.url : input)).toBe('https://as.example/token')
      tokenRequests++
      return Response.json({ access_token: `tok-${tokenRequests}`, token_type: 'Bearer', expires_in: 3600 })
    }
    const servers = Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((n) => [n, { url: `https://${n}.example/mcp` }]),
    )
    const providers = tokenProvidersFromConfig(config(servers), { fetch })
    const tokens = await Promise.all([...providers.values()].map((p) => p.getToken()))
    expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['tok-1']))
    expect(tokenRequests).toBe(1)
  })

  it('reports every server whose provider cannot be built in one ConfigError', () => {
    const c = config({
      a: {
        url: 'https://a.example/mcp',
        auth: { oauth2: { ...oauth2, client_secret: undefined, private_key_file: 'a.pem' } },
      },
      b: {
        url: 'https://b.example/mcp',
        auth: { oauth2: { ...oauth2, client_secret: undefined, private_key_file: 'b.pem' } },
      },
    })
    let err: unknown
    try {
      tokenProvidersFromConfig(c)
    } catch (e) {
      err = e
    }
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual([
      'mcp_servers.a.auth.oauth2.private_key_file',
      'mcp_servers.b.auth.oauth2.private_key_file',
    ])
  })
})

describe('sameTokenClient', () => {
  it('compares secrets by value without needing the same Secret instance', () => {
    const a = config({ a: { url: 'https://a.example/mcp' } }).servers['a']!.oauth2!
    const b = config({ b: { url: 'https://b.example/mcp' } }).servers['b']!.oauth2!
    expect(a.clientSecret).not.toBe(b.clientSecret)
    expect(sameTokenClient(a, b)).toBe(true)
  })
})
