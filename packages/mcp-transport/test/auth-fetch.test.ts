import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
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

  it('returns the 403 when the authorization server refuses the step-up', async () => {
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
    const fetch = createAuthFetch({ serverUrl: limitedMcp.url, tokenProvider })
    const client = await connect(fetch, limitedMcp.url)
    await expect(
      client.callTool({
        name: 'create_support_ticket',
        arguments: { customer_id: 'c', subject: 's', description: 'd' },
      }),
    ).rejects.toThrow(/403|insufficient_scope|Forbidden/i)
    expect(limited.tokenRequests.map((r) => r.error)).toContain('invalid_scope')
    // The refused scope set is not requested again on the next call.
    const requests = limited.tokenRequests.length
    await expect(
      client.callTool({
        name: 'create_support_ticket',
        arguments: { customer_id: 'c', subject: 's', description: 'd' },
      }),
    ).rejects.toThrow(/403|insufficient_scope|Forbidden/i)
    expect(limited.tokenRequests).toHaveLength(requests)
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

  it('refuses a bearer over plain http to a non-loopback server', () => {
    expect(() =>
      createAuthFetch({ serverUrl: 'http://mcp.example.test/mcp', tokenProvider: provider() }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_HTTP' }))
    expect(() =>
      createAuthFetch({ serverUrl: 'http://127.0.0.1:1/mcp', tokenProvider: provider() }),
    ).not.toThrow()
  })

  it('composes with the SDK applyMiddlewares', async () => {
    const fetch = applyMiddlewares(authMiddleware({ serverUrl: mcp.url, tokenProvider: provider() }))(
      (url, init) => globalThis.fetch(url, init),
    )
    const client = await connect(fetch)
    const { tools } = await client.listTools()
    expect(tools.length).toBe(4)
    await client.close()
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
