// The manager with an SDK v1 or an SDK v2 client, in MCP 2026-07-28 or 2025-11-25, against the
// testkit's mock servers (msw): tool lists honour ttlMs and cacheScope (a private list is one
// user's), and Mcp-Name lets the auth fetch keep step-ups and scopes per tool without the body.
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import {
  createMockMcpServer,
  createMockOAuthServer,
  createSeedTools,
  type McpCacheHints,
  type McpProtocolVersion,
  seedToolScopes,
} from '@mcp-oauth2/testkit'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAuthFetch } from '../src/auth-fetch.js'
import { McpServerManager, type McpServerManagerOptions } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'

const oauth = createMockOAuthServer()
const servers = new Map<string, ReturnType<typeof createMockMcpServer>>()
function mcp(
  name: string,
  options: { protocolVersion?: McpProtocolVersion; cacheHints?: McpCacheHints } = {},
) {
  const server = createMockMcpServer({
    oauth,
    url: `https://${name}.rev.test/mcp`,
    name,
    tools: createSeedTools(),
    toolScopes: { ...seedToolScopes },
    ...options,
  })
  servers.set(name, server)
  return server
}
const any = mcp('any')
const legacy = mcp('legacy', { protocolVersion: '2025-11-25' })
const privateLists = mcp('private', {
  cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'private' } },
})
const publicLists = mcp('public', { cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } } })
const msw = setupServer(...oauth.handlers, ...[...servers.values()].flatMap((s) => s.handlers))
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
const managers: McpServerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  // reset() only: close() ends a mock server for good (its 2026-07-28 handler too).
  for (const server of servers.values()) server.reset()
  oauth.reset()
})
afterAll(async () => {
  for (const server of servers.values()) await server.close()
  msw.close()
})

const provider = (scope: string[] = ['customer:read']) =>
  new ClientCredentialsTokenProvider({
    tokenUrl: oauth.tokenEndpoint,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    scope,
  })

async function manager(
  server: ReturnType<typeof createMockMcpServer>,
  extra: Partial<McpServerManagerOptions> = {},
): Promise<McpServerManager> {
  const m = new McpServerManager({
    servers: [
      {
        name: 'crm',
        url: server.url,
        tokenProvider: provider(),
        cookiePassthrough: { allow: ['session_id'] },
      },
    ],
    retry: false,
    telemetry: false,
    ...extra,
  })
  managers.push(m)
  await m.connect()
  return m
}

const lookup = (m: McpServerManager) => m.callTool('get_customer_info', { customer_id: 'cust-001' })
const lists = (server: ReturnType<typeof createMockMcpServer>) =>
  server.requests.filter((r) => r.jsonRpcMethod === 'tools/list' && r.status < 400)

describe('SDK v1 or SDK v2 client, either revision', () => {
  it('SDK v2 speaks 2026-07-28 (no initialize, no session); SDK v1 speaks 2025-11-25 to the same server', async () => {
    const modern = await manager(any, { sdk: 'v2' })
    expect(modern.status()[0]).toMatchObject({
      state: 'connected',
      protocolVersion: '2026-07-28',
      toolCount: 4,
    })
    await withUserContext({ cookie: 'session_id=s-1; other=x' }, () => lookup(modern))
    expect(any.toolCalls.at(-1)).toMatchObject({
      protocolVersion: '2026-07-28',
      cookies: { session_id: 's-1' },
    })
    expect(any.requests.some((r) => r.jsonRpcMethod === 'initialize')).toBe(false)
    expect(any.requests.every((r) => r.sessionId === undefined)).toBe(true)

    const classic = await manager(any)
    expect(classic.status()[0]?.protocolVersion).toBe('2025-11-25')
    await lookup(classic)
    expect(any.toolCalls.at(-1)?.protocolVersion).toBe('2025-11-25')
  })

  it('SDK v2 falls back to 2025-11-25 for a server without 2026-07-28, and pinning it fails that server', async () => {
    const fallback = await manager(legacy, { sdk: 'v2' })
    expect(fallback.status()[0]?.protocolVersion).toBe('2025-11-25')
    await lookup(fallback)
    expect(legacy.toolCalls.at(-1)?.protocolVersion).toBe('2025-11-25')

    const pinned = await manager(legacy, { sdk: 'v2', versionNegotiation: { pin: '2026-07-28' } })
    expect(pinned.status()[0]).toMatchObject({ state: 'failed', error: { code: 'ERR_SERVER_UNAVAILABLE' } })
  })

  it('maps SDK v2 errors to our codes: an HTTP error of the server is ERR_HTTP_<status>', async () => {
    const events: { type: string; code?: string }[] = []
    const modern = await manager(any, { sdk: 'v2', onEvent: (e) => events.push(e) })
    any.failNext(1, { status: 503 })
    await expect(lookup(modern)).rejects.toMatchObject({ name: 'SdkHttpError', status: 503 })
    expect(events.find((e) => e.type === 'tool_call')).toMatchObject({ code: 'ERR_HTTP_503' })
  })
})

describe('tool lists honour ttlMs and cacheScope', () => {
  it('a private list is listed in each user context and kept for that user only; the service keeps its own', async () => {
    let now = 1_000_000
    const m = await manager(privateLists, { sdk: 'v2', now: () => now })
    expect(lists(privateLists)).toHaveLength(1) // connecting, as the service: no cookie
    expect(lists(privateLists)[0]!.headers.cookie).toBeUndefined()

    const ada = { userId: 'ada', cookie: 'session_id=s-ada' }
    const bob = { userId: 'bob', cookie: 'session_id=s-bob' }
    await withUserContext(ada, () => m.listTools())
    expect(lists(privateLists).map((r) => r.headers.cookie)).toEqual([undefined, 'session_id=s-ada'])
    await withUserContext(ada, () => m.listTools()) // within ttlMs: Ada's own list again, no request
    expect(lists(privateLists)).toHaveLength(2)
    await withUserContext(bob, () => m.listTools()) // Bob never gets Ada's list
    expect(lists(privateLists).map((r) => r.headers.cookie)).toEqual([
      undefined,
      'session_id=s-ada',
      'session_id=s-bob',
    ])
    await m.listTools() // the service: its own list, within its ttlMs
    expect(lists(privateLists)).toHaveLength(3)
    // A user nobody can tell apart gets a fresh list, kept for nobody.
    await withUserContext({ cookie: 'session_id=s-anon' }, () => m.listTools())
    await withUserContext({ cookie: 'session_id=s-anon' }, () => m.listTools())
    expect(lists(privateLists)).toHaveLength(5)

    now += 60_000 // past ttlMs: Ada's list is listed again, with Ada's cookie
    const tools = await withUserContext(ada, () => m.listTools())
    expect(lists(privateLists).at(-1)!.headers.cookie).toBe('session_id=s-ada')
    expect(tools.map((t) => t.name)).toContain('get_customer_info')
    // A call inside Ada's context resolves in Ada's view and carries Ada's cookie.
    await withUserContext(ada, () => lookup(m))
    expect(privateLists.toolCalls.at(-1)?.cookies).toEqual({ session_id: 's-ada' })
  })

  it('a public list is shared (listed once, as the service) and listed again past its ttlMs', async () => {
    let now = 1_000_000
    const m = await manager(publicLists, { sdk: 'v2', now: () => now })
    await withUserContext({ userId: 'ada', cookie: 'session_id=s-ada' }, () => m.listTools())
    await withUserContext({ userId: 'bob', cookie: 'session_id=s-bob' }, () => m.listTools())
    await m.listTools()
    expect(lists(publicLists)).toHaveLength(1)
    now += 60_000
    await withUserContext({ userId: 'ada', cookie: 'session_id=s-ada' }, () => m.listTools())
    expect(lists(publicLists).map((r) => r.headers.cookie)).toEqual([undefined, undefined])
  })

  it('2025 lists carry no hints: one shared list, as before', async () => {
    const m = await manager(legacy, { sdk: 'v2' })
    await withUserContext({ userId: 'ada', cookie: 'session_id=s-ada' }, () => m.listTools())
    await m.listTools()
    expect(lists(legacy)).toHaveLength(1)
  })
})

describe('Mcp-Name: scopes and step-up per tool, without reading the body', () => {
  it('with SDK v2 a step-up is kept for its tool only; with SDK v1 (no header) for every later request', async () => {
    const forbidden = (server: ReturnType<typeof createMockMcpServer>) =>
      server.requests.filter((r) => r.status === 403)
    const ticket = (m: McpServerManager) =>
      m.callTool('create_support_ticket', { customer_id: 'c', subject: 's' })

    const modern = await manager(any, { sdk: 'v2' })
    await ticket(modern) // 403 insufficient_scope → a token for ticket:create too → retried
    await lookup(modern)
    await ticket(modern)
    expect(forbidden(any)).toHaveLength(1)
    const [first, lookupCall, second] = any.toolCalls
    expect(first!.scopes).toContain('ticket:create')
    expect(lookupCall!.scopes).not.toContain('ticket:create') // get_customer_info kept its own token
    expect(second!.scopes).toContain('ticket:create') // no second 403

    any.reset()
    const classic = await manager(any)
    await ticket(classic)
    await lookup(classic)
    expect(any.toolCalls.at(-1)!.scopes).toContain('ticket:create')
  })

  it('an auth fetch with toolScopes asks for the tool’s scopes up front: no 403 at all', async () => {
    const fetch = createAuthFetch({
      serverUrl: any.url,
      tokenProvider: provider(),
      toolScopes: { create_support_ticket: ['ticket:create'], get_customer_info: ['customer:read'] },
      telemetry: false,
    })
    const client = new Client({ name: 'c', version: '1' }, { versionNegotiation: { mode: 'auto' } })
    await client.connect(new StreamableHTTPClientTransport(new URL(any.url), { fetch }))
    try {
      await client.callTool({ name: 'create_support_ticket', arguments: { customer_id: 'c', subject: 's' } })
      await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c' } })
    } finally {
      await client.close()
    }
    expect(any.requests.filter((r) => r.status === 403)).toEqual([])
    expect(any.toolCalls.map((c) => [c.tool, c.scopes.includes('ticket:create')])).toEqual([
      ['create_support_ticket', true],
      ['get_customer_info', false],
    ])
  })
})
