// The grant types in configuration: jwt_bearer service tokens (auth.oauth2.grant_type, LiteLLM's
// oauth2_flow: jwt_bearer), per-user tokens (auth.user_token, LiteLLM's oauth2_token_exchange and
// oauth2_id_jag), their builders, environment references and redaction.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ClientCredentialsTokenProvider,
  ConfigError,
  IdJagTokenProvider,
  JwtBearerTokenProvider,
  parseConfig,
  TokenExchangeTokenProvider,
  tokenProvidersFromConfig,
  userTokenProvidersFromConfig,
} from '../src/index.js'
import { loadConfigFile } from '../src/node.js'

const dir = mkdtempSync(join(tmpdir(), 'config-grants-'))
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return [...(error as ConfigError).issues]
  }
  throw new Error('expected a ConfigError')
}

const WORKLOAD_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl'

describe('grant_type: jwt_bearer', () => {
  it('makes a JwtBearerTokenProvider from an assertion reference, the assertion a Secret', async () => {
    const config = parseConfig(
      `
mcp_servers:
  crm:
    url: https://crm.example.test/mcp
    auth:
      oauth2:
        grant_type: jwt_bearer
        token_url: https://auth.example.test/token
        client_id: workload
        assertion: \${WORKLOAD_TOKEN}
        scope: mcp:read
`,
      { env: { WORKLOAD_TOKEN } },
    )
    const oauth2 = config.servers['crm']!.oauth2!
    expect(oauth2.grantType).toBe('jwt_bearer')
    expect(oauth2.assertion?.reveal()).toBe(WORKLOAD_TOKEN)
    expect(inspect(config, { depth: 10 })).not.toContain(WORKLOAD_TOKEN)
    expect(JSON.stringify(config)).not.toContain(WORKLOAD_TOKEN)
    const provider = tokenProvidersFromConfig(config).get('crm')
    expect(provider).toBeInstanceOf(JwtBearerTokenProvider)
    const seen: URLSearchParams[] = []
    server.use(
      http.post('https://auth.example.test/token', async ({ request }) => {
        seen.push(new URLSearchParams(await request.text()))
        return HttpResponse.json({ access_token: 'wif-token', token_type: 'Bearer' })
      }),
    )
    expect((await provider!.getToken()).value).toBe('wif-token')
    expect(Object.fromEntries(seen[0]!)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: WORKLOAD_TOKEN,
      scope: 'mcp:read',
      client_id: 'workload',
    })
  })

  it('resolves assertion_file against the config file and checks it is readable', async () => {
    writeFileSync(join(dir, 'token'), WORKLOAD_TOKEN)
    writeFileSync(
      join(dir, 'config.yaml'),
      `mcp_servers:
  crm:
    url: https://crm.example.test/mcp
    auth_type: oauth2
    oauth2_flow: jwt_bearer
    client_id: workload
    token_url: https://auth.example.test/token
    assertion_file: ./token
`,
    )
    const config = await loadConfigFile(join(dir, 'config.yaml'), { env: {} })
    expect(config.servers['crm']!.oauth2).toMatchObject({
      grantType: 'jwt_bearer',
      assertionFile: join(dir, 'token'),
    })
    expect(tokenProvidersFromConfig(config).get('crm')).toBeInstanceOf(JwtBearerTokenProvider)
    writeFileSync(
      join(dir, 'missing.yaml'),
      (await import('node:fs')).readFileSync(join(dir, 'config.yaml'), 'utf8').replace('./token', './nope'),
    )
    const error = await loadConfigFile(join(dir, 'missing.yaml'), { env: {} }).catch(
      (e: unknown) => e as ConfigError,
    )
    expect((error as ConfigError).issues[0]?.path).toBe('mcp_servers.crm.assertion_file')
  })

  it('reports a jwt_bearer without an assertion, and an assertion without jwt_bearer', () => {
    const file = (oauth2: string) => `
mcp_servers:
  crm:
    url: https://crm.example.test/mcp
    auth:
      oauth2: { token_url: https://auth.example.test/token, client_id: w, ${oauth2} }
`
    expect(issuesOf(() => parseConfig(file('grant_type: jwt_bearer')))).toEqual([
      {
        path: 'mcp_servers.crm.auth.oauth2',
        message: 'grant_type: jwt_bearer needs one of assertion or assertion_file',
      },
    ])
    expect(issuesOf(() => parseConfig(file('client_secret: s, assertion: x')))).toEqual([
      { path: 'mcp_servers.crm.auth.oauth2.assertion', message: 'only applies with grant_type: jwt_bearer' },
    ])
  })
})

describe('auth.user_token', () => {
  const yaml = (userToken: string) => `
mcp_servers:
  crm:
    url: https://crm.example.test/mcp
    auth:
      oauth2: { token_url: https://auth.example.test/token, client_id: gateway, client_secret: "\${SERVICE_SECRET}" }
      user_token:
${userToken}
`
  const env = {
    SERVICE_SECRET: 'service-secret-1',
    EXCHANGE_SECRET: 'exchange-secret-2',
    IDP_SECRET: 'idp-secret-3',
  }

  it('token_exchange with the service token as actor: one TokenExchangeTokenProvider, secrets redacted', async () => {
    const config = parseConfig(
      yaml(`        grant_type: token_exchange
        token_url: https://auth.example.test/token
        client_id: gateway
        client_secret: \${EXCHANGE_SECRET}
        audience: crm-api
        scope: [crm.read]
        subject_token_type: id_token
        actor: service`),
      { env },
    )
    const user = config.servers['crm']!.userToken!
    expect(user).toMatchObject({
      grantType: 'token_exchange',
      audience: ['crm-api'],
      scopes: ['crm.read'],
      subjectTokenType: 'urn:ietf:params:oauth:token-type:id_token',
      actor: 'service',
    })
    const text = inspect(config, { depth: 10 }) + JSON.stringify(config)
    for (const secret of Object.values(env)) expect(text).not.toContain(secret)

    const service = tokenProvidersFromConfig(config)
    const users = userTokenProvidersFromConfig(config, { serviceProviders: service })
    expect(users.get('crm')).toBeInstanceOf(TokenExchangeTokenProvider)
    const seen: URLSearchParams[] = []
    server.use(
      http.post('https://auth.example.test/token', async ({ request }) => {
        const body = new URLSearchParams(await request.text())
        seen.push(body)
        return HttpResponse.json({
          access_token: body.has('subject_token') ? 'user-token' : 'service-token',
          token_type: 'Bearer',
        })
      }),
    )
    expect((await users.get('crm')!.getToken({ subjectToken: 'users-id-token' })).value).toBe('user-token')
    const exchange = seen.find((b) => b.has('subject_token'))!
    expect(exchange.get('actor_token')).toBe('service-token')
    expect(exchange.get('audience')).toBe('crm-api')
    expect(service.get('crm')).toBeInstanceOf(ClientCredentialsTokenProvider)
  })

  it('id_jag with its IdP makes an IdJagTokenProvider', () => {
    const config = parseConfig(
      yaml(`        grant_type: id_jag
        discover: true
        client_id: gateway
        client_secret: \${EXCHANGE_SECRET}
        idp: { issuer: https://idp.example.test, client_id: gateway-idp, client_secret: "\${IDP_SECRET}" }`),
      { env },
    )
    expect(config.servers['crm']!.userToken).toMatchObject({
      grantType: 'id_jag',
      resourceServerUrl: 'https://crm.example.test/mcp',
      idp: { issuer: 'https://idp.example.test', clientId: 'gateway-idp' },
    })
    expect(userTokenProvidersFromConfig(config).get('crm')).toBeInstanceOf(IdJagTokenProvider)
  })

  it('reports what does not fit, at its path', () => {
    expect(
      issuesOf(() =>
        parseConfig(
          yaml(
            '        { grant_type: id_jag, token_url: https://a.example/t, client_id: g, client_secret: s }',
          ),
          { env },
        ),
      ),
    ).toEqual([
      { path: 'mcp_servers.crm.auth.user_token.idp', message: 'is required with grant_type: id_jag' },
    ])
    expect(
      issuesOf(() =>
        parseConfig(
          yaml(
            '        { grant_type: token_exchange, token_url: https://a.example/t, client_id: g, client_secret: s, idp: { issuer: https://i.example } }',
          ),
          { env },
        ),
      ),
    ).toEqual([
      { path: 'mcp_servers.crm.auth.user_token.idp', message: 'only applies with grant_type: id_jag' },
    ])
    const noService = `
mcp_servers:
  crm:
    url: https://crm.example.test/mcp
    auth:
      oauth2: none
      user_token: { grant_type: token_exchange, token_url: https://a.example/t, client_id: g, client_secret: s, actor: service }
`
    expect(issuesOf(() => parseConfig(noService))).toEqual([
      {
        path: 'mcp_servers.crm.auth.user_token.actor',
        message: 'service needs the server to have a service token (auth.oauth2)',
      },
    ])
    expect(
      issuesOf(() =>
        parseConfig(
          yaml(
            '        { grant_type: token_exchange, token_url: http://auth.example/t, client_id: g, client_secret: s }',
          ),
          { env },
        ),
      )[0]?.path,
    ).toBe('mcp_servers.crm.auth.user_token.token_url')
  })
})

describe('LiteLLM auth_type oauth2_token_exchange and oauth2_id_jag', () => {
  it('reads token exchange (On-Behalf-Of) settings', () => {
    const config = parseConfig(
      `
mcp_servers:
  internal_tools:
    url: https://mcp.example.test/mcp
    transport: http
    auth_type: oauth2_token_exchange
    token_exchange_endpoint: https://idp.example.test/oauth2/token
    client_id: os.environ/IDP_CLIENT_ID
    client_secret: os.environ/IDP_CLIENT_SECRET
    audience: api://internal-tools-mcp
    scopes: [mcp.tools.read]
`,
      { env: { IDP_CLIENT_ID: 'gw', IDP_CLIENT_SECRET: 'litellm-secret-4' } },
    )
    const server = config.servers['internal_tools']!
    expect(server.oauth2).toBeUndefined()
    expect(server.userToken).toMatchObject({
      grantType: 'token_exchange',
      tokenUrl: 'https://idp.example.test/oauth2/token',
      clientId: 'gw',
      audience: ['api://internal-tools-mcp'],
      scopes: ['mcp.tools.read'],
    })
    expect(server.userToken?.clientSecret?.reveal()).toBe('litellm-secret-4')
    expect(JSON.stringify(config)).not.toContain('litellm-secret-4')
    expect(userTokenProvidersFromConfig(config).get('internal_tools')).toBeInstanceOf(
      TokenExchangeTokenProvider,
    )
  })

  it('reads ID-JAG settings: the IdP client and the MCP authorization server’s', () => {
    const config = parseConfig(`
mcp_servers:
  okta_mcp:
    url: https://mcp.example.test/mcp
    auth_type: oauth2_id_jag
    token_exchange_endpoint: https://org.okta.example/oauth2/v1/token
    client_id: idp-client
    client_secret: idp-secret
    id_jag_resource_token_endpoint: https://as.example.test/oauth2/token
    id_jag_client_id: mcp-client
    id_jag_client_secret: mcp-secret
`)
    expect(config.servers['okta_mcp']!.userToken).toMatchObject({
      grantType: 'id_jag',
      tokenUrl: 'https://as.example.test/oauth2/token',
      clientId: 'mcp-client',
      idp: { tokenUrl: 'https://org.okta.example/oauth2/v1/token', clientId: 'idp-client' },
    })
    expect(userTokenProvidersFromConfig(config).get('okta_mcp')).toBeInstanceOf(IdJagTokenProvider)
  })

  it('names the missing keys', () => {
    const issues = issuesOf(() =>
      parseConfig(`
mcp_servers:
  okta_mcp:
    url: https://mcp.example.test/mcp
    auth_type: oauth2_id_jag
    client_id: idp-client
`),
    )
    expect(issues.map((i) => i.path).sort()).toEqual([
      'mcp_servers.okta_mcp.id_jag_client_id',
      'mcp_servers.okta_mcp.id_jag_client_secret',
      'mcp_servers.okta_mcp.id_jag_resource_token_endpoint',
      'mcp_servers.okta_mcp.token_exchange_endpoint',
    ])
  })
})
