import { ClientCredentialsTokenProvider, type TokenProvider } from '@mcp-oauth2/auth-core'
import { createMockMcpServer, createMockOAuthServer, startMockServers } from '@mcp-oauth2/testkit'
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { applyMiddlewares } from '@modelcontextprotocol/sdk/client/middleware.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { authMiddleware, createAuthFetch } from '../src/auth-fetch.js'
import { withUserContext } from '../src/user-context.js'

const oauth = createMockOAuthServer()
const mcp = createMockMcpServer({ oauth })
const msw = setupServer(...oauth.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  oauth.reset()
  mcp.reset()
})
afterAll(async () => {
  await mcp.close()
  msw.close()
})

function provider(scope = 'mcp:read customer:read', now?: () => number) {
  return new ClientCredentialsTokenProvider({
    resourceServerUrl: mcp.url,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    scope,
    ...(now ? { now } : {}),
  })
}

/** Records the headers of requests to `url`, answering `body` as JSON. */
function recordHeaders(method: 'get' | 'post', url: string, body: Record<string, unknown> = { ok: true }) {
  const seen: Headers[] = []
  msw.use(
    http[method](url, ({ request }) => {
      seen.push(request.headers)
      return HttpResponse.json(body)
    }),
  )
  return seen
}

/** Answers POSTs to `from` with a redirect. */
function redirect(from: string, status: number, location: string) {
  msw.use(http.post(from, () => new HttpResponse(null, { status, headers: { location } })))
}

async function connect(fetch: (url: string | URL, init?: RequestInit) => Promise<Response>, url = mcp.url) {
  const client = new Client({ name: 'auth-fetch-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch }))
  return client
}

const unauthorizedResponses = () => mcp.requests.filter((r) => r.status === 401).length

describe('createAuthFetch', () => {
  it('sends the bearer only to the MCP server, never to the authorization server', async () => {
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      cookies: { allow: ['session_id'] },
    })
    const client = await withUserContext({ cookie: 'session_id=abc; other=x' }, () => connect(fetch))
    await withUserContext({ cookie: 'session_id=abc' }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } }),
    )
    expect(mcp.requests.length).toBeGreaterThan(0)
    for (const request of mcp.requests) expect(request.headers.authorization).toMatch(/^Bearer ey/)
    expect(oauth.tokenRequests).toHaveLength(1)
    for (const request of oauth.tokenRequests) {
      expect(request.headers.cookie).toBeUndefined()
      expect(request.headers.authorization ?? '').not.toMatch(/^Bearer/i)
    }
    expect(mcp.toolCalls[0]!.cookies).toEqual({ session_id: 'abc' })
    await client.close()
  })

  it('adds nothing to requests for other origins and strips a shared cookie from them', async () => {
    const seen = recordHeaders('get', 'https://elsewhere.example.test/x')
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      cookies: { allow: ['session_id'] },
    })
    await withUserContext({ cookie: 'session_id=abc' }, () =>
      fetch('https://elsewhere.example.test/x', { headers: { cookie: 'session_id=from-request-init' } }),
    )
    // Same host, other port is another origin too.
    expect(seen[0]!.get('authorization')).toBeNull()
    expect(seen[0]!.get('cookie')).toBeNull()
    expect(oauth.tokenRequests).toHaveLength(0)
  })

  it('sends no user data outside withUserContext', async () => {
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      cookies: { allow: ['session_id'] },
    })
    const client = await connect(fetch)
    // A user's call first: nothing of it may stick to the calls made outside the context.
    await withUserContext({ cookie: 'session_id=earlier-user' }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c0' } }),
    )
    await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
    expect(mcp.toolCalls.map((c) => c.cookies)).toEqual([{ session_id: 'earlier-user' }, {}])
    await client.close()
  })

  it("keeps cookies off the SDK's own OAuth requests routed through it", async () => {
    // The SDK sends its discovery and token requests through the transport's fetch: with the
    // SDK's own ClientCredentialsProvider, those pass through the auth fetch inside the user context.
    const authProvider = new ClientCredentialsProvider({
      clientId: 'test-client',
      clientSecret: 'test-secret',
      expectedIssuer: oauth.issuer,
    })
    const fetch = createAuthFetch({ serverUrl: mcp.url, cookies: { allow: ['session_id'] } })
    await withUserContext({ cookie: 'session_id=abc' }, async () => {
      const client = new Client({ name: 'sdk-oauth', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider, fetch }))
      await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
      await client.close()
    })
    expect(oauth.tokenRequests).toHaveLength(1)
    expect(oauth.tokenRequests[0]!.headers.cookie).toBeUndefined()
    expect(oauth.tokenRequests[0]!.headers.authorization).toMatch(/^Basic /)
    expect(mcp.toolCalls[0]!.cookies).toEqual({ session_id: 'abc' })
  })

  it('keeps 300 concurrent users on one shared client apart', async () => {
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      cookies: { allow: ['session_id', 'user_id'] },
    })
    const client = await connect(fetch)
    const users = Array.from({ length: 300 }, (_, i) => i)
    await Promise.all(
      users.map((i) =>
        withUserContext({ cookie: `session_id=s-${i}; user_id=u-${i}; tracking=t-${i}` }, async () => {
          // Yield so that contexts interleave.
          await new Promise((resolve) => setTimeout(resolve, i % 7))
          return client.callTool({ name: 'get_customer_info', arguments: { customer_id: `c-${i}` } })
        }),
      ),
    )
    expect(mcp.toolCalls).toHaveLength(300)
    let crossings = 0
    for (const call of mcp.toolCalls) {
      const i = String(call.args.customer_id).slice(2)
      if (
        call.cookies.session_id !== `s-${i}` ||
        call.cookies.user_id !== `u-${i}` ||
        'tracking' in call.cookies
      ) {
        crossings++
      }
    }
    expect(crossings).toBe(0)
    expect(oauth.tokenRequests).toHaveLength(1)
    await client.close()
  })

  it('refreshes ahead of expiry under load: one token request, zero 401s', async () => {
    let now = Date.now()
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider: provider(undefined, () => now) })
    const client = await connect(fetch)
    expect(oauth.tokenRequests).toHaveLength(1)
    now += 3_590_000 // 10 s before the 1 h token expires: inside the refresh window
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.callTool({ name: 'get_customer_info', arguments: { customer_id: `c-${i}` } }),
      ),
    )
    expect(results.filter((r) => r.isError)).toHaveLength(0)
    expect(oauth.tokenRequests).toHaveLength(2)
    expect(unauthorizedResponses()).toBe(0)
    await client.close()
  })

  it('on 401 invalid_token drops exactly the rejected token and retries once', async () => {
    const tokenProvider = provider()
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider })
    const client = await connect(fetch)
    const before = await tokenProvider.getToken()
    await oauth.rotateKeys() // the MCP server no longer accepts tokens signed with the old key
    const result = await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
    expect(result.isError).toBeFalsy()
    expect(unauthorizedResponses()).toBe(1)
    expect(oauth.tokenRequests).toHaveLength(2)
    expect((await tokenProvider.getToken()).value).not.toBe(before.value)
    await client.close()
  })

  it('returns a second 401 to the SDK instead of looping', async () => {
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider: provider() })
    let calls = 0
    msw.use(
      http.post(mcp.url, () => {
        calls++
        return new HttpResponse(null, {
          status: 401,
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        })
      }),
    )
    const response = await fetch(mcp.url, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(response.status).toBe(401)
    expect(calls).toBe(2)
    expect(oauth.tokenRequests).toHaveLength(2)
  })

  it('on 403 insufficient_scope gets a token for the union of scopes and retries once', async () => {
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider: provider('mcp:read customer:read') })
    const client = await connect(fetch)
    const result = await client.callTool({
      name: 'create_support_ticket',
      arguments: { customer_id: 'c1', subject: 'help', description: 'broken' },
    })
    expect(result.isError).toBeFalsy()
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(1)
    expect(oauth.tokenRequests.map((r) => [...r.scope].sort().join(' '))).toEqual([
      'customer:read mcp:read',
      'customer:read mcp:read ticket:create',
    ])
    // Later calls use the stepped-up token at once.
    await client.callTool({
      name: 'create_support_ticket',
      arguments: { customer_id: 'c2', subject: 's', description: 'd' },
    })
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(1)
    expect(oauth.tokenRequests).toHaveLength(2)
    await client.close()
  })

  it('steps up only to scopes in stepUpScopes', async () => {
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider('mcp:read customer:read'),
      stepUpScopes: ['customer:read'],
    })
    const client = await connect(fetch)
    await expect(
      client.callTool({
        name: 'create_support_ticket',
        arguments: { customer_id: 'c', subject: 's', description: 'd' },
      }),
    ).rejects.toThrow(/403|insufficient_scope|Forbidden/i)
    expect(oauth.tokenRequests).toHaveLength(1)
    await client.close()
  })

  it('returns the 403 when the authorization server refuses the step-up, and pauses that scope set for 30 s', async () => {
    const limited = createMockOAuthServer({
      issuer: 'https://limited-auth.mock.test',
      clients: [{ clientId: 'limited', clientSecret: 'limited-secret', allowedScopes: ['customer:read'] }],
    })
    const limitedMcp = createMockMcpServer({ oauth: limited, url: 'https://limited.mock.test/mcp' })
    msw.use(...limited.handlers, ...limitedMcp.handlers)
    const tokenProvider = new ClientCredentialsTokenProvider({
      resourceServerUrl: limitedMcp.url,
      clientId: 'limited',
      clientSecret: 'limited-secret',
      scope: 'customer:read',
    })
    let now = 1_000_000
    const fetch = createAuthFetch({ serverUrl: limitedMcp.url, tokenProvider, now: () => now })
    const client = await connect(fetch, limitedMcp.url)
    const ticket = () =>
      client.callTool({
        name: 'create_support_ticket',
        arguments: { customer_id: 'c', subject: 's', description: 'd' },
      })
    const stepUps = () => limited.tokenRequests.filter((r) => r.scope.includes('ticket:create')).length
    await expect(ticket()).rejects.toThrow(/403|insufficient_scope|Forbidden/i)
    expect(limited.tokenRequests.map((r) => r.error)).toContain('invalid_scope')
    expect(stepUps()).toBe(1)
    // The refused scope set is not requested again during the 30 s pause…
    now += 29_999
    await expect(ticket()).rejects.toThrow(/403|insufficient_scope|Forbidden/i)
    expect(stepUps()).toBe(1)
    // …and is asked for again once it is over (the grant may have changed meanwhile).
    now += 2
    await expect(ticket()).rejects.toThrow(/403|insufficient_scope|Forbidden/i)
    expect(stepUps()).toBe(2)
    await client.close()
    await limitedMcp.close()
  })

  it('never carries Authorization or Cookie across a cross-origin redirect', async () => {
    redirect('https://mcp.mock.test/moved', 307, 'https://other.example.test/landing')
    const landed = recordHeaders('post', 'https://other.example.test/landing', { landed: true })
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      cookies: { allow: ['session_id'] },
    })
    const response = await withUserContext({ cookie: 'session_id=abc' }, () =>
      fetch('https://mcp.mock.test/moved', { method: 'POST', body: '{"a":1}' }),
    )
    expect(await response.json()).toEqual({ landed: true })
    expect(landed[0]!.get('authorization')).toBeNull()
    expect(landed[0]!.get('cookie')).toBeNull()
  })

  it('drops static and user headers too on a cross-origin redirect', async () => {
    redirect('https://mcp.mock.test/moved-again', 307, 'https://evil.example.test/collect')
    const landed = recordHeaders('post', 'https://evil.example.test/collect', { landed: true })
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      staticHeaders: { 'x-api-key': 'static-secret' },
      headers: { allow: ['x-user-token'] },
    })
    await withUserContext({ headers: { 'x-user-token': 'user-secret' } }, () =>
      fetch('https://mcp.mock.test/moved-again', {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      }),
    )
    expect(landed).toHaveLength(1)
    expect(landed[0]!.get('x-api-key')).toBeNull()
    expect(landed[0]!.get('x-user-token')).toBeNull()
    expect(landed[0]!.get('authorization')).toBeNull()
    expect(landed[0]!.get('content-type')).toBe('application/json')
  })

  it('strips a cookie from a Request object sent to another origin', async () => {
    const seen = recordHeaders('get', 'https://elsewhere.example.test/r')
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider: provider() })
    await fetch(new Request('https://elsewhere.example.test/r', { headers: { cookie: 'session_id=x' } }))
    expect(seen[0]!.get('cookie')).toBeNull()
  })

  it('keeps credentials on a same-origin redirect and respects redirect: manual', async () => {
    redirect('https://mcp.mock.test/old', 308, '/new')
    const landed = recordHeaders('post', 'https://mcp.mock.test/new')
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      cookies: { allow: ['session_id'] },
    })
    await withUserContext({ cookie: 'session_id=abc' }, () =>
      fetch('https://mcp.mock.test/old', { method: 'POST', body: '{}' }),
    )
    expect(landed[0]!.get('authorization')).toMatch(/^Bearer /)
    expect(landed[0]!.get('cookie')).toBe('session_id=abc')
    const manual = await fetch('https://mcp.mock.test/old', {
      method: 'POST',
      body: '{}',
      redirect: 'manual',
    })
    expect(manual.status).toBe(308)
    expect(landed).toHaveLength(1)
  })

  it('does not retry a request whose body is a stream', async () => {
    let calls = 0
    msw.use(
      http.post(mcp.url, () => {
        calls++
        return new HttpResponse(null, {
          status: 401,
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        })
      }),
    )
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider: provider() })
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{}'))
        controller.close()
      },
    })
    const response = await fetch(mcp.url, { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect(response.status).toBe(401)
    expect(calls).toBe(1)
  })

  it('refuses every kind of credential over plain http to a non-loopback server', () => {
    const credentials = [
      { tokenProvider: provider() },
      { cookies: { allow: ['session_id'] } },
      { headers: { allow: ['x-user-id'] } },
      { headers: { allow: [], rename: { 'x-upstream-authorization': 'authorization' } } },
      { staticHeaders: { 'x-api-key': 'static-secret' } },
    ]
    for (const options of credentials) {
      let error: unknown
      try {
        createAuthFetch({ serverUrl: 'http://mcp.example.test/mcp', ...options })
      } catch (e) {
        error = e
      }
      expect(error, JSON.stringify(Object.keys(options))).toMatchObject({ code: 'ERR_INSECURE_HTTP' })
      expect(String((error as Error).message)).not.toContain('static-secret')
      expect(() =>
        createAuthFetch({ serverUrl: 'http://mcp.example.test/mcp', ...options, allowInsecureHttp: true }),
      ).not.toThrow()
      expect(() => createAuthFetch({ serverUrl: 'http://127.0.0.1:1/mcp', ...options })).not.toThrow()
      expect(() => createAuthFetch({ serverUrl: 'http://localhost:1/mcp', ...options })).not.toThrow()
    }
    // Nothing of ours to send: nothing to refuse.
    expect(() => createAuthFetch({ serverUrl: 'http://mcp.example.test/mcp' })).not.toThrow()
  })

  it('never invalidates the token nor widens its scopes for a 401 or 403 from a cross-origin redirect target', async () => {
    const asked: (readonly string[] | undefined)[] = []
    const invalidated: (string | undefined)[] = []
    const tokenProvider: TokenProvider = {
      async getToken(options) {
        asked.push(options?.scopes)
        return { value: 'service-token', tokenType: 'Bearer', expiresAt: Date.now() + 3600_000, scopes: [] }
      },
      invalidate: (rejected) => invalidated.push(rejected),
    }
    redirect('https://mcp.mock.test/to-401', 307, 'https://other.example.test/401')
    redirect('https://mcp.mock.test/to-403', 307, 'https://other.example.test/403')
    msw.use(
      http.post(
        'https://other.example.test/401',
        () =>
          new HttpResponse(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          }),
      ),
      http.post(
        'https://other.example.test/403',
        () =>
          new HttpResponse(null, {
            status: 403,
            headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="admin:everything"' },
          }),
      ),
    )
    const fetch = createAuthFetch({ serverUrl: mcp.url, tokenProvider })
    expect((await fetch('https://mcp.mock.test/to-401', { method: 'POST', body: '{}' })).status).toBe(401)
    expect((await fetch('https://mcp.mock.test/to-403', { method: 'POST', body: '{}' })).status).toBe(403)
    expect(invalidated).toEqual([])
    // One token per request, never one with the target's scopes.
    expect(asked).toEqual([undefined, undefined])
  })

  it("sends no user data, static header or bearer to an authorization server on the MCP server's origin", async () => {
    // The SDK's own OAuth (metadata discovery, the token request) goes through the auth fetch;
    // here the authorization server shares the MCP server's origin.
    const shared = createMockOAuthServer({ issuer: 'https://shared.mock.test' })
    const sharedMcp = createMockMcpServer({ oauth: shared, url: 'https://shared.mock.test/mcp' })
    msw.use(...shared.handlers, ...sharedMcp.handlers)
    const seen: { path: string; cookie: string | null; user: string | null; key: string | null }[] = []
    const onStart = ({ request }: { request: Request }) => {
      seen.push({
        path: new URL(request.url).pathname,
        cookie: request.headers.get('cookie'),
        user: request.headers.get('x-user-id'),
        key: request.headers.get('x-api-key'),
      })
    }
    msw.events.on('request:start', onStart)
    try {
      const authProvider = new ClientCredentialsProvider({
        clientId: 'test-client',
        clientSecret: 'test-secret',
        expectedIssuer: shared.issuer,
      })
      const fetch = createAuthFetch({
        serverUrl: sharedMcp.url,
        cookies: { allow: ['session_id'] },
        headers: { allow: ['x-user-id'] },
        staticHeaders: { 'x-api-key': 'static-value' },
      })
      await withUserContext({ cookie: 'session_id=abc', headers: { 'x-user-id': 'u1' } }, async () => {
        const client = new Client({ name: 'shared-origin', version: '1.0.0' })
        await client.connect(
          new StreamableHTTPClientTransport(new URL(sharedMcp.url), { authProvider, fetch }),
        )
        await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
        await client.close()
      })
    } finally {
      msw.events.removeListener('request:start', onStart)
      await sharedMcp.close()
    }
    const oauthSide = seen.filter((r) => r.path !== '/mcp')
    expect(oauthSide.map((r) => r.path)).toEqual(expect.arrayContaining(['/token']))
    expect(oauthSide.some((r) => r.path.startsWith('/.well-known/oauth-authorization-server'))).toBe(true)
    for (const request of oauthSide) expect(request).toMatchObject({ cookie: null, user: null, key: null })
    expect(shared.tokenRequests).toHaveLength(1)
    expect(shared.tokenRequests[0]!.headers.authorization).toMatch(/^Basic /)
    // The MCP requests themselves still get everything.
    expect(sharedMcp.toolCalls[0]!.cookies).toEqual({ session_id: 'abc' })
    expect(seen.filter((r) => r.path === '/mcp').every((r) => r.key === 'static-value')).toBe(true)
  })

  it('marks itself with the fetch it delegates to', () => {
    const mark = Symbol.for('mcp-oauth2.underlyingFetch')
    const given = (url: string | URL | Request, init?: RequestInit) => globalThis.fetch(url, init)
    const explicit = createAuthFetch({ serverUrl: mcp.url, fetch: given })
    expect((explicit as unknown as Record<symbol, unknown>)[mark]).toBe(given)
    const current = globalThis.fetch
    const implicit = createAuthFetch({ serverUrl: mcp.url })
    expect((implicit as unknown as Record<symbol, unknown>)[mark]).toBe(current)
    // An auth fetch over an auth fetch delegates to what is underneath both.
    globalThis.fetch = implicit
    try {
      const stacked = createAuthFetch({ serverUrl: mcp.url })
      expect((stacked as unknown as Record<symbol, unknown>)[mark]).toBe(current)
    } finally {
      globalThis.fetch = current
    }
  })

  it('composes with the SDK applyMiddlewares, calling the next it is given', async () => {
    const seen: string[] = []
    const fetch = applyMiddlewares(authMiddleware({ serverUrl: mcp.url, tokenProvider: provider() }))(
      (url, init) => {
        seen.push(new Headers(init?.headers).get('authorization') ?? 'none')
        return globalThis.fetch(url, init)
      },
    )
    const client = await connect(fetch)
    const { tools } = await client.listTools()
    expect(tools.length).toBe(4)
    await client.close()
    // Every MCP request went through `next`, with the bearer already added.
    const mcpRequests = mcp.requests.filter((r) => r.method === 'POST').length
    expect(seen.filter((a) => a.startsWith('Bearer ey')).length).toBeGreaterThanOrEqual(mcpRequests)
    expect(mcpRequests).toBeGreaterThan(0)
  })
})

describe('createAuthFetch over loopback HTTP', () => {
  it('serves concurrent users with the real SDK client and zero crossings', async () => {
    msw.close() // real sockets for this block
    const servers = await startMockServers()
    try {
      const tokenProvider = new ClientCredentialsTokenProvider({
        resourceServerUrl: servers.mcp.url,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        scope: 'mcp:read customer:read',
      })
      const fetch = createAuthFetch({
        serverUrl: servers.mcp.url,
        tokenProvider,
        cookies: { allow: ['session_id'] },
      })
      const client = await connect(fetch, servers.mcp.url)
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          withUserContext({ cookie: `session_id=s-${i}; secret=zzz` }, () =>
            client.callTool({ name: 'get_customer_info', arguments: { customer_id: `c-${i}` } }),
          ),
        ),
      )
      const calls = servers.mcp.server.toolCalls
      expect(calls).toHaveLength(100)
      expect(
        calls.filter((c) => c.cookies.session_id !== `s-${String(c.args.customer_id).slice(2)}`),
      ).toHaveLength(0)
      expect(calls.filter((c) => 'secret' in c.cookies)).toHaveLength(0)
      expect(servers.oauth.server.tokenRequests).toHaveLength(1)
      expect(servers.oauth.server.tokenRequests[0]!.headers.cookie).toBeUndefined()
      await client.close()
    } finally {
      await servers.close()
      msw.listen({ onUnhandledFrame: 'error' })
    }
  })
})

describe('as globalThis.fetch', () => {
  it('calls the fetch it replaced, never itself, also for the token provider on another origin', async () => {
    msw.close() // real sockets: Node's own fetch underneath
    const servers = await startMockServers()
    const original = globalThis.fetch
    try {
      // No `fetch` anywhere: the token provider and the SDK transport both use globalThis.fetch.
      const tokenProvider = new ClientCredentialsTokenProvider({
        tokenUrl: servers.oauth.tokenEndpoint, // another origin (port) than the MCP server
        clientId: 'test-client',
        clientSecret: 'test-secret',
        scope: 'mcp:read customer:read',
        timeoutMs: 3000,
        retry: { limit: 0 },
      })
      const authFetch = createAuthFetch({
        serverUrl: servers.mcp.url,
        tokenProvider,
        cookies: { allow: ['session_id'] },
      })
      globalThis.fetch = authFetch
      const client = new Client({ name: 'langchain-style', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(servers.mcp.url)))
      const result = await withUserContext({ cookie: 'session_id=s1' }, () =>
        client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } }),
      )
      await client.close()
      expect(result.isError).toBeFalsy()
      expect(servers.oauth.server.tokenRequests).toHaveLength(1)
      expect(servers.oauth.server.tokenRequests[0]!.headers.cookie).toBeUndefined()
      const posts = servers.mcp.server.requests.filter((r) => r.method === 'POST')
      expect(posts.length).toBeGreaterThan(0)
      for (const request of posts) expect(request.headers.authorization).toMatch(/^Bearer ey/)
      expect(servers.mcp.server.toolCalls[0]!.cookies).toEqual({ session_id: 's1' })
    } finally {
      globalThis.fetch = original
      await servers.close()
      msw.listen({ onUnhandledFrame: 'error' })
    }
  })
})

describe('user headers', () => {
  it('forwards allowed user headers but never lets them replace the transport’s own', async () => {
    const seen = recordHeaders('post', 'https://mcp.mock.test/echo')
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      headers: { allow: ['x-user-*', 'mcp-*'] },
    })
    await withUserContext(
      { headers: { 'x-user-id': 'u1', 'mcp-session-id': 'someone-elses-session', 'x-other': 'no' } },
      () =>
        fetch('https://mcp.mock.test/echo', {
          method: 'POST',
          body: '{}',
          headers: { 'mcp-session-id': 'mine' },
        }),
    )
    expect(seen[0]!.get('x-user-id')).toBe('u1')
    expect(seen[0]!.get('x-other')).toBeNull()
    expect(seen[0]!.get('mcp-session-id')).toBe('mine')
    expect(seen[0]!.get('authorization')).toMatch(/^Bearer /)
    // Without a session of the transport's own (stateless), the user cannot set one either.
    await withUserContext({ headers: { 'mcp-session-id': 'someone-elses-session' } }, () =>
      fetch('https://mcp.mock.test/echo', { method: 'POST', body: '{}' }),
    )
    expect(seen[1]!.get('mcp-session-id')).toBeNull()
  })

  it('forwards a user token only through an explicit rename to authorization', async () => {
    const seen = recordHeaders('post', 'https://mcp.mock.test/echo')
    const fetch = createAuthFetch({
      serverUrl: mcp.url,
      tokenProvider: provider(),
      headers: { allow: [], rename: { 'x-upstream-authorization': 'authorization' } },
    })
    await withUserContext({ headers: { 'x-upstream-authorization': 'Bearer user-token' } }, () =>
      fetch('https://mcp.mock.test/echo', { method: 'POST', body: '{}' }),
    )
    expect(seen[0]!.get('authorization')).toBe('Bearer user-token')
    expect(seen[0]!.get('x-upstream-authorization')).toBeNull()
  })
})
