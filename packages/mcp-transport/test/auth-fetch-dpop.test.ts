// DPoP on the MCP server's requests (RFC 9449 §7), the auth fetch's DPoP step: against the
// testkit's DPoP-checking mock MCP server (proofs, cnf.jkt, replay, nonces) and mock authorization
// server (DPoP-bound tokens, its own nonce), in process over msw and over loopback HTTP, through
// the MCP SDK's real client.
import {
  type AccessToken,
  ClientCredentialsTokenProvider,
  DpopKey,
  TokenExchangeTokenProvider,
  type TokenProvider,
} from '@mcp-oauth2/auth-core'
import {
  createMockMcpServer,
  createMockOAuthServer,
  type McpRequestRecord,
  type MockMcpServer,
  startMockServers,
} from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type AuthFetchOptions, createAuthFetch } from '../src/auth-fetch.js'
import { withUserContext } from '../src/user-context.js'

const MCP_URL = 'https://dpop-mcp.mock.test/mcp'
const oauth = createMockOAuthServer({
  clients: [
    {
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      allowedScopes: ['mcp:read', 'customer:read', 'ticket:create'],
    },
  ],
  dpop: { nonce: 'as-nonce' },
})
const mcp = createMockMcpServer({ oauth, url: MCP_URL, dpop: { required: true, nonce: 'rs-nonce' } })
const msw = setupServer(...oauth.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => {
  msw.resetHandlers()
  oauth.setNow(Date.now)
  oauth.reset()
  mcp.reset()
})
afterAll(async () => {
  await mcp.close()
  msw.close()
})

function provider(key = new DpopKey(), url = MCP_URL) {
  return new ClientCredentialsTokenProvider({
    resourceServerUrl: url,
    clientId: 'gateway',
    clientSecret: 'gw-secret',
    scope: 'mcp:read customer:read',
    dpop: key,
    now: () => oauth.now(),
  })
}

async function connect(options: Partial<AuthFetchOptions>, url = MCP_URL) {
  const fetch = createAuthFetch({ serverUrl: url, ...options })
  const client = new Client({ name: 'dpop-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch }))
  return { client, fetch }
}

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>

/** The claims of the DPoP proof a recorded request carried, if any. */
function proofOf(record: McpRequestRecord): Record<string, unknown> | undefined {
  const proof = record.headers['dpop']
  return proof === undefined ? undefined : claims(proof)
}

const mcpPosts = (server: MockMcpServer = mcp) => server.requests.filter((r) => r.method === 'POST')
const getCustomer = (client: Client, id = 'c1') =>
  client.callTool({ name: 'get_customer_info', arguments: { customer_id: id } })

describe('DPoP in the auth fetch', () => {
  it('sends Authorization: DPoP and a fresh proof per request (htm, htu, ath, iat, jti) with the key of cnf.jkt', async () => {
    const key = new DpopKey()
    const { client } = await connect({ tokenProvider: provider(key) })
    await client.listTools()
    await getCustomer(client)
    const thumbprint = await key.thumbprint()
    const answered = mcp.requests.filter((r) => r.status < 400)
    expect(answered.length).toBeGreaterThanOrEqual(4) // initialize, initialized, tools/list, tools/call
    const jtis = new Set<unknown>()
    for (const request of mcp.requests) {
      expect(request.authScheme).toBe('DPoP')
      expect(request.headers['authorization']).toMatch(/^DPoP ey/)
      const proof = proofOf(request)!
      expect(proof).toMatchObject({ htm: request.method, htu: MCP_URL })
      expect(typeof proof['iat']).toBe('number')
      expect(proof['ath']).toBe(
        Buffer.from(
          await crypto.subtle.digest(
            'SHA-256',
            new TextEncoder().encode(request.headers['authorization']!.slice(5)),
          ),
        ).toString('base64url'),
      )
      jtis.add(proof['jti'])
      const bound = claims(request.headers['authorization']!.slice(5)).cnf as { jkt: string }
      expect(bound.jkt).toBe(thumbprint)
    }
    for (const request of answered) expect(request.dpop?.jkt).toBe(thumbprint)
    expect(jtis.size).toBe(mcp.requests.length)
    expect(mcp.toolCalls).toHaveLength(1)
    // The token endpoint saw the provider's own proofs only, with its own nonce, never the MCP server's.
    expect(oauth.tokenRequests.map((r) => [r.error ?? r.status, r.dpop?.nonce])).toEqual([
      ['use_dpop_nonce', undefined],
      [200, 'as-nonce'],
    ])
    for (const r of oauth.tokenRequests) expect(r.dpop?.jkt).toBe(thumbprint)
    await client.close()
  })

  it("answers the MCP server's use_dpop_nonce once with a new proof, keeps the nonce, and does not take it for an invalid token", async () => {
    const nonce = mcp.rotateDpopNonce()
    const tokenProvider = provider()
    const { client } = await connect({ tokenProvider })
    await getCustomer(client)
    const challenged = mcp.requests.filter((r) => r.authError === 'use_dpop_nonce')
    // Only the very first request was challenged; every later one carried the nonce from the start.
    expect(challenged).toHaveLength(1)
    expect(mcp.requests.indexOf(challenged[0]!)).toBe(0)
    expect(proofOf(mcp.requests[0]!)!['nonce']).toBeUndefined()
    for (const request of mcp.requests.slice(1)) expect(proofOf(request)!['nonce']).toBe(nonce)
    // A fresh jti across the retry.
    expect(proofOf(mcp.requests[1]!)!['jti']).not.toBe(proofOf(mcp.requests[0]!)!['jti'])
    // The token was not dropped: one token (after the AS's own nonce round).
    expect(oauth.tokenRequests.filter((r) => r.status === 200)).toHaveLength(1)

    // The server rotates its nonce: one more challenge and retry, still the same token.
    const rotated = mcp.rotateDpopNonce()
    const before = mcp.requests.length
    await getCustomer(client)
    const after = mcp.requests.slice(before).filter((r) => r.method === 'POST')
    expect(after.map((r) => [r.status, proofOf(r)!['nonce']])).toEqual([
      [401, nonce],
      [200, rotated],
    ])
    expect(oauth.tokenRequests.filter((r) => r.status === 200)).toHaveLength(1)
    expect(mcp.toolCalls).toHaveLength(2)
    await client.close()
  })

  it('retries a use_dpop_nonce challenge exactly once, and never invalidates the token for it', async () => {
    const tokenProvider = provider()
    await tokenProvider.getToken()
    const fetch = createAuthFetch({ serverUrl: MCP_URL, tokenProvider })
    // A server that wants a new nonce on every request: the retry is challenged again.
    msw.use(
      http.post(MCP_URL, async ({ request }) => {
        mcp.rotateDpopNonce()
        return mcp.handle(request)
      }),
    )
    const before = mcp.requests.length
    const tokens = oauth.tokenRequests.length
    const response = await fetch(MCP_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/use_dpop_nonce/)
    expect(mcp.requests.slice(before).map((r) => r.authError)).toEqual(['use_dpop_nonce', 'use_dpop_nonce'])
    expect(oauth.tokenRequests.length).toBe(tokens)
    await response.arrayBuffer()
  })

  it('remembers a DPoP-Nonce the server sends on any response', async () => {
    const { client } = await connect({ tokenProvider: provider() })
    // The server hands out its next nonce on a successful answer (RFC 9449 §8.2).
    let next: string | undefined
    msw.use(
      http.post(MCP_URL, async ({ request }) => {
        const response = await mcp.handle(request)
        if (response.status !== 200 || next !== undefined) return response
        next = mcp.rotateDpopNonce()
        const headers = new Headers(response.headers)
        headers.set('dpop-nonce', next)
        return new Response(response.body, { status: response.status, headers })
      }),
    )
    const before = mcp.requests.length
    await getCustomer(client)
    await getCustomer(client, 'c2')
    const later = mcp.requests.slice(before)
    // The POSTs after the answer that carried the nonce use it: none is refused. (The SDK's
    // event-stream GET runs on its own schedule and may have left with the old nonce.)
    const posts = later.filter((r) => r.method === 'POST')
    expect(posts.filter((r) => r.status === 401)).toHaveLength(0)
    expect(proofOf(posts.at(-1)!)!['nonce']).toBe(next)
    await client.close()
  })

  it('a 401 invalid_token with a DPoP-bound token drops it and retries once with a new token and a new proof', async () => {
    const tokenProvider = provider()
    const fetch = createAuthFetch({ serverUrl: MCP_URL, tokenProvider })
    const initialize = () =>
      fetch(MCP_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      })
    await (await initialize()).arrayBuffer()
    const tokens = oauth.tokenRequests.filter((r) => r.status === 200).length
    mcp.failNext(1, { status: 401, headers: { 'www-authenticate': 'DPoP error="invalid_token"' } })
    const response = await initialize()
    expect(response.status).toBe(200)
    await response.arrayBuffer()
    expect(oauth.tokenRequests.filter((r) => r.status === 200).length).toBe(tokens + 1)
    const [rejected, retried] = mcpPosts().slice(-2)
    expect(rejected!.status).toBe(401)
    expect(retried!.status).toBe(200)
    expect(retried!.headers['authorization']).not.toBe(rejected!.headers['authorization'])
    expect(proofOf(retried!)!['jti']).not.toBe(proofOf(rejected!)!['jti'])
  })

  it('steps up a DPoP-bound token on 403 insufficient_scope', async () => {
    const { client } = await connect({ tokenProvider: provider() })
    const result = await client.callTool({
      name: 'create_support_ticket',
      arguments: { customer_id: 'c1', subject: 's' },
    })
    expect(result.isError).not.toBe(true)
    expect(mcp.requests.filter((r) => r.status === 403)).toHaveLength(1)
    expect(mcp.toolCalls[0]!.scopes).toContain('ticket:create')
    await client.close()
  })

  it('never sends a proof or the token to another origin, a redirect target elsewhere, or the authorization server', async () => {
    const seen: { url: string; headers: Headers }[] = []
    const record = ({ request }: { request: Request }) => {
      seen.push({ url: request.url, headers: request.headers })
      return HttpResponse.json({ ok: true })
    }
    msw.use(
      http.get('https://elsewhere.mock.test/x', record),
      http.post('https://elsewhere.mock.test/landing', record),
      http.post('https://dpop-mcp.mock.test/moved', ({ request }) => {
        seen.push({ url: request.url, headers: request.headers })
        return new HttpResponse(null, {
          status: 307,
          headers: { location: 'https://elsewhere.mock.test/landing' },
        })
      }),
      http.post(
        'https://dpop-mcp.mock.test/same-origin',
        () =>
          new HttpResponse(null, { status: 307, headers: { location: 'https://dpop-mcp.mock.test/moved' } }),
      ),
      http.get('https://dpop-mcp.mock.test/.well-known/oauth-authorization-server', record),
      http.post('https://dpop-mcp.mock.test/token', record),
    )
    const fetch = createAuthFetch({ serverUrl: MCP_URL, tokenProvider: provider() })
    const json = { 'content-type': 'application/json' }
    await fetch('https://elsewhere.mock.test/x')
    await fetch('https://dpop-mcp.mock.test/same-origin', { method: 'POST', headers: json, body: '{}' })
    await fetch('https://dpop-mcp.mock.test/.well-known/oauth-authorization-server')
    await fetch('https://dpop-mcp.mock.test/token', { method: 'POST', body: new URLSearchParams({ a: 'b' }) })
    expect(seen.map((s) => new URL(s.url).pathname)).toEqual([
      '/x',
      '/moved',
      '/landing',
      '/.well-known/oauth-authorization-server',
      '/token',
    ])
    for (const { url, headers } of seen) {
      if (new URL(url).pathname === '/moved') {
        // A hop on the MCP server's origin gets a proof of its own, for its own URL.
        expect(headers.get('authorization')).toMatch(/^DPoP /)
        expect(claims(headers.get('dpop')!)).toMatchObject({
          htm: 'POST',
          htu: 'https://dpop-mcp.mock.test/moved',
        })
        continue
      }
      expect(headers.get('dpop'), url).toBeNull()
      expect(headers.get('authorization'), url).toBeNull()
    }
    // The token endpoint of the real authorization server got the provider's proofs, not ours.
    for (const r of oauth.tokenRequests) expect(claims(r.headers['dpop']!)['htu']).toBe(oauth.tokenEndpoint)
  })

  it("keeps each MCP server's nonce to itself when two servers share one key", async () => {
    const other = createMockMcpServer({
      oauth,
      url: 'https://dpop-mcp-2.mock.test/mcp',
      dpop: { required: true, nonce: true },
    })
    msw.use(...other.handlers)
    try {
      const [nonce1, nonce2] = [mcp.rotateDpopNonce(), other.rotateDpopNonce()]
      const key = new DpopKey()
      const tokenProvider = provider(key)
      const one = await connect({ tokenProvider })
      const two = await connect({ tokenProvider: provider(key, other.url) }, other.url)
      await getCustomer(one.client)
      await getCustomer(two.client)
      await getCustomer(one.client)
      for (const r of mcp.requests.slice(1)) expect(proofOf(r)!['nonce']).toBe(nonce1)
      for (const r of other.requests.slice(1)) expect(proofOf(r)!['nonce']).toBe(nonce2)
      expect(key.nonceFor(MCP_URL)).toBe(nonce1)
      expect(key.nonceFor(other.url)).toBe(nonce2)
      expect(key.nonceFor(oauth.tokenEndpoint)).toBe('as-nonce')
      await one.client.close()
      await two.client.close()
    } finally {
      await other.close()
    }
  })

  it("the mock server refuses a replayed proof, and the auth fetch's proofs are never replayed", async () => {
    const { client } = await connect({ tokenProvider: provider() })
    await getCustomer(client)
    const sent = mcpPosts().at(-1)!
    const replay = await fetch(MCP_URL, {
      method: 'POST',
      headers: {
        authorization: sent.headers['authorization']!,
        dpop: sent.headers['dpop']!,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sent.headers['mcp-session-id']!,
        'mcp-protocol-version': sent.headers['mcp-protocol-version']!,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
    })
    expect(replay.status).toBe(401)
    expect(mcp.requests.at(-1)!.authError).toBe('invalid_dpop_proof')
    await replay.arrayBuffer()
    // Through the auth fetch, however many requests: no proof was refused.
    for (let i = 0; i < 20; i++) await getCustomer(client, `c${i}`)
    expect(mcp.requests.filter((r) => r.authError === 'invalid_dpop_proof')).toHaveLength(1)
    await client.close()
  })

  it('sends a DPoP-bound user token (token exchange with dpop) inside withUserContext', async () => {
    const key = new DpopKey()
    const userTokenProvider = new TokenExchangeTokenProvider({
      resourceServerUrl: MCP_URL,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      scope: 'customer:read',
      dpop: key,
    })
    const { client } = await connect({ tokenProvider: provider(key), userTokenProvider })
    const alice = await oauth.issueToken({ sub: 'alice', aud: 'gateway', scope: 'customer:read' })
    await withUserContext({ subjectToken: alice }, () => getCustomer(client, 'alice'))
    expect(mcp.toolCalls.map((c) => c.subject)).toEqual(['alice'])
    expect(mcpPosts().at(-1)!.authScheme).toBe('DPoP')
    await client.close()
  })

  it('refuses a DPoP token that came without its key, sending nothing', async () => {
    const keyless: TokenProvider = {
      async getToken(): Promise<AccessToken> {
        return { value: 'eyJ.x.y', tokenType: 'DPoP', expiresAt: Date.now() + 60_000, scopes: [] }
      },
      invalidate() {},
    }
    const fetch = createAuthFetch({ serverUrl: MCP_URL, tokenProvider: keyless })
    await expect(fetch(MCP_URL, { method: 'POST', body: '{}' })).rejects.toMatchObject({
      code: 'ERR_DPOP_KEY_REQUIRED',
    })
    expect(mcp.requests).toHaveLength(0)
  })
})

describe('DPoP in the auth fetch over loopback HTTP', () => {
  it('Streamable HTTP and legacy SSE against the loopback mock servers, with nonces on both', async () => {
    msw.close() // real sockets for this block
    const servers = await startMockServers({ dpop: { required: true, nonce: true } })
    try {
      const key = new DpopKey()
      const tokenProvider = new ClientCredentialsTokenProvider({
        resourceServerUrl: servers.mcp.url,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        scope: 'mcp:read customer:read',
        dpop: key,
      })
      const fetch = createAuthFetch({ serverUrl: servers.mcp.url, tokenProvider })
      const client = new Client({ name: 'dpop-loopback', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(servers.mcp.url), { fetch }))
      await getCustomer(client)
      await client.close()

      const sseFetch = createAuthFetch({ serverUrl: servers.mcp.sseUrl!, tokenProvider })
      const sse = new Client({ name: 'dpop-loopback-sse', version: '1.0.0' })
      await sse.connect(new SSEClientTransport(new URL(servers.mcp.sseUrl!), { fetch: sseFetch }))
      await getCustomer(sse, 'c2')
      await sse.close()

      const records = servers.mcp.server.requests
      expect(servers.mcp.server.toolCalls).toHaveLength(2)
      const jtis = records.map((r) => proofOf(r)?.['jti'])
      expect(new Set(jtis).size).toBe(records.length)
      for (const r of records) {
        expect(r.authScheme).toBe('DPoP')
        const proof = proofOf(r)!
        // htu: without the query (the legacy transport's ?sessionId=…).
        expect(proof['htu']).toBe(`${new URL(r.url).origin}${new URL(r.url).pathname}`)
        expect(proof['htm']).toBe(r.method)
      }
      // One challenge of the MCP server's nonce at the start; one token, never dropped for it.
      expect(records.filter((r) => r.authError === 'use_dpop_nonce')).toHaveLength(1)
      expect(records.filter((r) => r.status >= 400)).toHaveLength(1)
      expect(servers.oauth.server.tokenRequests.filter((r) => r.status === 200)).toHaveLength(1)
      expect(key.nonceFor(servers.mcp.url)).not.toBe(key.nonceFor(servers.oauth.tokenEndpoint))
    } finally {
      await servers.close()
      msw.listen({ onUnhandledFrame: 'error' })
    }
  }, 30_000)
})
