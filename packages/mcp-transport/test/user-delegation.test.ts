// Acting for a user, seen from the manager and from a plain SDK client: fromConfig gives each
// server the user token provider of auth.user_token; withUserContext({ subjectToken }) with a
// userTokenProvider (RFC 8693 at the testkit), and DPoP on MCP requests (RFC 9449), over msw.
// (delegation.test.ts and auth-fetch-dpop.test.ts test the pipeline steps in depth.)
import { inspect } from 'node:util'
import { ClientCredentialsTokenProvider, DpopKey, TokenExchangeTokenProvider } from '@mcp-oauth2/auth-core'
import { createMockMcpServer, createMockOAuthServer } from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAuthFetch } from '../src/auth-fetch.js'
import { McpServerManager } from '../src/server-manager.js'
import { getUserContext, withUserContext } from '../src/user-context.js'

const oauth = createMockOAuthServer({
  clients: [
    {
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      allowedScopes: ['mcp:read', 'customer:read', 'ticket:create', 'account:calculate'],
    },
  ],
})
const mcp = createMockMcpServer({ oauth, url: 'https://delegation.mock.test/mcp' })
const dpopOAuth = createMockOAuthServer({
  issuer: 'https://dpop-as.mock.test',
  clients: [{ clientId: 'gateway', clientSecret: 'gw-secret', allowedScopes: ['customer:read'] }],
  dpop: { nonce: true },
})
const dpopMcp = createMockMcpServer({
  oauth: dpopOAuth,
  url: 'https://dpop-mcp.mock.test/mcp',
  dpop: { required: true, nonce: true },
})
const OTHER = 'https://elsewhere.mock.test/x'
/** The claims of a JWT (display only; the servers verified it). */
const decodeJwt = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
const elsewhere: Request[] = []
const msw = setupServer(
  ...oauth.handlers,
  ...mcp.handlers,
  ...dpopOAuth.handlers,
  ...dpopMcp.handlers,
  http.all(OTHER, ({ request }) => {
    elsewhere.push(request)
    return HttpResponse.text('ok')
  }),
)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  for (const s of [mcp, dpopMcp]) s.reset()
  oauth.reset()
  dpopOAuth.reset()
  elsewhere.length = 0
})
afterAll(async () => {
  await mcp.close()
  await dpopMcp.close()
  msw.close()
})

const service = () =>
  new ClientCredentialsTokenProvider({
    issuer: oauth.issuer,
    clientId: 'gateway',
    clientSecret: 'gw-secret',
    resource: mcp.url,
    scope: ['customer:read'],
  })
const exchange = () =>
  new TokenExchangeTokenProvider({
    issuer: oauth.issuer,
    clientId: 'gateway',
    clientSecret: 'gw-secret',
    resource: mcp.url,
    scope: 'customer:read',
    timeoutMs: 60_000, // counted token requests: a slow answer on a loaded machine is no retry
  })
const exchanges = () => oauth.tokenRequests.filter((r) => r.grantType?.endsWith('token-exchange'))

async function client(fetch: ReturnType<typeof createAuthFetch>): Promise<Client> {
  const c = new Client({ name: 'gateway', version: '1.0.0' })
  await c.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { fetch }))
  closers.push(async () => {
    await c.close()
    await fetch.close()
  })
  return c
}

describe('withUserContext({ subjectToken }) with a userTokenProvider', () => {
  it('300 concurrent users, each with their own subject token: every call carries its own user’s token, one exchange per user', async () => {
    const c = await client(
      createAuthFetch({ serverUrl: mcp.url, tokenProvider: service(), userTokenProvider: exchange() }),
    )
    const users = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => ({
        sub: `user-${i}`,
        token: await oauth.issueToken({ sub: `user-${i}`, aud: 'gateway' }),
      })),
    )
    const call = (user: (typeof users)[number], n: number) =>
      withUserContext({ subjectToken: user.token, userId: user.sub }, () =>
        c.callTool({ name: 'get_customer_info', arguments: { customer_id: `${user.sub}:${n}` } }),
      )
    // Two rounds, each user's calls concurrent with every other user's.
    await Promise.all(users.flatMap((u) => [call(u, 1), call(u, 2)]))
    await Promise.all(users.map((u) => call(u, 3)))

    expect(mcp.toolCalls).toHaveLength(900)
    const wrong = mcp.toolCalls.filter((t) => t.subject !== String(t.args.customer_id).split(':')[0])
    expect(wrong).toEqual([]) // 0 calls carried another user's token
    expect(exchanges()).toHaveLength(300) // one exchange per user for the token's lifetime
    expect(new Set(exchanges().map((r) => r.status))).toEqual(new Set([200]))
  }, 120_000)

  it('outside the context, or in one without a subject token, the service token', async () => {
    const c = await client(
      createAuthFetch({ serverUrl: mcp.url, tokenProvider: service(), userTokenProvider: exchange() }),
    )
    await c.callTool({ name: 'get_customer_info', arguments: { customer_id: 'svc' } })
    await withUserContext({ cookie: 'session_id=s' }, () =>
      c.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cookie-user' } }),
    )
    expect(mcp.toolCalls.map((t) => t.clientId)).toEqual(['gateway', 'gateway'])
    expect(mcp.toolCalls.map((t) => t.subject)).toEqual([
      expect.stringMatching(/gateway/),
      expect.stringMatching(/gateway/),
    ])
    expect(exchanges()).toEqual([])
  })

  it('keeps the subject token out of getUserContext(), util.inspect and JSON', async () => {
    const subjectToken = await oauth.issueToken({ sub: 'alice', aud: 'gateway' })
    withUserContext({ subjectToken, userId: 'alice', cookie: 'a=1' }, () => {
      const context = getUserContext()
      expect(context).toMatchObject({ userId: 'alice', cookie: 'a=1' })
      for (const text of [
        inspect(context, { showHidden: false, depth: 5 }),
        JSON.stringify(context),
        inspect({ ...context }),
      ])
        expect(text).not.toContain(subjectToken)
    })
    expect(() => withUserContext({ subjectToken: '' }, () => 0)).toThrow(/"subjectToken"/)
    expect(() => withUserContext({ idToken: 'a b' }, () => 0)).toThrow(/"idToken"/)
    expect(() => createAuthFetch({ serverUrl: mcp.url, userTokenProvider: {} as never })).toThrow(
      /"userTokenProvider"/,
    )
  })

  it('a 401 drops that user’s token only, and the call is retried with a new exchange', async () => {
    const c = await client(
      createAuthFetch({ serverUrl: mcp.url, tokenProvider: service(), userTokenProvider: exchange() }),
    )
    const alice = await oauth.issueToken({ sub: 'alice', aud: 'gateway' })
    const bob = await oauth.issueToken({ sub: 'bob', aud: 'gateway' })
    const as = (token: string) => () =>
      withUserContext({ subjectToken: token }, () =>
        c.callTool({ name: 'get_customer_info', arguments: { customer_id: 'x' } }),
      )
    await as(alice)()
    await as(bob)()
    msw.use(
      http.post(
        mcp.url,
        () =>
          new HttpResponse(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          }),
        {
          once: true,
        },
      ),
    )
    await as(alice)()
    await as(bob)()
    expect(exchanges().map((r) => r.subject)).toEqual(['alice', 'bob', 'alice'])
    expect(mcp.toolCalls.map((t) => t.subject)).toEqual(['alice', 'bob', 'alice', 'bob'])
  })
})

describe('fromConfig with auth.user_token', () => {
  it('gives each server its user token provider: calls with a subject token carry the exchanged token, the service’s as actor', async () => {
    const { parseConfig } = await import('@mcp-oauth2/auth-core')
    const config = parseConfig(
      {
        mcp_servers: {
          crm: {
            url: mcp.url,
            auth: {
              oauth2: {
                issuer: oauth.issuer,
                client_id: 'gateway',
                client_secret: 'gw-secret',
                scope: 'customer:read',
              },
              user_token: {
                grant_type: 'token_exchange',
                issuer: oauth.issuer,
                client_id: 'gateway',
                client_secret: 'gw-secret',
                scope: 'customer:read',
                resource: mcp.url,
                actor: 'service',
              },
            },
          },
        },
      },
      { env: {} },
    )
    const manager = McpServerManager.fromConfig(config, { retry: false, telemetry: false })
    closers.push(() => manager.close())
    await manager.connect()
    const alice = await oauth.issueToken({ sub: 'alice', aud: 'gateway', may_act: { sub: 'gateway' } })
    await withUserContext({ subjectToken: alice }, () =>
      manager.callTool('get_customer_info', { customer_id: 'a' }),
    )
    await manager.callTool('get_customer_info', { customer_id: 'svc' })
    expect(mcp.toolCalls.map((t) => t.subject)).toEqual(['alice', expect.stringMatching(/gateway/)])
    expect(exchanges()).toHaveLength(1)
    expect(exchanges()[0]).toMatchObject({ subject: 'alice', actor: expect.stringMatching(/gateway/) })
  })
})

describe('DPoP on MCP requests', () => {
  it('Authorization: DPoP and a fresh proof per request (htm, htu, ath, iat, jti), the nonce after use_dpop_nonce, retried once', async () => {
    const key = new DpopKey()
    const tokenProvider = new ClientCredentialsTokenProvider({
      issuer: dpopOAuth.issuer,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      resource: dpopMcp.url,
      scope: ['customer:read'],
      dpop: key,
    })
    const manager = new McpServerManager({
      servers: [{ name: 'dpop', url: dpopMcp.url, tokenProvider }],
      retry: false,
      telemetry: false,
    })
    closers.push(() => manager.close())
    await manager.connect()
    await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
    await manager.callTool('get_customer_info', { customer_id: 'cust-002' })

    const answered = dpopMcp.requests.filter((r) => r.status < 400)
    expect(answered.length).toBeGreaterThan(2)
    expect(
      answered.every((r) =>
        r.authScheme === 'DPoP' && r.dpop?.jkt === undefined ? true : r.authScheme === 'DPoP',
      ),
    ).toBe(true)
    const jtis = answered.map((r) => r.dpop?.jti)
    expect(new Set(jtis).size).toBe(jtis.length) // a fresh proof every time
    // The first request met the nonce challenge, and was answered once with the nonce.
    expect(dpopMcp.requests[0]).toMatchObject({ status: 401, authError: 'use_dpop_nonce' })
    expect(dpopMcp.requests[1]!.status).toBeLessThan(400)
    expect(dpopMcp.requests.filter((r) => r.authError === 'use_dpop_nonce')).toHaveLength(1)
    expect(dpopMcp.toolCalls).toHaveLength(2)
    const proof = dpopMcp.toolCalls[0]!.headers.dpop as string
    const claims = decodeJwt(proof)
    expect(claims).toMatchObject({
      htm: 'POST',
      htu: dpopMcp.url,
      ath: expect.any(String),
      jti: expect.any(String),
    })
    expect(typeof claims.iat).toBe('number')
    expect(claims.nonce).toBeDefined()
  })

  it('sends proofs to the MCP server’s origin only', async () => {
    const tokenProvider = new ClientCredentialsTokenProvider({
      issuer: dpopOAuth.issuer,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      resource: dpopMcp.url,
      dpop: true,
    })
    const fetch = createAuthFetch({ serverUrl: dpopMcp.url, tokenProvider, telemetry: false })
    closers.push(() => fetch.close())
    await fetch(OTHER, { method: 'POST', body: '{}' })
    expect(elsewhere).toHaveLength(1)
    expect(elsewhere[0]!.headers.get('dpop')).toBeNull()
    expect(elsewhere[0]!.headers.get('authorization')).toBeNull()
  })
})
