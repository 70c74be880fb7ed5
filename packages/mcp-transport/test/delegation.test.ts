// Acting for a user through the auth fetch (#17): inside withUserContext({ subjectToken }) (or
// { idToken }) the token of the userTokenProvider replaces the service token; outside it, the
// service token. Against the testkit's mock authorization server (RFC 8693 token exchange, ID-JAGs
// as an IdP) and its mock MCP server, over msw, through the MCP SDK's real client.
import {
  ClientCredentialsTokenProvider,
  IdJagTokenProvider,
  TokenExchangeTokenProvider,
} from '@mcp-oauth2/auth-core'
import { createMockMcpServer, createMockOAuthServer } from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type AuthFetchOptions, createAuthFetch } from '../src/auth-fetch.js'
import { McpTransportErrorCode } from '../src/errors.js'
import { withUserContext } from '../src/user-context.js'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const SCOPES = ['mcp:read', 'customer:read', 'ticket:create']

const idp = createMockOAuthServer({
  issuer: 'https://idp.mock.test',
  clients: [{ clientId: 'idp-client', tokenEndpointAuthMethods: ['none'], idJagClientId: 'gateway' }],
})
const oauth = createMockOAuthServer({
  clients: [{ clientId: 'gateway', clientSecret: 'gw-secret', allowedScopes: SCOPES }],
  trustedIssuers: [idp],
})
const mcp = createMockMcpServer({ oauth })
const msw = setupServer(...oauth.handlers, ...idp.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  oauth.setNow(Date.now)
  oauth.reset()
  idp.reset()
  mcp.reset()
})
afterAll(async () => {
  await mcp.close()
  msw.close()
})

const now = () => oauth.now()
const service = () =>
  new ClientCredentialsTokenProvider({
    resourceServerUrl: mcp.url,
    clientId: 'gateway',
    clientSecret: 'gw-secret',
    scope: 'mcp:read customer:read',
    now,
  })
const exchange = () =>
  new TokenExchangeTokenProvider({
    resourceServerUrl: mcp.url,
    clientId: 'gateway',
    clientSecret: 'gw-secret',
    scope: 'customer:read',
    maxCachedSubjects: 1000,
    // The tests count token requests: on a loaded machine a slow answer to 300 concurrent
    // exchanges must not become a retry (the default attempt timeout is 5 s).
    timeoutMs: 60_000,
    now,
  })

/** A user's own access token, issued to the gateway (what a user's client would present). */
const userToken = (sub: string, expiresIn = 86_400) =>
  oauth.issueToken({ sub, aud: 'gateway', scope: 'customer:read', expiresIn })

async function connect(options: Partial<AuthFetchOptions>) {
  const fetch = createAuthFetch({ serverUrl: mcp.url, ...options })
  const client = new Client({ name: 'delegation-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { fetch }))
  return { client, fetch }
}

const getCustomer = (client: Client, customerId: string) =>
  client.callTool({ name: 'get_customer_info', arguments: { customer_id: customerId } })
const exchanges = () => oauth.tokenRequests.filter((r) => r.grantType === TOKEN_EXCHANGE)
/** The claims of a JWT (no verification: the mock MCP server verified it). */
const decodeJwt = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>
const bearerOf = (authorization: string | undefined) => authorization?.replace(/^Bearer /, '') ?? ''

/** MCP messages sent (the SDK opens its GET stream on its own time, so only POSTs are counted). */
const posts = () => mcp.requests.filter((r) => r.method === 'POST').length

/** No MCP request carried one of these tokens (no token passthrough). */
function expectNeverSent(tokens: readonly string[]) {
  for (const request of mcp.requests)
    for (const token of tokens) expect(JSON.stringify(request.headers)).not.toContain(token)
}

describe('userTokenProvider', () => {
  it("sends the user's exchanged token inside withUserContext({ subjectToken }), the service token outside it and in contexts without one", async () => {
    const alice = await userToken('alice')
    const { client } = await connect({
      tokenProvider: service(),
      userTokenProvider: exchange(),
      cookies: { allow: ['session_id'] },
    })
    await getCustomer(client, 'service')
    await withUserContext({ subjectToken: alice, userId: 'alice' }, () => getCustomer(client, 'alice'))
    await withUserContext({ cookie: 'session_id=s1' }, () => getCustomer(client, 'cookie-only'))
    expect(mcp.toolCalls.map((c) => [c.args['customer_id'], c.subject, c.clientId])).toEqual([
      ['service', 'gateway', 'gateway'],
      ['alice', 'alice', 'gateway'],
      ['cookie-only', 'gateway', 'gateway'],
    ])
    expect(mcp.toolCalls[2]!.cookies).toEqual({ session_id: 's1' })
    expect(exchanges()).toHaveLength(1)
    expect(exchanges()[0]!.params['subject_token']).toBe(alice)
    // The MCP server got a token issued for it, never the user's own.
    expectNeverSent([alice])
    await client.close()
  })

  it("300 concurrent users through one shared client: no call carries another user's token, one exchange per user per token lifetime", async () => {
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`)
    const tokens = new Map(await Promise.all(users.map(async (u) => [u, await userToken(u)] as const)))
    const { client } = await connect({ tokenProvider: service(), userTokenProvider: exchange() })
    const round = () =>
      Promise.all(
        users.map((u) => withUserContext({ subjectToken: tokens.get(u)! }, () => getCustomer(client, u))),
      )

    await round()
    await round()
    expect(mcp.toolCalls).toHaveLength(600)
    for (const call of mcp.toolCalls) expect(call.subject).toBe(call.args['customer_id'])
    const once = exchanges()
    expect(once).toHaveLength(300)
    expect(new Set(once.map((r) => r.subject))).toEqual(new Set(users))
    for (const r of once) expect(r.params['subject_token']).toBe(tokens.get(r.subject!))

    // The exchanged tokens expire (3600 s): exactly one new exchange per user.
    oauth.advanceTime(3600_000)
    await round()
    expect(mcp.toolCalls).toHaveLength(900)
    for (const call of mcp.toolCalls) expect(call.subject).toBe(call.args['customer_id'])
    expect(exchanges()).toHaveLength(600)
    const perUser = new Map<string, number>()
    for (const r of exchanges()) perUser.set(r.subject!, (perUser.get(r.subject!) ?? 0) + 1)
    expect(new Set(perUser.values())).toEqual(new Set([2]))
    // Each tool call was authorized by a token whose sub is the caller (read from what was sent).
    const calls = mcp.requests.filter((r) => r.jsonRpcMethod === 'tools/call')
    expect(calls).toHaveLength(900)
    expectNeverSent([...tokens.values()])
    await client.close()
  }, 60_000)

  it("a 401 for a user's token drops that user's token only and retries once", async () => {
    const [alice, bob] = await Promise.all([userToken('alice'), userToken('bob')])
    const { client } = await connect({ tokenProvider: service(), userTokenProvider: exchange() })
    await withUserContext({ subjectToken: alice }, () => getCustomer(client, 'alice'))
    await withUserContext({ subjectToken: bob }, () => getCustomer(client, 'bob'))
    const aliceFirst = bearerOf(mcp.requests.at(-2)?.headers['authorization'])
    expect(exchanges()).toHaveLength(2)

    mcp.failNext(1, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
    await withUserContext({ subjectToken: alice }, () => getCustomer(client, 'alice'))
    await withUserContext({ subjectToken: bob }, () => getCustomer(client, 'bob'))
    // Alice's token was exchanged again; Bob's cached one survived.
    expect(exchanges().map((r) => r.subject)).toEqual(['alice', 'bob', 'alice'])
    const rejected = mcp.requests.filter((r) => r.status === 401)
    expect(rejected).toHaveLength(1)
    expect(bearerOf(rejected[0]!.headers['authorization'])).not.toBe('')
    const aliceRetry = mcp.requests[mcp.requests.indexOf(rejected[0]!) + 1]!
    expect(aliceRetry.status).toBe(200)
    expect(decodeJwt(bearerOf(aliceRetry.headers['authorization'])).sub).toBe('alice')
    expect(bearerOf(aliceRetry.headers['authorization'])).not.toBe(aliceFirst)
    expect(mcp.toolCalls.map((c) => c.subject)).toEqual(['alice', 'bob', 'alice', 'bob'])
    await client.close()
  })

  it('steps up per user on 403 insufficient_scope, and remembers a refused step-up per user', async () => {
    const [alice, bob, carol] = await Promise.all([userToken('alice'), userToken('bob'), userToken('carol')])
    const { client } = await connect({ tokenProvider: service(), userTokenProvider: exchange() })
    const ticket = () =>
      client.callTool({ name: 'create_support_ticket', arguments: { customer_id: 'c1', subject: 's' } })

    const first = await withUserContext({ subjectToken: alice }, ticket)
    expect(first.isError).not.toBe(true)
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(1)
    expect(exchanges().map((r) => [r.subject, r.scope.join(' ')])).toEqual([
      ['alice', 'customer:read'],
      ['alice', 'customer:read ticket:create'],
    ])
    // Alice keeps her step-up: no 403 again, no new exchange.
    await withUserContext({ subjectToken: alice }, ticket)
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(1)
    expect(exchanges()).toHaveLength(2)
    // Bob's first call does not inherit Alice's scopes: his own 403 and step-up.
    await withUserContext({ subjectToken: bob }, ticket)
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(2)
    expect(
      exchanges()
        .slice(2)
        .map((r) => [r.subject, r.scope.join(' ')]),
    ).toEqual([
      ['bob', 'customer:read'],
      ['bob', 'customer:read ticket:create'],
    ])
    // Nor does the service.
    await ticket()
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(3)

    // Carol's step-up is refused by the authorization server: the 403 stands, and is not asked
    // for again for a while (for Carol only).
    await withUserContext({ subjectToken: carol }, () => getCustomer(client, 'carol'))
    oauth.failNext(1, { status: 400, error: 'invalid_scope' })
    const before = oauth.tokenRequests.length
    const refused = await withUserContext({ subjectToken: carol }, ticket).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(Error)
    expect(oauth.tokenRequests.length - before).toBe(1)
    await withUserContext({ subjectToken: carol }, ticket).catch(() => {})
    expect(oauth.tokenRequests.length - before).toBe(1)
    await client.close()
  })

  it('fails closed without a userTokenProvider: a typed error, nothing sent, never the service token or the user token', async () => {
    const alice = await userToken('alice')
    const { client, fetch } = await connect({ tokenProvider: service() })
    const sent = posts()
    const error = await withUserContext({ subjectToken: alice }, () => getCustomer(client, 'alice')).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: McpTransportErrorCode.UserTokenProviderRequired })
    expect(String((error as Error).message)).not.toContain(alice)
    const idTokenError = await withUserContext({ idToken: alice }, () =>
      fetch(mcp.url, { method: 'POST', body: '{}' }),
    ).catch((e: unknown) => e)
    expect(idTokenError).toMatchObject({ code: 'ERR_USER_TOKEN_PROVIDER_REQUIRED' })
    expect(posts()).toBe(sent)
    expect(mcp.toolCalls).toHaveLength(0)
    expectNeverSent([alice])
    // An auth fetch without any token provider refuses it too.
    const cookiesOnly = createAuthFetch({ serverUrl: mcp.url, cookies: { allow: ['session_id'] } })
    await expect(
      withUserContext({ subjectToken: alice }, () => cookiesOnly(mcp.url, { method: 'POST', body: '{}' })),
    ).rejects.toMatchObject({ code: 'ERR_USER_TOKEN_PROVIDER_REQUIRED' })
    expect(posts()).toBe(sent)
    await client.close()
  })

  it("a refused exchange fails the user's call typed, with no fallback to the service token", async () => {
    const expired = await userToken('alice', -60)
    const { client } = await connect({ tokenProvider: service(), userTokenProvider: exchange() })
    const sent = posts()
    await expect(
      withUserContext({ subjectToken: expired }, () => getCustomer(client, 'alice')),
    ).rejects.toMatchObject({ code: 'ERR_SUBJECT_TOKEN_EXPIRED' })
    const foreign = await oauth.issueToken({ sub: 'mallory', aud: 'https://other.example', expiresIn: 600 })
    await expect(
      withUserContext({ subjectToken: foreign }, () => getCustomer(client, 'mallory')),
    ).rejects.toMatchObject({ code: 'ERR_OAUTH_ERROR_RESPONSE', error: 'invalid_grant' })
    expect(posts()).toBe(sent)
    expectNeverSent([expired, foreign])
    await client.close()
  })

  it("replaces a user header renamed to authorization with the user's exchanged token", async () => {
    const alice = await userToken('alice')
    const { client } = await connect({
      tokenProvider: service(),
      userTokenProvider: exchange(),
      headers: { allow: [], rename: { 'x-upstream-authorization': 'authorization' } },
    })
    await withUserContext(
      { subjectToken: alice, headers: { 'x-upstream-authorization': `Bearer ${alice}` } },
      () => getCustomer(client, 'alice'),
    )
    expect(mcp.toolCalls.map((c) => c.subject)).toEqual(['alice'])
    expectNeverSent([alice])
    await client.close()
  })

  it('uses the subject token given when the context started, whatever the caller changes later', async () => {
    const [alice, mallory] = await Promise.all([userToken('alice'), userToken('mallory')])
    const { client } = await connect({ tokenProvider: service(), userTokenProvider: exchange() })
    const context = { subjectToken: alice }
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const call = withUserContext(context, async () => {
      await gate
      return getCustomer(client, 'alice')
    })
    context.subjectToken = mallory
    release()
    await call
    expect(mcp.toolCalls.map((c) => c.subject)).toEqual(['alice'])
    await client.close()
  })

  it("sends the token of the user's ID token inside withUserContext({ idToken }) (enterprise-managed authorization)", async () => {
    const idToken = await idp.issueIdToken({ sub: 'alice@example.test', aud: 'idp-client' })
    const userTokenProvider = new IdJagTokenProvider({
      resourceServerUrl: mcp.url,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      idp: { issuer: idp.issuer, clientId: 'idp-client' },
      scope: 'customer:read',
      now,
    })
    const { client } = await connect({ tokenProvider: service(), userTokenProvider })
    await withUserContext({ idToken }, () => getCustomer(client, 'alice'))
    await withUserContext({ idToken }, () => getCustomer(client, 'alice'))
    expect(mcp.toolCalls.map((c) => c.subject)).toEqual(['alice@example.test', 'alice@example.test'])
    expect(idp.tokenRequests).toHaveLength(1)
    expect(oauth.tokenRequests.filter((r) => r.grantType?.endsWith('jwt-bearer'))).toHaveLength(1)
    expectNeverSent([idToken])
    await client.close()
  })

  it('rejects a userTokenProvider that is not one', () => {
    expect(() => createAuthFetch({ serverUrl: mcp.url, userTokenProvider: {} as never })).toThrow(
      /"userTokenProvider"/,
    )
    expect(() => createAuthFetch({ serverUrl: mcp.url, tokenProvider: 'x' as never })).toThrow(
      /"tokenProvider"/,
    )
  })
})
