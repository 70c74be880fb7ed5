// The mock MCP server across MCP revisions: 2026-07-28 (sessionless, SDK v2 client in `auto` or
// pinned negotiation) and 2025-11-25 and earlier (sessions, SDK v1 client), with the same auth,
// scopes, records and faults; cache hints; header validation; DNS-rebinding protection.
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMockMcpServer, createMockOAuthServer, type MockMcpServer } from '../src/index.js'

const oauth = createMockOAuthServer()
const mcp = createMockMcpServer({ oauth })
const modernOnly = createMockMcpServer({
  oauth,
  url: 'https://modern.mock.test/mcp',
  protocolVersion: '2026-07-28',
})
const legacyOnly = createMockMcpServer({
  oauth,
  url: 'https://legacy.mock.test/mcp',
  protocolVersion: '2025-11-25',
})
const older = createMockMcpServer({
  oauth,
  url: 'https://older.mock.test/mcp',
  protocolVersion: '2025-06-18',
})
const open = createMockMcpServer({ oauth, url: 'https://open.mock.test/mcp', auth: false })
const fixtures = createMockMcpServer({
  oauth,
  url: 'https://fixtures.mock.test/mcp',
  auth: false,
  conformanceFixtures: true,
  cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } },
})
const servers = [mcp, modernOnly, legacyOnly, older, open, fixtures]
const msw = setupServer(...oauth.handlers, ...servers.flatMap((s) => s.handlers))
const closers: { close(): Promise<void> }[] = []
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()))
  oauth.reset()
  for (const s of servers) s.reset()
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  msw.close()
})

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>

/** The SDK v2 client; `auto` negotiation unless pinned. `rewrite` may alter a real request's headers. */
async function v2(
  server: MockMcpServer,
  options: {
    token?: string
    pin?: boolean
    rewrite?: (headers: Headers) => void
    responses?: Response[]
  } = {},
) {
  const token = options.token ?? (await oauth.issueToken({ aud: server.url }))
  const fetch: Fetch = (url, init) => {
    const headers = new Headers(init?.headers)
    options.rewrite?.(headers)
    return globalThis.fetch(url, { ...init, headers }).then((response) => {
      options.responses?.push(response.clone())
      return response
    })
  }
  const client = new V2Client(
    { name: 'v2', version: '1.0.0' },
    { versionNegotiation: { mode: options.pin ? { pin: '2026-07-28' } : 'auto' } },
  )
  closers.push(client)
  await client.connect(
    new V2Transport(new URL(server.url), { fetch, authProvider: { token: async () => token } }),
  )
  return client
}

async function v1(server: MockMcpServer, token?: string) {
  const bearer = token ?? (await oauth.issueToken({ aud: server.url }))
  const client = new Client({ name: 'v1', version: '1.0.0' })
  closers.push(client)
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    }),
  )
  return client
}

describe('revisions', () => {
  it('serves an SDK v2 client in 2026-07-28, sessionless, and records the revision per request', async () => {
    const client = await v2(mcp)
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-002' },
    })
    expect(result.structuredContent).toMatchObject({ name: 'Alan Turing' })
    const served = mcp.requests.filter((r) => r.status === 200)
    expect(served.map((r) => r.jsonRpcMethod)).toEqual(['server/discover', 'tools/call'])
    expect(served.every((r) => r.protocolVersion === '2026-07-28' && r.sessionId === undefined)).toBe(true)
    expect(mcp.toolCalls).toMatchObject([
      { tool: 'get_customer_info', clientId: 'test-client', protocolVersion: '2026-07-28' },
    ])
    expect(mcp.requests.find((r) => r.jsonRpcMethod === 'tools/call')?.headers).toMatchObject({
      'mcp-method': 'tools/call',
      'mcp-name': 'get_customer_info',
    })
  })

  it('serves an SDK v1 client in 2025-11-25 with a session, at the same URL', async () => {
    const client = await v1(mcp)
    expect(client.getServerVersion()?.name).toBe('mock-mcp-server')
    await client.callTool({ name: 'get_recent_customers', arguments: {} })
    const call = mcp.requests.find((r) => r.jsonRpcMethod === 'tools/call')
    expect(call).toMatchObject({ protocolVersion: '2025-11-25', status: 200 })
    expect(call?.sessionId).toBeTruthy()
    expect(mcp.requests.find((r) => r.jsonRpcMethod === 'initialize')?.protocolVersion).toBe('2025-11-25')
    expect(mcp.toolCalls[0]?.protocolVersion).toBe('2025-11-25')
  })

  it('pinned to 2026-07-28, refuses a 2025 client with -32022 and serves a pinned v2 client', async () => {
    await expect(v1(modernOnly)).rejects.toThrow()
    const refused = modernOnly.requests.find((r) => r.jsonRpcMethod === 'initialize')
    expect(refused?.status).toBe(400)
    const client = await v2(modernOnly, { pin: true })
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
  })

  it('pinned to a 2025 revision, makes an auto v2 client fall back to it', async () => {
    const client = await v2(legacyOnly)
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25')
    expect(legacyOnly.requests.map((r) => r.jsonRpcMethod)).toEqual(
      expect.arrayContaining(['server/discover', 'initialize']),
    )
    expect(legacyOnly.requests.find((r) => r.jsonRpcMethod === 'server/discover')?.status).toBe(400)
    const older2 = await v1(older)
    await older2.listTools()
    expect(older.requests.find((r) => r.jsonRpcMethod === 'tools/list')?.protocolVersion).toBe('2025-06-18')
  })

  it('checks bearer tokens and tool scopes in 2026-07-28 as in 2025', async () => {
    await expect(v2(mcp, { token: 'not-a-jwt', pin: true })).rejects.toThrow()
    expect(mcp.requests[0]).toMatchObject({
      status: 401,
      authError: 'invalid_token',
      jsonRpcMethod: 'server/discover',
    })
    const reader = await v2(mcp, { token: await oauth.issueToken({ aud: mcp.url, scope: 'mcp:read' }) })
    await expect(
      reader.callTool({ name: 'create_support_ticket', arguments: { customer_id: 'c', subject: 's' } }),
    ).rejects.toThrow()
    expect(mcp.requests.at(-1)).toMatchObject({ status: 403, authError: 'insufficient_scope' })
    expect(mcp.toolCalls).toEqual([])
  })

  it('injects faults in either revision: failNext answers 503 before auth, then recovers', async () => {
    mcp.failNext(1, { status: 503, headers: { 'retry-after': '1' } })
    await expect(v2(mcp, { pin: true })).rejects.toThrow()
    expect(mcp.requests[0]).toMatchObject({ status: 503 })
    expect(mcp.requests[0]?.authError).toBeUndefined()
    await expect(v2(mcp, { pin: true })).resolves.toBeTruthy()
    expect(() => mcp.failNext(-1)).toThrow(TypeError)
  })

  it('serves anyone with auth: false (the records show no token)', async () => {
    const client = await v2(open, { token: '' })
    await client.callTool({ name: 'get_recent_customers', arguments: {} })
    expect(open.requests.every((r) => r.authError === undefined && r.status < 400)).toBe(true)
    expect(open.toolCalls[0]).toMatchObject({ clientId: undefined, protocolVersion: '2026-07-28' })
  })
})

describe('2026-07-28 specifics', () => {
  it('puts the configured ttlMs/cacheScope on list results, changeable per list with setCacheHints', async () => {
    const client = await v2(fixtures)
    const tools = await client.listTools(undefined, { cacheMode: 'bypass' } as never)
    expect(tools).toMatchObject({ ttlMs: 60_000, cacheScope: 'public' })
    expect(await client.listPrompts()).toMatchObject({ ttlMs: 0, cacheScope: 'private' })
    fixtures.setCacheHints({ 'tools/list': { ttlMs: 5, cacheScope: 'private' } })
    expect(await client.listTools(undefined, { cacheMode: 'bypass' } as never)).toMatchObject({
      ttlMs: 5,
      cacheScope: 'private',
    })
    fixtures.setCacheHints({ 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } })
    const legacy = await v1(fixtures)
    expect(Object.keys(await legacy.listTools())).toEqual(['tools'])
  })

  it('rejects bad cache hints with a TypeError naming the option', () => {
    expect(() => createMockMcpServer({ oauth, cacheHints: { 'tools/list': { ttlMs: -1 } } })).toThrow(
      /"cacheHints"/,
    )
    expect(() => fixtures.setCacheHints({ 'tools/call': {} } as never)).toThrow(/"cacheHints"/)
    expect(() => fixtures.setCacheHints({ 'tools/list': { cacheScope: 'shared' as never } })).toThrow(
      /cacheScope/,
    )
  })

  it('answers an Mcp-Name header that does not match the body with 400 -32020', async () => {
    const responses: Response[] = []
    const client = await v2(mcp, {
      responses,
      rewrite: (headers) => {
        if (headers.get('mcp-name')) headers.set('mcp-name', 'some_other_tool')
      },
    })
    await expect(
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } }),
    ).rejects.toThrow()
    expect(await responses.at(-1)?.json()).toMatchObject({ error: { code: -32020 } })
    expect(mcp.requests.at(-1)).toMatchObject({ status: 400, jsonRpcMethod: 'tools/call' })
    expect(mcp.toolCalls).toEqual([])
  })

  it('checks Mcp-Param headers of x-mcp-header arguments (SEP-2243)', async () => {
    const client = await v2(fixtures)
    const ok = await client.callTool({ name: 'test_custom_header', arguments: { message: 'Grüße' } })
    expect(ok.content).toEqual([{ type: 'text', text: 'Echo: Grüße' }])
    expect(fixtures.requests.at(-1)?.headers['mcp-param-message']).toBe(
      `=?base64?${Buffer.from('Grüße').toString('base64')}?=`,
    )
    const responses: Response[] = []
    const lying = await v2(fixtures, {
      responses,
      rewrite: (headers) => {
        if (headers.has('mcp-param-message')) headers.set('mcp-param-message', 'something else')
      },
    })
    await expect(
      lying.callTool({ name: 'test_custom_header', arguments: { message: 'hi' } }),
    ).rejects.toThrow()
    expect(fixtures.requests.at(-1)).toMatchObject({ status: 400 })
  })
})

describe('fixtures and defaults', () => {
  it('keeps the four seed tools by default and lists the conformance fixtures first when asked', async () => {
    const plain = await v2(mcp)
    expect((await plain.listTools()).tools.map((t) => t.name)).toEqual([
      'get_customer_info',
      'create_support_ticket',
      'calculate_account_value',
      'get_recent_customers',
    ])
    const names = (await (await v2(fixtures)).listTools()).tools.map((t) => t.name)
    expect(names[0]).toBe('test_simple_text')
    expect(names).toEqual(expect.arrayContaining(['test_tool_with_progress', 'get_customer_info']))
  })

  it('refuses a Host or Origin it does not answer for with 403 (DNS rebinding), before auth', async () => {
    const evil = await fixtures.handle(
      new Request(fixtures.url, { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' }),
    )
    expect(evil.status).toBe(403)
    const local = await fixtures.handle(
      new Request(fixtures.resourceMetadataUrl, { headers: { origin: 'http://localhost:3000' } }),
    )
    expect(local.status).toBe(200)
    expect(fixtures.requests[0]).toMatchObject({ status: 403 })
  })

  it('rejects an unknown protocolVersion pin with a TypeError naming the option', () => {
    expect(() => createMockMcpServer({ oauth, protocolVersion: '2099-01-01' as never })).toThrow(
      /"protocolVersion"/,
    )
  })
})
