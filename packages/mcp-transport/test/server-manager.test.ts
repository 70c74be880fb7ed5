import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AuthCoreError,
  ClientCredentialsTokenProvider,
  createToolScopePolicy,
  JwtScopeVerifier,
  parseConfig,
} from '@mcp-oauth2/auth-core'
import { createMockMcpServer, createMockOAuthServer, startMockServers } from '@mcp-oauth2/testkit'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  McpTransportError,
  ScopeDeniedError,
  ServerUnavailableError,
  UnknownToolError,
} from '../src/errors.js'
import { OPENAI_NAME_PATTERN } from '../src/openai-tools.js'
import {
  type McpManagerEvent,
  McpServerManager,
  type McpServerManagerConfigOptions,
} from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'
import { startHttpsMcpServer } from './fixtures/https-mcp.js'
import { createTestPki } from './fixtures/pki.js'

const URLS = {
  crm: 'https://crm.mock.test/mcp',
  tickets: 'https://tickets.mock.test/mcp',
  down: 'https://down.mock.test/mcp',
  dynamic: 'https://dynamic.mock.test/mcp',
} as const

const oauth = createMockOAuthServer()
// crm serves the seed tools (get_customer_info, get_recent_customers, create_support_ticket,
// calculate_account_value); tickets also has a create_support_ticket: a name collision.
const crm = createMockMcpServer({ oauth, url: URLS.crm, name: 'crm' })
const tickets = createMockMcpServer({
  oauth,
  url: URLS.tickets,
  name: 'tickets',
  tools: [
    {
      name: 'create_support_ticket',
      description: 'Open a ticket in the ticket system',
      inputSchema: { type: 'object', properties: { subject: { type: 'string' } }, required: ['subject'] },
      scopes: ['ticket:create'],
      handler: (args, ctx) => ({ ticket: 'T-1', subject: args['subject'], seen_user: ctx.cookies }),
    },
    { name: 'list_tickets', handler: () => ({ tickets: [] }), scopes: [] },
    {
      name: 'archive_ticket',
      handler: () => {
        throw new Error('archive is read-only')
      },
    },
  ],
})
// down refuses connections until `downIsUp` is set.
const down = createMockMcpServer({ oauth, url: URLS.down, name: 'down' })
let downIsUp = false
const dynamic = createDynamicServer(URLS.dynamic)

const msw = setupServer(
  ...oauth.handlers,
  ...crm.handlers,
  ...tickets.handlers,
  ...dynamic.handlers,
  http.all('https://down.mock.test/*', ({ request }) =>
    downIsUp ? down.handle(request) : HttpResponse.error(),
  ),
)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
const managers: McpServerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  msw.resetHandlers()
  downIsUp = false
  for (const server of [crm, tickets, down]) {
    await server.close()
    server.reset()
  }
  oauth.reset()
})
afterAll(() => msw.close())

/** A server whose tool list changes: `install_plugin` adds a tool and announces it. */
function createDynamicServer(url: string) {
  const tools: Tool[] = [
    { name: 'install_plugin', inputSchema: { type: 'object', properties: {} } },
    { name: 'get_customer_info', inputSchema: { type: 'object', properties: {} } },
  ]
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>()
  const servers: McpServer[] = []
  function createServer() {
    const server = new McpServer(
      { name: 'dynamic', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    )
    server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }))
    server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      if (request.params.name === 'install_plugin') {
        tools.push({ name: `plugin_${tools.length}`, inputSchema: { type: 'object', properties: {} } })
        await extra.sendNotification({ method: 'notifications/tools/list_changed' })
      }
      return { content: [{ type: 'text', text: 'ok' }] }
    })
    servers.push(server)
    return server
  }
  const handlers = [
    http.all(url, async ({ request }) => {
      const id = request.headers.get('mcp-session-id')
      if (id) {
        const transport = sessions.get(id)
        return transport ? transport.handleRequest(request) : HttpResponse.json({}, { status: 404 })
      }
      const transport: WebStandardStreamableHTTPServerTransport =
        new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          onsessioninitialized: (sid) => {
            sessions.set(sid, transport)
          },
        })
      await createServer().connect(transport)
      return transport.handleRequest(request)
    }),
  ]
  /** Adds a tool and announces it on every session's standalone (GET) event stream. */
  async function addTool(name: string) {
    tools.push({ name, inputSchema: { type: 'object', properties: {} } })
    await Promise.allSettled(servers.map((server) => server.server.sendToolListChanged()))
  }
  return { handlers, tools, addTool }
}

function config(
  names: (keyof typeof URLS)[] = ['crm', 'tickets', 'down'],
  scope = 'customer:read ticket:create',
) {
  return parseConfig(
    {
      mcp_config: {
        default_oauth2: {
          token_url: oauth.tokenEndpoint,
          client_id: 'test-client',
          client_secret: 'test-secret',
          scope,
        },
      },
      mcp_servers: Object.fromEntries(
        names.map((name) => [
          name,
          {
            url: URLS[name],
            transport: 'http',
            auth: { cookie_passthrough: { enabled: true, cookie_names: ['user_id', 'session_id'] } },
          },
        ]),
      ),
    },
    { env: {} },
  )
}

function manage(
  names?: (keyof typeof URLS)[],
  options: McpServerManagerConfigOptions & { scope?: string } = {},
): { manager: McpServerManager; events: McpManagerEvent[] } {
  const events: McpManagerEvent[] = []
  const { scope, ...rest } = options
  const manager = McpServerManager.fromConfig(config(names, scope), {
    retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    onEvent: (event) => events.push(event),
    ...rest,
  })
  managers.push(manager)
  return { manager, events }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

const toolCallRequests = (server: { requests: { jsonRpcMethod?: string | undefined }[] }) =>
  server.requests.filter((r) => r.jsonRpcMethod === 'tools/call').length

function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve()
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not met in time'))
      else setTimeout(tick, 5)
    }
    tick()
  })
}

describe('connect', () => {
  it('connects every server concurrently and reports the one that is down without blocking the others', async () => {
    const { manager, events } = manage(undefined, { now: () => 5_000 })
    const status = await manager.connect()
    expect(status.map((s) => [s.name, s.state])).toEqual([
      ['crm', 'connected'],
      ['tickets', 'connected'],
      ['down', 'failed'],
    ])
    const failed = status[2]!
    expect(failed.error).toBeInstanceOf(ServerUnavailableError)
    expect(failed.error).toMatchObject({
      code: 'ERR_SERVER_UNAVAILABLE',
      server: 'down',
      causeCode: 'ERR_NETWORK',
    })
    expect(failed.error).toBeInstanceOf(AuthCoreError)
    const [error] = events.filter((e) => e.type === 'error')
    expect(error).toMatchObject({
      type: 'error',
      server: 'down',
      phase: 'connect',
      code: 'ERR_NETWORK',
      attempt: 1,
    })
    // Due one backoff delay after the failure, on the manager's clock.
    expect(failed.nextRetryAt).toBe(5_000 + (error?.type === 'error' ? (error.retryInMs ?? Number.NaN) : 0))
    expect(
      events
        .filter((e) => e.type === 'connected')
        .map((e) => e.server)
        .sort(),
    ).toEqual(['crm', 'tickets'])
  })

  it("connects servers concurrently: each server's initialize arrives while the other's is unanswered", async () => {
    // Neither server answers initialize until both have received one: connecting them one after
    // the other would never get past the first (and fail at connectTimeoutMs).
    let arrived = 0
    let release: () => void = () => {}
    const both = new Promise<void>((resolve) => {
      release = resolve
    })
    const gated = (server: typeof crm) =>
      http.all(server.url, async ({ request }) => {
        const body = request.method === 'POST' ? await request.clone().text() : ''
        if (body.includes('"initialize"')) {
          if (++arrived === 2) release()
          await both
        }
        return server.handle(request)
      })
    msw.use(gated(crm), gated(tickets))
    const { manager } = manage(['crm', 'tickets'])
    await manager.connect()
    expect(manager.status().map((s) => s.state)).toEqual(['connected', 'connected'])
    expect(arrived).toBe(2)
  })

  it('gives up on a server that does not answer after connectTimeoutMs, without holding up the others', async () => {
    msw.use(http.all(URLS.down, () => new Promise<Response>(() => {})))
    downIsUp = true
    const { manager } = manage(['crm', 'down'], { connectTimeoutMs: 300 })
    // The server never answers: connect() resolves only because the attempt timed out.
    const status = await manager.connect()
    expect(status.map((s) => s.state)).toEqual(['connected', 'failed'])
    expect(status[1]?.error).toMatchObject({ code: 'ERR_SERVER_UNAVAILABLE', causeCode: 'ERR_MCP_TIMEOUT' })
  })

  it('uses one service token for all servers that share a client, and emits one token event', async () => {
    const { manager, events } = manage(['crm', 'tickets'])
    await manager.connect()
    expect(oauth.tokenRequests).toHaveLength(1)
    expect(events.filter((e) => e.type === 'token')).toMatchObject([
      { type: 'token', scopes: ['customer:read', 'ticket:create'] },
    ])
    for (const request of [...crm.requests, ...tickets.requests]) {
      expect(request.headers['authorization']).toMatch(/^Bearer ey/)
      expect(request.headers['cookie']).toBeUndefined()
    }
  })

  it('reconnects a failed server in the background with exponential backoff', async () => {
    const { manager, events } = manage(['crm', 'down'], { retry: { initialDelayMs: 20, maxDelayMs: 1000 } })
    const delays = () =>
      events.flatMap((e) => (e.type === 'error' && e.server === 'down' ? [e.retryInMs] : []))
    await manager.connect()
    await until(() => delays().length >= 3)
    // Nominal 20, 40, 80 ms, each drawn between half and all of it: the ranges do not overlap,
    // so a constant (or linear) backoff fails here whatever the jitter.
    const [first, second, third] = delays() as [number, number, number]
    expect(first).toBeGreaterThanOrEqual(10)
    expect(first).toBeLessThanOrEqual(20)
    expect(second).toBeGreaterThanOrEqual(20)
    expect(second).toBeLessThanOrEqual(40)
    expect(third).toBeGreaterThanOrEqual(40)
    expect(third).toBeLessThanOrEqual(80)
    downIsUp = true
    await until(() => manager.status().find((s) => s.name === 'down')?.state === 'connected')
    expect(events.filter((e) => e.type === 'error' && e.server === 'down').length).toBeGreaterThanOrEqual(2)
    expect(events.find((e) => e.type === 'connected' && e.server === 'down')).toMatchObject({ toolCount: 4 })
    const tools = await manager.listTools()
    expect(tools.filter((t) => t.server === 'down')).toHaveLength(4)
  })

  it('stops retrying after maxAttempts, and connect() tries again', async () => {
    const { manager, events } = manage(['down'], {
      retry: { initialDelayMs: 5, maxDelayMs: 5, maxAttempts: 2 },
    })
    await manager.connect()
    await until(() => events.filter((e) => e.type === 'error').length === 2)
    // The second failure schedules nothing: no delay in its event, no time in the status.
    const errors = events.filter((e) => e.type === 'error')
    expect(errors.map((e) => e.type === 'error' && e.retryInMs !== undefined)).toEqual([true, false])
    expect(manager.status()[0]).toMatchObject({ state: 'failed', attempts: 2, nextRetryAt: undefined })
    downIsUp = true
    expect((await manager.connect())[0]).toMatchObject({ state: 'connected', attempts: 0 })
  })

  it('refuses, when it is built, a configured server that would get credentials over plain http', () => {
    // parseConfig refuses these itself (a ConfigError whose cause is ERR_INSECURE_HTTP); the
    // manager's own check still holds for a configuration whose url was changed after parsing.
    const insecure = (server: Record<string, unknown>) => {
      const doc = (url: string) => ({ mcp_servers: { plain: { url, ...server } } })
      expect(() => parseConfig(doc('http://mcp.example.test/mcp'), { env: {} })).toThrow(
        expect.objectContaining({
          code: 'ERR_CONFIG',
          cause: expect.objectContaining({ code: 'ERR_INSECURE_HTTP' }),
        }),
      )
      const cfg = parseConfig(doc('https://mcp.example.test/mcp'), { env: {} })
      const plain = cfg.servers['plain']
      if (plain === undefined) throw new Error('no server')
      return { ...cfg, servers: { plain: { ...plain, url: 'http://mcp.example.test/mcp' } } }
    }
    const configs = [
      insecure({ auth: { cookie_passthrough: { enabled: true, cookie_names: ['session_id'] } } }),
      insecure({ auth: { header_passthrough: { enabled: true, header_names: ['x-user-id'] } } }),
      insecure({ headers: { 'x-api-key': 'static-secret' } }),
      insecure({ static_headers: { 'x-api-key': 'static-secret' } }),
    ]
    for (const cfg of configs) {
      expect(() => McpServerManager.fromConfig(cfg)).toThrow(
        expect.objectContaining({ code: 'ERR_INSECURE_HTTP' }),
      )
    }
    // The same on loopback is fine.
    const local = parseConfig(
      {
        mcp_servers: {
          plain: {
            url: 'http://127.0.0.1:9/mcp',
            auth: { cookie_passthrough: { enabled: true, cookie_names: ['s'] } },
          },
        },
      },
      { env: {} },
    )
    managers.push(McpServerManager.fromConfig(local))
  })

  it("builds a configured server over plain http when the config allows it (the server's allow_insecure_http)", () => {
    const allowed = parseConfig(
      {
        mcp_servers: {
          plain: {
            url: 'http://mcp.example.test/mcp',
            allow_insecure_http: true,
            headers: { 'x-api-key': 'static-secret' },
            auth: { cookie_passthrough: { enabled: true, cookie_names: ['session_id'] } },
          },
        },
      },
      { env: {} },
    )
    managers.push(McpServerManager.fromConfig(allowed))
  })

  it("builds a configured server over plain http whose client allows it, even when the server's own flag is false", () => {
    const allowed = parseConfig(
      {
        mcp_servers: {
          plain: {
            url: 'http://mcp.example.test/mcp',
            allow_insecure_http: false,
            auth: {
              oauth2: {
                token_url: 'http://auth.example.test/token',
                client_id: 'c',
                client_secret: 's',
                allow_insecure_http: true,
              },
            },
          },
        },
      },
      { env: {} },
    )
    managers.push(McpServerManager.fromConfig(allowed))
  })

  it('reports a server whose token request fails with the OAuth error code', async () => {
    const { manager } = manage(['crm'], { scope: 'not-allowed' })
    const [status] = await manager.connect()
    expect(status).toMatchObject({ state: 'failed', error: { causeCode: 'ERR_OAUTH_ERROR_RESPONSE' } })
  })
})

describe('listTools and naming', () => {
  it('keeps unique names and namespaces colliding ones as <server>__<tool>', async () => {
    const { manager } = manage(['crm', 'tickets'])
    await manager.connect()
    const tools = await manager.listTools()
    expect(tools.map((t) => [t.server, t.name, t.qualifiedName])).toEqual([
      ['crm', 'get_customer_info', 'get_customer_info'],
      ['crm', 'create_support_ticket', 'crm__create_support_ticket'],
      ['crm', 'calculate_account_value', 'calculate_account_value'],
      ['crm', 'get_recent_customers', 'get_recent_customers'],
      ['tickets', 'create_support_ticket', 'tickets__create_support_ticket'],
      ['tickets', 'list_tickets', 'list_tickets'],
      ['tickets', 'archive_ticket', 'archive_ticket'],
    ])
    const ticket = tools.find((t) => t.qualifiedName === 'tickets__create_support_ticket')!
    expect(ticket).toMatchObject({
      description: 'Open a ticket in the ticket system',
      inputSchema: { type: 'object', required: ['subject'] },
      requiredScopes: [],
    })
  })

  it('refreshes the shared tool list as the service even when a user asks for it', async () => {
    const { manager } = manage(['crm'])
    await manager.connect()
    await withUserContext({ cookie: 'session_id=alice-session; user_id=alice' }, () =>
      manager.listTools({ refresh: true }),
    )
    const lists = crm.requests.filter((r) => r.jsonRpcMethod === 'tools/list')
    expect(lists.length).toBeGreaterThanOrEqual(2)
    for (const request of lists) expect(request.headers.cookie).toBeUndefined()
  })

  it('takes requiredScopes from the tool scope policy, a <server>__<tool> key first', async () => {
    const { manager } = manage(['crm', 'tickets'], {
      toolScopes: createToolScopePolicy(
        {
          get_customer_info: ['customer:read'],
          tickets__create_support_ticket: ['ticket:create', 'tickets:write'],
        },
        { unknownTool: 'allow' },
      ),
    })
    await manager.connect()
    const tools = await manager.listTools()
    const scopes = Object.fromEntries(tools.map((t) => [t.qualifiedName, t.requiredScopes]))
    expect(scopes).toMatchObject({
      get_customer_info: ['customer:read'],
      tickets__create_support_ticket: ['ticket:create', 'tickets:write'],
      crm__create_support_ticket: [],
    })
  })

  it('refreshes the cached list on notifications/tools/list_changed', async () => {
    const { manager, events } = manage(['dynamic'])
    await manager.connect()
    const before = await manager.listTools()
    await manager.callTool('install_plugin')
    const after = await manager.listTools()
    expect(after.length).toBe(before.length + 1)
    expect(after.at(-1)?.name).toBe(`plugin_${before.length}`)
    expect(events.find((e) => e.type === 'tools_changed')).toMatchObject({
      server: 'dynamic',
      toolCount: after.length,
    })
    dynamic.tools.splice(2)
  })

  it('also refreshes on a notification that arrives on the standalone event stream', async () => {
    const { manager, events } = manage(['dynamic'])
    await manager.connect()
    await dynamic.addTool('pushed_tool')
    await until(() => events.some((e) => e.type === 'tools_changed'))
    expect((await manager.listTools()).map((t) => t.name)).toContain('pushed_tool')
    dynamic.tools.splice(2)
  })

  it('renames a tool when a server joins with the same name', async () => {
    const { manager } = manage(['tickets', 'dynamic'])
    await manager.connect()
    expect((await manager.listTools()).map((t) => t.qualifiedName)).toContain('get_customer_info')
    const both = manage(['crm', 'dynamic']).manager
    await both.connect()
    const names = (await both.listTools()).map((t) => t.qualifiedName)
    expect(names).toContain('crm__get_customer_info')
    expect(names).toContain('dynamic__get_customer_info')
  })

  it('refuses to be used before connect()', async () => {
    const { manager } = manage(['crm'])
    await expect(manager.listTools()).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' })
    await expect(manager.callTool('get_customer_info')).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' })
  })
})

describe('openAITools', () => {
  it('lists the tools in OpenAI function-calling format with valid names mapped back', async () => {
    const { manager } = manage(['crm', 'tickets'])
    await manager.connect()
    const tools = await manager.openAITools()
    expect(tools).toHaveLength(7)
    for (const tool of tools) {
      expect(tool.type).toBe('function')
      expect(tool.function.name).toMatch(OPENAI_NAME_PATTERN)
      expect(tool.function.parameters).toMatchObject({ type: 'object' })
      expect(manager.openAINameToTool(tool.function.name)?.qualifiedName).toBe(tool.function.name)
    }
    expect(tools.find((t) => t.function.name === 'list_tickets')?.function.parameters).toEqual({
      type: 'object',
      properties: {},
    })
  })
})

describe('callTool', () => {
  it('routes qualified, <server>__<tool> and unambiguous plain names to the right server', async () => {
    const { manager } = manage(['crm', 'tickets'])
    await manager.connect()
    const viaQualified = await manager.callTool('tickets__create_support_ticket', { subject: 'help' })
    expect(viaQualified.structuredContent).toMatchObject({ ticket: 'T-1', subject: 'help' })
    await manager.callTool('crm__create_support_ticket', {
      customer_id: 'cust-001',
      subject: 's',
      description: 'd',
    })
    const viaPlain = await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
    expect(viaPlain.structuredContent).toMatchObject({ name: 'Ada Lovelace' })
    await manager.callTool('crm__get_customer_info', { customer_id: 'cust-001' })
    expect(crm.toolCalls.map((c) => c.tool)).toEqual([
      'create_support_ticket',
      'get_customer_info',
      'get_customer_info',
    ])
    expect(tickets.toolCalls.map((c) => c.tool)).toEqual(['create_support_ticket'])
  })

  it('rejects an unknown or ambiguous name with a typed error and sends nothing', async () => {
    const { manager } = manage(['crm', 'tickets'])
    await manager.connect()
    crm.reset()
    tickets.reset()
    const unknown = await rejection(manager.callTool('drop_tables'))
    expect(unknown).toBeInstanceOf(UnknownToolError)
    expect(unknown).toMatchObject({ code: 'ERR_UNKNOWN_TOOL', tool: 'drop_tables' })
    await expect(manager.callTool('crm__list_tickets')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_TOOL' })
    const ambiguous = await rejection(manager.callTool('create_support_ticket', {}))
    expect(ambiguous).toMatchObject({
      code: 'ERR_AMBIGUOUS_TOOL',
      candidates: ['crm__create_support_ticket', 'tickets__create_support_ticket'],
    })
    expect(crm.requests).toHaveLength(0)
    expect(tickets.requests).toHaveLength(0)
  })

  it('refuses a tool of a server that is down with ERR_SERVER_UNAVAILABLE', async () => {
    const { manager } = manage(['crm', 'down'])
    await manager.connect()
    const err = await rejection(manager.callTool('down__get_customer_info', { customer_id: 'x' }))
    expect(err).toBeInstanceOf(ServerUnavailableError)
    expect(err).toMatchObject({ code: 'ERR_SERVER_UNAVAILABLE', server: 'down' })
  })

  it("forwards each user's allowed cookies only, concurrently, and none outside a user context", async () => {
    const { manager, events } = manage(['crm'])
    await manager.connect()
    const args = { customer_id: 'cust-001' }
    await Promise.all([
      withUserContext({ cookie: 'user_id=alice; session_id=s-a; tracking=x' }, () =>
        manager.callTool('get_customer_info', args),
      ),
      withUserContext({ cookie: 'user_id=bob; session_id=s-b' }, () =>
        manager.callTool('get_customer_info', args),
      ),
      manager.callTool('get_customer_info', args),
    ])
    const seen = crm.toolCalls
      .map((c) => c.cookies)
      .sort((a, b) => (a['user_id'] ?? '').localeCompare(b['user_id'] ?? ''))
    expect(seen).toEqual([{}, { user_id: 'alice', session_id: 's-a' }, { user_id: 'bob', session_id: 's-b' }])
    expect(
      events
        .filter((e) => e.type === 'tool_call')
        .map((e) => e.type === 'tool_call' && e.user)
        .sort(),
    ).toEqual([false, true, true])
  })

  it('reconnects once when the server has forgotten the session, and retries the call', async () => {
    const { manager, events } = manage(['crm'])
    await manager.connect()
    const oldSession = crm.requests.find((r) => r.sessionId)?.sessionId
    await crm.close() // the server forgets every session
    crm.reset()
    const result = await withUserContext({ cookie: 'user_id=alice' }, () =>
      manager.callTool('get_customer_info', { customer_id: 'cust-001' }),
    )
    expect(result.structuredContent).toMatchObject({ seen_user: { user_id: 'alice' } })
    const posts = crm.requests.filter((r) => r.method === 'POST')
    expect(posts.map((r) => [r.jsonRpcMethod, r.status])).toEqual([
      ['tools/call', 404],
      ['initialize', 200],
      ['notifications/initialized', 202],
      ['tools/list', 200],
      ['tools/call', 200],
    ])
    expect(posts[0]?.sessionId).toBe(oldSession)
    expect(posts[4]?.sessionId).not.toBe(oldSession)
    // The new session was opened as the service, not as the user whose call found it expired.
    expect(posts[1]?.headers['cookie']).toBeUndefined()
    expect(events.filter((e) => e.type === 'tool_call')).toMatchObject([
      { reconnected: true, isError: false },
    ])
  })

  it('gives up after one retry when the new session is refused too', async () => {
    const { manager } = manage(['crm'])
    await manager.connect()
    msw.use(http.all(URLS.crm, () => HttpResponse.json({ error: 'gone' }, { status: 404 })))
    const err = await rejection(manager.callTool('get_customer_info', { customer_id: 'cust-001' }))
    expect(err).toMatchObject({ code: 'ERR_SERVER_UNAVAILABLE', causeCode: 'ERR_HTTP_404' })
    expect(manager.status()[0]?.state).toBe('failed')
  })

  it('replaces an expired session once for many concurrent calls', async () => {
    const { manager, events } = manage(['crm'])
    await manager.connect()
    await crm.close()
    crm.reset()
    const calls = Array.from({ length: 10 }, () =>
      manager.callTool('get_customer_info', { customer_id: 'cust-001' }),
    )
    const results = await Promise.all(calls)
    expect(results.every((r) => !r.isError)).toBe(true)
    expect(crm.requests.filter((r) => r.jsonRpcMethod === 'initialize')).toHaveLength(1)
    expect(events.filter((e) => e.type === 'connected' && e.reconnect)).toHaveLength(1)
  })

  it('marks a server that became unreachable as failed and reconnects it in the background', async () => {
    const { manager, events } = manage(['crm'], { retry: { initialDelayMs: 20, maxDelayMs: 40 } })
    await manager.connect()
    msw.use(http.all(URLS.crm, () => HttpResponse.error()))
    await expect(manager.callTool('get_customer_info', { customer_id: 'cust-001' })).rejects.toThrow()
    expect(manager.status()[0]).toMatchObject({ state: 'failed', error: { causeCode: 'ERR_NETWORK' } })
    await expect(manager.callTool('crm__get_customer_info', {})).rejects.toMatchObject({
      code: 'ERR_SERVER_UNAVAILABLE',
    })
    msw.resetHandlers()
    await until(() => manager.status()[0]?.state === 'connected')
    expect(
      events.filter((e) => e.type === 'connected').map((e) => e.type === 'connected' && e.reconnect),
    ).toEqual([false, true])
    const result = await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
    expect(result.isError).toBeFalsy()
  })

  it('returns a tool error result instead of throwing, and records it', async () => {
    const { manager, events } = manage(['tickets'])
    await manager.connect()
    const result = await manager.callTool('archive_ticket')
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'archive is read-only' }] })
    expect(events.filter((e) => e.type === 'tool_call')).toMatchObject([
      { isError: true, tool: 'archive_ticket' },
    ])
  })
})

describe('pre-flight scope check', () => {
  const policy = createToolScopePolicy({
    get_customer_info: ['customer:read'],
    calculate_account_value: ['account:calculate'],
  })

  it('refuses a tool the service token lacks scopes for, before any request to the server', async () => {
    const verifier = new JwtScopeVerifier({
      jwksUri: oauth.jwksUri,
      issuer: oauth.issuer,
      audience: URLS.crm,
    })
    const { manager, events } = manage(['crm'], { toolScopes: policy, verifier })
    await manager.connect()
    crm.reset()
    const err = await rejection(
      withUserContext({ cookie: 'user_id=alice' }, () =>
        manager.callTool('calculate_account_value', { customer_id: 'cust-001' }),
      ),
    )
    expect(err).toBeInstanceOf(ScopeDeniedError)
    expect(err).toMatchObject({
      code: 'ERR_SCOPE_DENIED',
      reason: 'insufficient_scope',
      server: 'crm',
      tool: 'calculate_account_value',
      requiredScopes: ['account:calculate'],
      missingScopes: ['account:calculate'],
    })
    expect(crm.requests).toHaveLength(0)
    expect(events.filter((e) => e.type === 'denied')).toMatchObject([
      { server: 'crm', tool: 'calculate_account_value', missingScopes: ['account:calculate'], user: true },
    ])
    const ok = await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
    expect(ok.isError).toBeFalsy()
  })

  it('denies a tool the policy does not name, and uses token scopes when there is no verifier', async () => {
    const { manager } = manage(['crm'], { toolScopes: policy })
    await manager.connect()
    crm.reset()
    await expect(manager.callTool('get_recent_customers')).rejects.toMatchObject({
      code: 'ERR_SCOPE_DENIED',
      reason: 'unknown_tool',
      requiredScopes: null,
    })
    await expect(manager.callTool('calculate_account_value', { customer_id: 'c' })).rejects.toMatchObject({
      reason: 'insufficient_scope',
    })
    expect(toolCallRequests(crm)).toBe(0)
  })

  it('denies when the verifier rejects the service token (wrong audience)', async () => {
    const verifier = new JwtScopeVerifier({
      jwksUri: oauth.jwksUri,
      issuer: oauth.issuer,
      audience: 'https://other',
    })
    const { manager } = manage(['crm'], { toolScopes: policy, verifier: () => verifier })
    await manager.connect()
    await expect(manager.callTool('get_customer_info', { customer_id: 'c' })).rejects.toMatchObject({
      code: 'ERR_SCOPE_DENIED',
      reason: 'invalid_token',
    })
  })
})

describe('audit events', () => {
  it('never carry a token, secret or cookie value', async () => {
    const { manager, events } = manage(['crm', 'down'], {
      toolScopes: createToolScopePolicy({ get_customer_info: ['customer:read'] }),
    })
    await manager.connect()
    await withUserContext(
      { cookie: 'user_id=alice-cookie-value; session_id=sess-cookie-value' },
      async () => {
        await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
        await manager.callTool('get_recent_customers').catch(() => {})
      },
    )
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['token', 'connected', 'error', 'tool_call', 'denied']),
    )
    const token = oauth.tokenRequests[0]?.accessToken
    expect(token).toBeTruthy()
    const text = JSON.stringify(events)
    for (const secret of [token!, 'test-secret', 'alice-cookie-value', 'sess-cookie-value']) {
      expect(text).not.toContain(secret)
    }
    for (const event of events) {
      expect(event).toMatchObject({
        server: expect.any(String),
        durationMs: expect.any(Number),
        at: expect.any(Number),
      })
    }
  })

  it('survives a listener that throws', async () => {
    const { manager } = manage(['crm'], {
      onEvent: () => {
        throw new Error('listener bug')
      },
    })
    await manager.connect()
    await expect(manager.callTool('get_customer_info', { customer_id: 'cust-001' })).resolves.toBeTruthy()
  })
})

describe('close', () => {
  it('ends the sessions, stops retries, is idempotent and refuses later use', async () => {
    const { manager } = manage(['crm', 'down'], { retry: { initialDelayMs: 10_000, maxDelayMs: 10_000 } })
    await manager.connect()
    expect(manager.status()[1]?.nextRetryAt).toBeDefined()
    await Promise.all([manager.close(), manager.close()])
    await manager.close()
    expect(crm.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1)
    expect(manager.status().map((s) => [s.state, s.nextRetryAt])).toEqual([
      ['closed', undefined],
      ['closed', undefined],
    ])
    const err = await rejection(manager.callTool('get_customer_info'))
    expect(err).toBeInstanceOf(McpTransportError)
    expect(err).toMatchObject({ code: 'ERR_CLOSED' })
    await expect(manager.connect()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })
})

describe('servers defined in code', () => {
  it('works with a token provider and passthrough settings given directly', async () => {
    const tokenProvider = new ClientCredentialsTokenProvider({
      tokenUrl: oauth.tokenEndpoint,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      scope: ['ticket:create'],
    })
    const manager = new McpServerManager({
      servers: [
        { name: 'tickets', url: URLS.tickets, tokenProvider, cookiePassthrough: { allow: ['user_id'] } },
      ],
    })
    managers.push(manager)
    await manager.connect()
    await withUserContext({ cookie: 'user_id=carol; session_id=no' }, () =>
      manager.callTool('create_support_ticket', { subject: 'x' }),
    )
    expect(tickets.toolCalls[0]?.cookies).toEqual({ user_id: 'carol' })
  })

  it('rejects bad definitions with a TypeError naming the problem', () => {
    expect(() => new McpServerManager({ servers: [{ name: 'a__b', url: URLS.crm }] })).toThrow(
      /must not contain "__"/,
    )
    expect(
      () =>
        new McpServerManager({
          servers: [
            { name: 'a', url: URLS.crm },
            { name: 'a', url: URLS.tickets },
          ],
        }),
    ).toThrow(/used twice/)
    expect(() => new McpServerManager({ servers: [{ name: 'a', url: 'nope' }] })).toThrow(TypeError)
    expect(() => new McpServerManager({ servers: [], retry: { initialDelayMs: -1 } })).toThrow(
      /retry.initialDelayMs/,
    )
  })
})

describe('close releases what the manager opened', () => {
  it('leaves no TLS connection, socket or timer open after 20 managers over a TLS server are closed', async () => {
    msw.close() // real sockets
    const servers = await startMockServers()
    const pki = await createTestPki()
    const secure = await startHttpsMcpServer(servers.oauth.server, pki.server)
    const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-close-'))
    const caFile = join(dir, 'ca.pem')
    writeFileSync(caFile, pki.ca.cert)
    // Both ends of every TCP (and TLS) connection of this process.
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    try {
      const tokenProvider = new ClientCredentialsTokenProvider({
        tokenUrl: servers.oauth.tokenEndpoint,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        scope: 'customer:read',
      })
      await tokenProvider.getToken() // its own sockets (plain http) are not the managers'
      const socketsBefore = sockets()
      const timersBefore = timers()
      for (let i = 0; i < 20; i++) {
        const manager = new McpServerManager({
          servers: [{ name: 'secure', url: secure.url, tokenProvider, tls: { caFile } }],
          retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
        })
        const [status] = await manager.connect()
        expect(status?.state).toBe('connected')
        const result = await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
        expect(result.isError).toBeFalsy()
        await manager.close()
      }
      expect(secure.acceptedConnections()).toBeGreaterThanOrEqual(20)
      // The server (which keeps idle connections for 60 s) sees every connection closed, and this
      // process holds no socket and no timer more than before (the server side may lag a turn).
      await until(() => secure.openConnections() === 0)
      await until(() => sockets() <= socketsBefore)
      expect(timers()).toBeLessThanOrEqual(timersBefore)
    } finally {
      await secure.close()
      await servers.close()
      rmSync(dir, { recursive: true, force: true })
      msw.listen({ onUnhandledFrame: 'error' })
    }
  })
})

describe('over real loopback HTTP', () => {
  it('connects Streamable HTTP and SSE servers and calls tools on both', async () => {
    msw.close()
    const servers = await startMockServers()
    try {
      const cfg = parseConfig(
        {
          mcp_config: {
            default_oauth2: {
              token_url: servers.oauth.tokenEndpoint,
              client_id: 'test-client',
              client_secret: 'test-secret',
              scope: 'customer:read',
              allow_insecure_http: true,
            },
          },
          mcp_servers: {
            http: { url: servers.mcp.url, transport: 'http' },
            legacy: { url: servers.mcp.sseUrl, transport: 'sse' },
          },
        },
        { env: {} },
      )
      const manager = McpServerManager.fromConfig(cfg)
      managers.push(manager)
      const t0 = performance.now()
      const status = await manager.connect()
      const connectMs = performance.now() - t0
      expect(status.map((s) => s.state)).toEqual(['connected', 'connected'])
      const perCall = async (tool: string, n = 20) => {
        await manager.callTool(tool, { customer_id: 'cust-001' })
        const t = performance.now()
        for (let i = 0; i < n; i++) await manager.callTool(tool, { customer_id: 'cust-001' })
        return ((performance.now() - t) / n).toFixed(2)
      }
      const httpMs = await perCall('http__get_customer_info')
      const sseMs = await perCall('legacy__get_customer_info')
      console.log(
        `loopback: connect 2 servers ${connectMs.toFixed(1)} ms; callTool ${httpMs} ms (streamable-http), ${sseMs} ms (sse)`,
      )
      await manager.close()
    } finally {
      await servers.close()
      msw.listen({ onUnhandledFrame: 'error' })
    }
  })
})
