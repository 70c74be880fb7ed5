// OpenTelemetry with the real SDK and in-memory exporters: the spans of a tool call (MCP and GenAI
// conventions), token requests from auth-core's diagnostics channels, metrics, W3C trace context
// to the MCP server's origin only, errors with our codes, and nothing secret anywhere.
import { parseConfig } from '@mcp-oauth2/auth-core'
import {
  createMockMcpServer,
  createMockOAuthServer,
  createSeedTools,
  seedToolScopes,
} from '@mcp-oauth2/testkit'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createAuthFetch } from '../src/auth-fetch.js'
import { loadOtelApi } from '../src/internal/telemetry/otel-api.js'
import * as semconv from '../src/internal/telemetry/semconv.js'
import { Telemetry } from '../src/internal/telemetry/telemetry.js'
import { McpServerManager, type McpServerManagerOptions } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'
import { type Otel, publishingProvider, startOtel } from './support/otel.js'

const MCP_URL = 'https://crm.otel.test/mcp'
const OTHER_URL = 'https://elsewhere.otel.test/page'
const oauth = createMockOAuthServer()
const crm = createMockMcpServer({
  oauth,
  url: MCP_URL,
  name: 'crm',
  toolScopes: { ...seedToolScopes },
  tools: [
    ...createSeedTools(),
    { name: 'broken', handler: () => ({ content: [{ type: 'text', text: 'no' }], isError: true }) },
  ],
})
const elsewhere: Request[] = []
const msw = setupServer(
  ...oauth.handlers,
  ...crm.handlers,
  http.all(OTHER_URL, ({ request }) => {
    elsewhere.push(request)
    return HttpResponse.text('elsewhere')
  }),
)
let otel: Otel
const managers: McpServerManager[] = []
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
beforeEach(() => {
  otel = startOtel()
})
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  await otel.shutdown()
  msw.resetHandlers()
  await crm.close()
  crm.reset()
  oauth.reset()
  elsewhere.length = 0
  // After the 10,000-call test, closing took over 20 s on Node 22.12 on a busy machine. There,
  // undici's Request leaves one abort listener per request on the SDK transport's long-lived
  // signal until it is garbage-collected (thousands: MaxListenersExceededWarning).
}, 120_000)
afterAll(() => msw.close())

const COOKIE = 'session_id=sess-otel-9f2c; user_id=u-otel-7; tracking=trk-1'

async function connected(extra: Partial<McpServerManagerOptions> = {}): Promise<McpServerManager> {
  const tokenProvider = await publishingProvider({
    tokenUrl: oauth.tokenEndpoint,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    scope: ['customer:read'],
  })
  const manager = new McpServerManager({
    servers: [
      { name: 'crm', url: MCP_URL, tokenProvider, cookiePassthrough: { allow: ['session_id', 'user_id'] } },
    ],
    retry: false,
    toolScopes: {
      get_customer_info: [],
      get_recent_customers: [],
      create_support_ticket: [],
      broken: [],
      calculate_account_value: ['account:calculate'],
    },
    telemetry: { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider, httpSpans: true },
    ...extra,
  })
  managers.push(manager)
  await manager.connect()
  return manager
}

const byName = (name: string) => otel.spans().filter((s) => s.name === name)
const childrenOf = (parent: ReadableSpan) =>
  otel.spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)

describe('spans', () => {
  it('a tool call: tools/call <tool> (MCP + GenAI conventions) over an HTTP span whose trace context the MCP server got', async () => {
    const manager = await connected()
    otel.exporter.reset()
    const calls = [
      {
        id: 'call_1',
        type: 'function' as const,
        function: { name: 'get_customer_info', arguments: '{"customer_id":"cust-001"}' },
      },
    ]
    const run = await withUserContext({ cookie: COOKIE, userId: 'u-otel-7' }, () =>
      manager.runToolCalls(calls),
    )
    expect(run.results[0]!.event.outcome).toBe('ok')

    const [call] = byName('tools/call get_customer_info')
    expect(call).toBeDefined()
    expect(call!.kind).toBe(SpanKind.CLIENT)
    expect(call!.attributes).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'get_customer_info',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.call.id': 'call_1',
      'server.address': 'crm.otel.test',
      'server.port': 443,
      'mcp_oauth2.server.name': 'crm',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
    })
    expect(call!.status.code).toBe(SpanStatusCode.UNSET)
    const [post] = childrenOf(call!)
    expect(post).toMatchObject({
      name: 'POST',
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST',
        'url.full': MCP_URL,
        'http.response.status_code': 200,
        'mcp_oauth2.token.cache': 'hit',
        'mcp_oauth2.server.name': 'crm',
      },
    })
    // The MCP server continued this trace: its parent is the HTTP span.
    const sent = crm.toolCalls.at(-1)!.headers.traceparent
    expect(sent).toBe(`00-${post!.spanContext().traceId}-${post!.spanContext().spanId}-01`)
  })

  it('connecting: initialize and tools/list, the first token request under the first HTTP request', async () => {
    await connected()
    const [initialize] = byName('initialize')
    const [list] = byName('tools/list')
    expect(initialize?.attributes).toMatchObject({
      'mcp.method.name': 'initialize',
      'mcp_oauth2.server.name': 'crm',
    })
    expect(list?.attributes).toMatchObject({ 'mcp.method.name': 'tools/list' })
    const [token] = byName('oauth2.token client_credentials')
    expect(token).toBeDefined()
    expect(token!.kind).toBe(SpanKind.CLIENT)
    expect(token!.attributes).toMatchObject({
      'mcp_oauth2.token.grant_type': 'client_credentials',
      'url.full': oauth.tokenEndpoint,
      'mcp_oauth2.token.reason': 'cold',
      'mcp_oauth2.token.cache': 'miss',
      'mcp_oauth2.token.outcome': 'ok',
      'mcp_oauth2.token.attempts': 1,
    })
    const parent = otel.spans().find((s) => s.spanContext().spanId === token!.parentSpanContext?.spanId)
    expect(parent?.name).toBe('POST')
    const grand = otel.spans().find((s) => s.spanContext().spanId === parent!.parentSpanContext?.spanId)
    expect(grand?.name).toBe('initialize')
    const miss = childrenOf(grand!).find((s) => s.name === 'POST')
    expect(miss?.attributes['mcp_oauth2.token.cache']).toBe('miss')
  })

  it('records errors with our codes: a denied call, a rate-limited call, a tool error, an HTTP error', async () => {
    const manager = await connected({ rateLimits: { tools: { get_recent_customers: { limit: 1 } } } })
    otel.exporter.reset()
    await expect(manager.callTool('calculate_account_value', { customer_id: 'c' })).rejects.toMatchObject({
      code: 'ERR_SCOPE_DENIED',
    })
    await manager.callTool('get_recent_customers', {})
    await expect(manager.callTool('get_recent_customers', {})).rejects.toMatchObject({
      code: 'ERR_RATE_LIMITED',
    })
    await manager.callTool('broken', {})
    msw.use(http.post(MCP_URL, () => new HttpResponse('down', { status: 503 }), { once: true }))
    await expect(manager.callTool('get_customer_info', { customer_id: 'c' })).rejects.toThrow()
    const errors = otel
      .spans()
      .filter((s) => s.name.startsWith('tools/call'))
      .map((s) => [s.name, s.attributes['error.type'], s.status.code, s.status.message])
    expect(errors).toEqual([
      ['tools/call calculate_account_value', 'ERR_SCOPE_DENIED', SpanStatusCode.ERROR, 'ERR_SCOPE_DENIED'],
      ['tools/call get_recent_customers', undefined, SpanStatusCode.UNSET, undefined],
      ['tools/call get_recent_customers', 'ERR_RATE_LIMITED', SpanStatusCode.ERROR, 'ERR_RATE_LIMITED'],
      ['tools/call broken', 'tool_error', SpanStatusCode.ERROR, 'tool_error'],
      ['tools/call get_customer_info', 'ERR_HTTP_503', SpanStatusCode.ERROR, 'ERR_HTTP_503'],
    ])
    const failedPost = otel
      .spans()
      .find((s) => s.name === 'POST' && s.attributes['http.response.status_code'] === 503)
    expect(failedPost?.attributes['error.type']).toBe('503')
  })
})

describe('metrics', () => {
  it('counts token requests, cache lookups, 401 retries, step-ups, denials and refusals, per server; times tool calls', async () => {
    const manager = await connected({ rateLimits: { user: { limit: 4 } } })
    await manager.callTool('get_customer_info', { customer_id: 'c' })
    // A 401 invalid_token once: dropped token, one retry with a new one.
    msw.use(
      http.post(
        MCP_URL,
        () =>
          new HttpResponse(null, {
            status: 401,
            headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          }),
        { once: true },
      ),
    )
    await manager.callTool('get_customer_info', { customer_id: 'c' })
    // create_support_ticket needs ticket:create on the MCP server: 403 insufficient_scope, step-up.
    await manager.callTool('create_support_ticket', { customer_id: 'c', subject: 's' })
    await expect(manager.callTool('calculate_account_value', { customer_id: 'c' })).rejects.toThrow()
    await expect(manager.callTool('get_customer_info', { customer_id: 'c' })).rejects.toMatchObject({
      code: 'ERR_RATE_LIMITED',
    })
    const server = { 'mcp_oauth2.server.name': 'crm' }
    expect(await otel.sum(semconv.METRIC_UNAUTHORIZED_RETRIES, server)).toBe(1)
    expect(await otel.sum(semconv.METRIC_STEP_UPS, server)).toBe(1)
    expect(
      await otel.sum(semconv.METRIC_SCOPE_DENIALS, { ...server, 'mcp_oauth2.denial.reason': 'unknown_tool' }),
    ).toBe(0)
    expect(
      await otel.sum(semconv.METRIC_SCOPE_DENIALS, {
        ...server,
        'mcp_oauth2.denial.reason': 'insufficient_scope',
      }),
    ).toBe(1)
    expect(
      await otel.sum(semconv.METRIC_RATE_LIMITED, { ...server, 'mcp_oauth2.rate_limit.scope': 'user' }),
    ).toBe(1)
    // Cold start, after the 401, the step-up: three token requests, each a cache miss.
    expect(await otel.sum(semconv.METRIC_TOKEN_REQUESTS, { 'mcp_oauth2.token.outcome': 'ok' })).toBe(3)
    expect(await otel.sum(semconv.METRIC_TOKEN_DURATION)).toBe(3)
    expect(await otel.sum(semconv.METRIC_TOKEN_CACHE_LOOKUPS, { 'mcp_oauth2.token.cache': 'miss' })).toBe(3)
    expect(
      await otel.sum(semconv.METRIC_TOKEN_CACHE_LOOKUPS, { ...server, 'mcp_oauth2.token.cache': 'hit' }),
    ).toBeGreaterThan(0)
    expect(
      await otel.sum(semconv.METRIC_MCP_CLIENT_OPERATION_DURATION, {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'get_customer_info',
        'mcp_oauth2.server.name': 'crm',
      }),
    ).toBe(3)
    expect(
      await otel.sum(semconv.METRIC_MCP_CLIENT_OPERATION_DURATION, { 'error.type': 'ERR_RATE_LIMITED' }),
    ).toBe(1)
  })
})

describe('W3C trace context', () => {
  it('goes to the MCP server origin only: not to the authorization server, not to another origin', async () => {
    const manager = await connected()
    await manager.callTool('get_customer_info', { customer_id: 'c' })
    expect(
      crm.requests.every((r) => /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/.test(r.headers.traceparent ?? '')),
    ).toBe(true)
    expect(oauth.tokenRequests.length).toBeGreaterThan(0)
    expect(oauth.tokenRequests.every((r) => r.headers.traceparent === undefined)).toBe(true)

    // The same auth fetch, asked for another origin inside a span: nothing of ours goes there.
    const fetch = createAuthFetch({
      serverUrl: MCP_URL,
      telemetry: { tracerProvider: otel.tracerProvider, httpSpans: true },
    })
    const span = otel.tracerProvider.getTracer('test').startSpan('parent')
    await context.with(trace.setSpan(context.active(), span), () => fetch(OTHER_URL))
    span.end()
    expect(elsewhere).toHaveLength(1)
    expect(elsewhere[0]!.headers.get('traceparent')).toBeNull()
  })

  it('reaches the authorization server only with propagateToAuthorizationServer', async () => {
    const config = parseConfig(
      {
        mcp_servers: {
          crm: {
            url: MCP_URL,
            auth: {
              oauth2: {
                token_url: oauth.tokenEndpoint,
                client_id: 'test-client',
                client_secret: 'test-secret',
              },
            },
          },
        },
      },
      { env: {} },
    )
    for (const propagate of [false, true]) {
      oauth.reset()
      const manager = McpServerManager.fromConfig(config, {
        retry: false,
        telemetry: {
          tracerProvider: otel.tracerProvider,
          meterProvider: otel.meterProvider,
          propagateToAuthorizationServer: propagate,
        },
      })
      managers.push(manager)
      await manager.connect()
      expect(oauth.tokenRequests.length).toBeGreaterThan(0)
      expect(oauth.tokenRequests.every((r) => (r.headers.traceparent !== undefined) === propagate)).toBe(true)
    }
  })

  it('by default: no HTTP spans, the trace context of the MCP span; none with propagateTraceContext: false', async () => {
    const plain = await connected({
      telemetry: { tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider },
    })
    await plain.callTool('get_customer_info', { customer_id: 'c' })
    expect(byName('POST')).toEqual([])
    const [call] = byName('tools/call get_customer_info')
    expect(call!.attributes['mcp_oauth2.token.cache']).toBe('hit')
    expect(crm.toolCalls.at(-1)!.headers.traceparent).toBe(
      `00-${call!.spanContext().traceId}-${call!.spanContext().spanId}-01`,
    )
    crm.reset()
    const quiet = await connected({
      telemetry: {
        tracerProvider: otel.tracerProvider,
        meterProvider: otel.meterProvider,
        propagateTraceContext: false,
      },
    })
    await quiet.callTool('get_customer_info', { customer_id: 'c' })
    expect(crm.requests.every((r) => r.headers.traceparent === undefined)).toBe(true)
  })
})

describe('the optional peer', () => {
  it('without @opentelemetry/api: no telemetry, nothing in the pipeline; other load failures are thrown', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' })
    }
    expect(loadOtelApi(missing)).toBeNull()
    expect(Telemetry.resolve(undefined, missing)).toBeUndefined()
    expect(Telemetry.resolve({ httpSpans: true }, missing)).toBeUndefined()
    expect(() =>
      loadOtelApi(() => {
        throw new SyntaxError('broken install')
      }),
    ).toThrow(SyntaxError)
    expect(Telemetry.resolve(false)).toBeUndefined()
    expect(() => Telemetry.resolve({ tracerProvider: {} as never })).toThrow(/"telemetry\.tracerProvider"/)
    expect(() => Telemetry.resolve({ httpSpans: 'yes' as never })).toThrow(/"telemetry\.httpSpans"/)
    expect(() => Telemetry.resolve('on' as never)).toThrow(/"telemetry" must be an object or false/)
  })

  it('with it and no providers given, the global ones (registered later too)', async () => {
    const manager = await connected({ telemetry: undefined })
    expect(trace.setGlobalTracerProvider(otel.tracerProvider)).toBe(true)
    try {
      await manager.callTool('get_customer_info', { customer_id: 'c' })
      expect(byName('tools/call get_customer_info')).toHaveLength(1)
    } finally {
      trace.disable()
    }
  })
})

describe('nothing secret', () => {
  it('10,000 calls with cookies, refreshed tokens, 401s, step-ups, denials and limits: no token, secret or cookie value in any span, event or metric', async () => {
    const manager = await connected({ rateLimits: { tools: { get_recent_customers: { limit: 50 } } } })
    const users = ['sess-a1b2c3', 'sess-d4e5f6', 'sess-g7h8i9']
    let n = 0
    const next = async () => {
      const i = n++
      const cookie = `session_id=${users[i % 3]}; user_id=uid-${i % 3}-secret; tracking=trk-${i % 7}`
      if (i % 1000 === 17) {
        msw.use(
          http.post(
            MCP_URL,
            () =>
              new HttpResponse(null, {
                status: 401,
                headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
              }),
            { once: true },
          ),
        )
      }
      const tool =
        i % 50 === 3
          ? 'calculate_account_value'
          : i % 40 === 5
            ? 'get_recent_customers'
            : i % 500 === 9
              ? 'create_support_ticket'
              : 'get_customer_info'
      await withUserContext({ cookie }, () =>
        manager.callTool(tool, { customer_id: 'c', subject: 's' }),
      ).catch(() => {})
    }
    const worker = async () => {
      while (n < 10_000) await next()
    }
    await Promise.all(Array.from({ length: 16 }, worker))

    const tokens = new Set(
      crm.requests.map((r) => (r.headers.authorization ?? '').replace(/^Bearer /, '')).filter(Boolean),
    )
    expect(tokens.size).toBeGreaterThan(1) // the 401s made new tokens
    const spans = otel.spans()
    expect(spans.length).toBeGreaterThan(15_000) // a tools/call span per call, an HTTP span per request
    const serialised = JSON.stringify(
      spans.map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        status: s.status,
        links: s.links,
      })),
    )
    const metrics = JSON.stringify(await otel.points())
    for (const text of [serialised, metrics]) {
      for (const token of tokens) expect(text.includes(token)).toBe(false)
      expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/)
      expect(text).not.toContain('test-secret')
      for (const value of [...users, 'uid-0-secret', 'trk-1']) expect(text).not.toContain(value)
    }
    expect(await otel.sum(semconv.METRIC_UNAUTHORIZED_RETRIES)).toBe(10)
    expect(await otel.sum(semconv.METRIC_RATE_LIMITED)).toBeGreaterThan(0)
    expect(await otel.sum(semconv.METRIC_SCOPE_DENIALS)).toBe(200)
    // Node 22 runs AsyncLocalStorage on async hooks (slow with many promises): room for that
    // on a loaded 2-core machine (about 30 s on Node 24).
  }, 600_000)
})
