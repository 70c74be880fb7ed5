// The audit trail: the manager's events as versioned records (who, what, outcome, latency),
// written as JSON Lines and through a real pino logger; refusals, 401 retries and outages visible.
import { Writable } from 'node:stream'
import {
  createMockMcpServer,
  createMockOAuthServer,
  createSeedTools,
  seedToolScopes,
} from '@mcp-oauth2/testkit'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ClientCredentialsTokenProvider } from '../../auth-core/src/index.js'
import { AUDIT_SCHEMA, type AuditRecord, toAuditRecord } from '../src/audit-record.js'
import { createJsonLinesAuditSink, createPinoAuditSink } from '../src/audit-sinks.js'
import type { McpManagerEvent } from '../src/internal/manager/events.js'
import { McpServerManager } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'

const MCP_URL = 'https://crm.audit.test/mcp'
const oauth = createMockOAuthServer()
const crm = createMockMcpServer({
  oauth,
  url: MCP_URL,
  name: 'crm',
  toolScopes: { ...seedToolScopes },
  tools: createSeedTools(),
})
const msw = setupServer(...oauth.handlers, ...crm.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
const managers: McpServerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  msw.resetHandlers()
  await crm.close()
  crm.reset()
  oauth.reset()
})
afterAll(() => msw.close())

const COOKIE = 'session_id=sess-audit-51c0; user_id=u-77'

/** A manager whose events go to `onEvent`, and a session of calls covering every kind of record. */
async function session(onEvent: (event: McpManagerEvent) => void): Promise<void> {
  let now = Date.parse('2026-11-20T10:00:00.000Z')
  const manager = new McpServerManager({
    servers: [
      {
        name: 'crm',
        url: MCP_URL,
        tokenProvider: new ClientCredentialsTokenProvider({
          tokenUrl: oauth.tokenEndpoint,
          clientId: 'test-client',
          clientSecret: 'test-secret',
          scope: ['customer:read'],
        }),
        cookiePassthrough: { allow: ['session_id'] },
      },
    ],
    retry: false,
    now: () => (now += 5),
    toolScopes: { get_customer_info: ['customer:read'], calculate_account_value: ['account:calculate'] },
    rateLimits: { user: { limit: 2 }, identify: { cookie: 'session_id' } },
    telemetry: false,
    onEvent,
  })
  managers.push(manager)
  await manager.connect()
  await withUserContext({ userId: 'alice' }, () =>
    manager.callTool('get_customer_info', { customer_id: 'c' }),
  )
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
  await withUserContext({ cookie: COOKIE }, () => manager.callTool('get_customer_info', { customer_id: 'c' }))
  await expect(
    withUserContext({ userId: 'alice' }, () =>
      manager.callTool('calculate_account_value', { customer_id: 'c' }),
    ),
  ).rejects.toMatchObject({ code: 'ERR_SCOPE_DENIED' })
  await expect(
    withUserContext({ userId: 'alice' }, () => manager.callTool('get_customer_info', { customer_id: 'c' })),
  ).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
  await manager.callTool('get_customer_info', { customer_id: 'c' }) // the service
}

describe('audit records', () => {
  it('turn every event into the versioned schema: who, what, outcome, latency', async () => {
    const events: McpManagerEvent[] = []
    await session((e) => events.push(e))
    const records = events.map(toAuditRecord)
    expect(records.map((r) => r.event)).toEqual([
      'token',
      'connected',
      'tool_call',
      'auth_retry',
      'token',
      'tool_call',
      'denied',
      'rate_limited',
      'tool_call',
    ])
    for (const r of records) {
      expect(r.schema).toBe(AUDIT_SCHEMA)
      expect(r.timestamp).toMatch(/^2026-11-20T10:00:00\.\d{3}Z$/)
      expect(r.latencyMs).toBeGreaterThanOrEqual(0)
      expect(JSON.parse(JSON.stringify(r))).toEqual(r) // plain JSON
    }
    const [, , alice, retry, , cookieUser, denied, limited, service] = records as AuditRecord[]
    expect(alice).toMatchObject({
      severity: 'info',
      who: { kind: 'user', id: 'alice' },
      what: {
        server: 'crm',
        tool: 'get_customer_info',
        decision: 'allowed',
        scopes: { required: ['customer:read'] },
      },
      outcome: { result: 'ok' },
      details: { reconnected: false },
    })
    expect(retry).toMatchObject({
      severity: 'warn',
      who: { kind: 'system' },
      what: { server: 'crm' },
      outcome: { result: 'retried', reason: 'invalid_token' },
      details: { status: 401 },
    })
    expect(cookieUser!.who).toEqual({ kind: 'user', id: expect.stringMatching(/^sha256:[0-9a-f]{32}$/) })
    expect(denied).toMatchObject({
      severity: 'warn',
      who: { kind: 'user', id: 'alice' },
      what: {
        tool: 'calculate_account_value',
        decision: 'denied',
        scopes: { required: ['account:calculate'], missing: ['account:calculate'] },
      },
      outcome: { result: 'denied', code: 'ERR_SCOPE_DENIED', reason: 'insufficient_scope' },
    })
    expect(limited).toMatchObject({
      severity: 'warn',
      what: { decision: 'rate_limited' },
      outcome: { result: 'rate_limited', code: 'ERR_RATE_LIMITED', reason: 'user' },
      details: { limit: 2, windowMs: 60_000, retryAfterMs: expect.any(Number) },
    })
    expect(service!.who).toEqual({ kind: 'service' })
    expect(JSON.stringify(records)).not.toMatch(/sess-audit-51c0|test-secret|eyJ/)
  })

  it('are written as JSON Lines', async () => {
    const lines: string[] = []
    await session(createJsonLinesAuditSink((line) => lines.push(line)))
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true)
    const parsed = lines.map((l) => JSON.parse(l) as AuditRecord)
    expect(parsed.map((r) => r.event)).toContain('rate_limited')
    expect(parsed.every((r) => r.schema === 'mcp-oauth2.audit/v1')).toBe(true)
    expect(() => createJsonLinesAuditSink(5 as never)).toThrow(/"out"/)
  })

  it('go through a pino logger at their severity, the record as the log object', async () => {
    const out: string[] = []
    const destination = new Writable({
      write(chunk, _encoding, done) {
        out.push(String(chunk))
        done()
      },
    })
    const logger = pino({ base: undefined }, destination)
    await session(createPinoAuditSink(logger.child({ component: 'mcp' })))
    const logs = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const levels = Object.fromEntries(logs.map((l) => [l.event as string, l.level]))
    expect(levels).toMatchObject({ tool_call: 30, denied: 40, rate_limited: 40, auth_retry: 40, token: 30 })
    expect(logs.find((l) => l.event === 'denied')).toMatchObject({
      component: 'mcp',
      schema: 'mcp-oauth2.audit/v1',
      msg: 'denied crm/calculate_account_value: denied (ERR_SCOPE_DENIED)',
      who: { kind: 'user', id: 'alice' },
    })
    expect(out.join('')).not.toMatch(/sess-audit-51c0|test-secret|eyJ/)
    expect(() => createPinoAuditSink({} as never)).toThrow(/"logger\.info"/)
  })

  it('name a shared store outage and its end', () => {
    const down = toAuditRecord({
      type: 'store',
      at: 0,
      server: undefined,
      tool: undefined,
      durationMs: 0,
      store: 'rate_limits',
      state: 'unavailable',
      code: 'ERR_UNKNOWN',
    })
    expect(down).toEqual({
      schema: AUDIT_SCHEMA,
      timestamp: '1970-01-01T00:00:00.000Z',
      event: 'store',
      severity: 'warn',
      who: { kind: 'system' },
      what: { store: 'rate_limits' },
      outcome: { result: 'unavailable', code: 'ERR_UNKNOWN' },
      latencyMs: 0,
    })
  })
})
