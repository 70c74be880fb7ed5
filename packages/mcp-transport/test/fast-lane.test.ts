// The auth fetch's fast lane against the whole pipeline: the same requests through an auth fetch
// with the lane (the default) and one without (createPipelineAuthFetch), against real loopback
// servers, must put the same requests on the wire, token requests included, and answer alike.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ClientCredentialsTokenProvider, createToolScopePolicy } from '@mcp-oauth2/auth-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AuthFetchOptions, createAuthFetch, createPipelineAuthFetch } from '../src/auth-fetch.js'
import { withUserContext } from '../src/user-context.js'
import {
  AsyncLocalStorageContextManager,
  context,
  propagation,
  TracerProvider,
  trace,
  W3CTraceContextPropagator,
} from './support/otel-sdk.js'

interface Seen {
  readonly server: 'mcp' | 'other'
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

let seen: Seen[] = []
/** Per client id, the number of tokens issued so far. */
const issued = new Map<string, number>()
/** Tokens answered 401 (invalid_token) on `/mcp/invalid`, once per token value. */
const refusedTokens = new Set<string>()
/** The scope each token was issued for: `/mcp/scope` answers 403 to a token without `mcp:write`. */
const tokenScopes = new Map<string, string>()

function record(server: Seen['server'], req: IncomingMessage, body: string): void {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    // Transport details that differ with the connection, not with what we add.
    if (name === 'connection' || name === 'keep-alive' || name === 'content-length') continue
    headers[name] = String(value)
  }
  seen.push({ server, method: req.method ?? '', url: req.url ?? '', headers, body })
}

function listen(
  handler: (
    req: IncomingMessage,
    body: string,
    reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () =>
      handler(req, body, (status, answer, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(answer === undefined ? '' : JSON.stringify(answer))
      }),
    )
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

let mcpServer: Server
let otherServer: Server
let base = ''
let other = ''

beforeAll(async () => {
  otherServer = await listen((req, body, reply) => {
    record('other', req, body)
    reply(200, { other: true })
  })
  other = `http://127.0.0.1:${(otherServer.address() as AddressInfo).port}`
  mcpServer = await listen((req, body, reply) => {
    const url = req.url ?? ''
    if (url === '/token') {
      // Not recorded as sent: the client id differs between the two auth fetches by design.
      const params = new URLSearchParams(body)
      const client = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':')[0] as string
      const n = (issued.get(client) ?? 0) + 1
      issued.set(client, n)
      seen.push({
        server: 'mcp',
        method: 'POST',
        url: '/token',
        headers: {},
        body: `scope=${params.get('scope') ?? ''}`,
      })
      tokenScopes.set(`tok-${client}-${n}`, params.get('scope') ?? '')
      reply(200, {
        access_token: `tok-${client}-${n}`,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: params.get('scope') ?? '',
      })
      return
    }
    record('mcp', req, body)
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '')
    if (url === '/mcp/invalid' && !refusedTokens.has(`401:${token}`)) {
      refusedTokens.add(`401:${token}`)
      reply(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' })
    } else if (url === '/mcp/scope' && !(tokenScopes.get(token) ?? '').split(' ').includes('mcp:write')) {
      reply(
        403,
        { error: 'insufficient_scope' },
        { 'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp:write"' },
      )
    } else if (url === '/mcp/moved') reply(307, undefined, { location: '/mcp/here' })
    else if (url === '/mcp/away') reply(307, undefined, { location: `${other}/elsewhere` })
    else if (url === '/mcp/see-other') reply(303, undefined, { location: '/mcp/here' })
    else if (url === '/.well-known/oauth-authorization-server')
      reply(200, {
        issuer: base,
        token_endpoint: `${base}/token`,
        registration_endpoint: `${base}/mcp/register`,
      })
    else reply(200, { ok: url })
  })
  base = `http://127.0.0.1:${(mcpServer.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const server of [mcpServer, otherServer]) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** Token values and client ids as the same placeholder, so the two runs compare. */
function normalise(records: readonly Seen[], client: string): unknown[] {
  const text = JSON.stringify(records).replaceAll(`tok-${client}-`, 'tok-X-')
  return JSON.parse(text) as unknown[]
}

interface Case {
  readonly name: string
  /** Whether the first request goes through the lane (the default auth fetch); absent: nothing is sent. */
  readonly lane?: boolean
  readonly options?: Partial<AuthFetchOptions>
  /** Sends with the auth fetch; returns what to compare of the answer. */
  readonly send: (
    fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
  ) => Promise<unknown>
  readonly context?: Parameters<typeof withUserContext>[0]
}

const json = (body: unknown = { jsonrpc: '2.0', id: 1, method: 'tools/list' }) => JSON.stringify(body)
async function answer(response: Response): Promise<unknown> {
  return { status: response.status, body: await response.text(), location: response.headers.get('location') }
}
const COOKIE = 'session_id=abc; user_id=u-1; _ga=x; theme=dark'

/** A POST of a JSON-RPC message to `path` on the MCP origin, answered as {@link answer} reads it. */
const post =
  (path: string, headers: HeadersInit = { 'content-type': 'application/json' }): Case['send'] =>
  async (f) =>
    answer(await f(`${base}${path}`, { method: 'POST', headers, body: json() }))

const cases: Case[] = [
  { name: 'a string URL, record headers, no user context', lane: true, send: post('/mcp') },
  {
    name: 'a URL object and a Headers, as the SDK sends them, in a user context with cookies',
    lane: true,
    context: { cookie: COOKIE },
    send: async (f) =>
      answer(
        await f(new URL(`${base}/mcp`), {
          method: 'POST',
          headers: new Headers({
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': 's-1',
          }),
          body: json(),
        }),
      ),
  },
  {
    name: "the caller's own cookie and authorization are replaced",
    lane: true,
    context: { cookie: 'theme=dark' },
    send: post('/mcp', {
      cookie: 'session_id=mine',
      authorization: 'Bearer callers',
      'content-type': 'application/json',
    }),
  },
  {
    name: "the caller's cookie and authorization in other cases are replaced, not combined",
    lane: true,
    context: { cookie: COOKIE },
    send: post('/mcp', {
      Cookie: 'session_id=mine',
      AUTHORIZATION: 'Bearer callers',
      'Content-Type': 'application/json',
      Accept: 'application/json',
    }),
  },
  {
    name: "the caller's cookie in another case goes when the user has no allowed cookie",
    lane: true,
    context: { cookie: 'theme=dark' },
    send: post('/mcp', { COOKIE: 'session_id=mine', 'content-type': 'application/json' }),
  },
  {
    name: "the caller's cookie stays without a user context (nothing of the user's to put)",
    lane: true,
    send: post('/mcp', { Cookie: 'session_id=mine', 'content-type': 'application/json' }),
  },
  {
    name: "a Headers with the caller's own cookie and authorization: both replaced",
    lane: true,
    context: { cookie: COOKIE },
    send: post(
      '/mcp',
      new Headers({
        Cookie: 'session_id=mine',
        Authorization: 'Bearer callers',
        'content-type': 'application/json',
      }),
    ),
  },
  {
    name: "a Headers with the caller's cookie, the user has no allowed cookie: the cookie goes",
    lane: true,
    context: { cookie: 'theme=dark' },
    send: post('/mcp', new Headers({ cookie: 'session_id=mine', 'content-type': 'application/json' })),
  },
  {
    name: "a Headers with the caller's cookie and no user context: the cookie stays",
    lane: true,
    send: post('/mcp', new Headers({ cookie: 'session_id=mine', 'content-type': 'application/json' })),
  },
  {
    name: 'mixed-case names and a value with outer whitespace',
    lane: true,
    context: { cookie: COOKIE },
    send: post('/mcp', { 'Content-Type': ' application/json ', 'X-Trace': 'a' }),
  },
  {
    name: 'headers as pairs, a name repeated',
    lane: true,
    send: post('/mcp', [
      ['content-type', 'application/json'],
      ['x-multi', 'a'],
      ['x-multi', 'b'],
    ]),
  },
  {
    name: 'a Request input',
    lane: false,
    context: { cookie: COOKIE },
    send: async (f) =>
      answer(
        await f(
          new Request(`${base}/mcp`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: json(),
          }),
        ),
      ),
  },
  {
    name: 'a form-encoded POST to the origin (the authorization server): nothing of ours',
    lane: false,
    context: { cookie: COOKIE },
    send: async (f) =>
      answer(
        await f(`${base}/mcp/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        }),
      ),
  },
  {
    name: 'metadata under /.well-known/: nothing of ours',
    lane: false,
    context: { cookie: COOKIE },
    send: post('/.well-known/oauth-protected-resource/mcp'),
  },
  {
    name: 'a GET without a body (the SSE stream)',
    lane: false,
    context: { cookie: COOKIE },
    send: async (f) =>
      answer(await f(`${base}/mcp`, { method: 'GET', headers: { accept: 'text/event-stream' } })),
  },
  {
    name: 'another origin: nothing of ours',
    lane: false,
    context: { cookie: COOKIE },
    send: async (f) =>
      answer(await f(`${other}/mcp`, { method: 'POST', headers: { cookie: 'leak=1' }, body: json() })),
  },
  {
    name: 'a 307 on the origin is followed, with our credentials again',
    lane: true,
    context: { cookie: COOKIE },
    send: post('/mcp/moved'),
  },
  { name: 'a 303 becomes a GET', lane: true, send: post('/mcp/see-other') },
  {
    name: 'a 307 to another origin: followed with nothing of ours',
    lane: true,
    context: { cookie: COOKIE },
    send: post('/mcp/away'),
  },
  {
    name: "the caller's manual redirect mode: the redirect is the answer",
    lane: false,
    send: async (f) =>
      answer(await f(`${base}/mcp/moved`, { method: 'POST', redirect: 'manual', body: json() })),
  },
  { name: 'a 401 invalid_token: one retry with a new token', lane: true, send: post('/mcp/invalid') },
  {
    name: 'a 403 insufficient_scope: a step-up, kept for the next request',
    lane: true,
    send: async (f) => [await post('/mcp/scope')(f), await post('/mcp')(f)],
  },
  {
    name: 'a 403 for a request naming its tool: the step-up is kept for that tool only',
    lane: true,
    send: async (f) => {
      const tool = { 'content-type': 'application/json', 'mcp-method': 'tools/call', 'mcp-name': 'deploy' }
      return [await post('/mcp/scope', tool)(f), await post('/mcp', tool)(f), await post('/mcp')(f)]
    },
  },
  {
    // The policy's scope set is not in memory yet: the pipeline asks the provider.
    name: 'a tool call naming its tool (Mcp-Name) gets the policy scopes up front',
    lane: false,
    options: { toolScopes: createToolScopePolicy({ deploy: ['deploy:run'] }) },
    send: post('/mcp', {
      'content-type': 'application/json',
      'mcp-method': 'tools/call',
      'mcp-name': 'deploy',
    }),
  },
  {
    name: 'static headers, after the trace context and before the user data',
    lane: true,
    options: { staticHeaders: { 'x-api-key': 'k-1', cookie: 'static=1' } },
    context: { cookie: COOKIE },
    send: post('/mcp', {}),
  },
  {
    name: 'a user context with a subject token and no user token provider: refused, nothing sent',
    context: { subjectToken: 'user-token' },
    send: async (f) =>
      f(`${base}/mcp`, { method: 'POST', body: json() }).catch((error: { code?: string }) => error.code),
  },
  {
    name: 'an aborted signal: refused',
    send: async (f) =>
      f(`${base}/mcp`, { method: 'POST', body: json(), signal: AbortSignal.abort() }).catch(
        (error: Error) => error.name,
      ),
  },
]

async function run(
  item: Case,
  lane: boolean,
  client: string,
): Promise<{ records: unknown[]; result: unknown; paths: ('lane' | 'pipeline' | 'later')[] }> {
  seen = []
  // Which way each request came to the fetch underneath, from the stack: the lane sends in the
  // turn it is called ('lane'); the pipeline's origin scope is on the stack of what it sends in
  // that turn ('pipeline'); a request sent after a wait (a token request, a retry) has neither.
  const paths: ('lane' | 'pipeline' | 'later')[] = []
  const limit = Error.stackTraceLimit
  const tokenProvider = new ClientCredentialsTokenProvider({
    tokenUrl: `${base}/token`,
    clientId: client,
    clientSecret: 's',
    scope: 'mcp:read',
  })
  await tokenProvider.getToken() // in memory, as on the hot path
  const options: AuthFetchOptions = {
    serverUrl: `${base}/mcp`,
    tokenProvider,
    cookies: { allow: ['session_id', 'user_id'] },
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      Error.stackTraceLimit = 64
      const stack = new Error().stack ?? ''
      Error.stackTraceLimit = limit
      paths.push(
        stack.includes('originScoped') ? 'pipeline' : stack.includes('laneOrPipeline') ? 'lane' : 'later',
      )
      return globalThis.fetch(input, init)
    },
    ...item.options,
  }
  const fetch = lane ? createAuthFetch(options) : createPipelineAuthFetch(options)
  const result =
    item.context === undefined
      ? await item.send(fetch)
      : await withUserContext(item.context, () => item.send(fetch))
  await fetch.close()
  return {
    records: normalise(seen, client),
    result: JSON.parse(JSON.stringify(result).replaceAll(`tok-${client}-`, 'tok-X-')),
    paths,
  }
}

/** A fresh record of what was sent, and an auth fetch (with its lane) whose token is in memory. */
async function laneFetch(client: string, cookies: AuthFetchOptions['cookies']) {
  seen = []
  const tokenProvider = new ClientCredentialsTokenProvider({
    tokenUrl: `${base}/token`,
    clientId: client,
    clientSecret: 's',
  })
  await tokenProvider.getToken()
  return createAuthFetch({ serverUrl: `${base}/mcp`, tokenProvider, cookies })
}

describe('the fast lane', () => {
  it.each(cases)('sends what the pipeline sends: $name', async (item) => {
    const pipeline = await run(item, false, `p${cases.indexOf(item)}`)
    const lane = await run(item, true, `l${cases.indexOf(item)}`)
    expect({ records: lane.records, result: lane.result }).toEqual({
      records: pipeline.records,
      result: pipeline.result,
    })
    // The comparison is only worth something if the lane took the request it should take.
    expect(pipeline.paths).not.toContain('lane')
    if (item.lane === undefined) expect(lane.paths).toEqual([])
    else if (item.lane) expect(lane.paths[0]).toBe('lane')
    else expect(lane.paths[0]).not.toBe('lane')
  })

  it('sends nothing of ours to a URL the lane sent to once a metadata document names it', async () => {
    // The lane decides once per URL that it is not the authorization server's; a document
    // learned later must undo that decision.
    const fetch = await laneFetch('learned', { allow: ['session_id'] })
    const register = () =>
      withUserContext({ cookie: COOKIE }, async () => {
        const response = await fetch(`${base}/mcp/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: json(),
        })
        await response.text()
      })
    await register()
    await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()
    // The document's own read is over by the next turn: the lane, not the pipeline's wait for
    // that read, has the next request.
    await new Promise((resolve) => setImmediate(resolve))
    await register()
    await fetch.close()
    const sent = seen.filter((r) => r.url === '/mcp/register')
    expect(sent.map((r) => [r.headers['authorization'] !== undefined, r.headers['cookie']])).toEqual([
      [true, 'session_id=abc'],
      [false, undefined],
    ])
  })

  it("sends a custom cookie filter's padded answer trimmed, as a Headers would", async () => {
    const fetch = await laneFetch('padded', () => ' session_id=abc\t ')
    await withUserContext({ cookie: COOKIE }, async () => {
      await (await fetch(`${base}/mcp`, { method: 'POST', body: json() })).text()
    })
    await fetch.close()
    expect(seen.filter((r) => r.url === '/mcp').map((r) => r.headers['cookie'])).toEqual(['session_id=abc'])
  })

  it("keeps a tool's step-up for that tool only, through the lane", async () => {
    // The comparison above holds if the lane and the pipeline both lost the tool; this does not.
    const item = cases.find((c) => c.name.includes('for that tool only')) as Case
    const { records, paths } = await run(item, true, 'tool-only')
    expect(paths[0]).toBe('lane')
    const sent = (records as Seen[]).filter((r) => r.url === '/mcp')
    expect(sent.map((r) => r.headers['authorization'])).toEqual(['Bearer tok-X-2', 'Bearer tok-X-1'])
  })

  it('sends each token it has as its own, the one after a 401 from the next request on', async () => {
    // The lane keeps the last `Authorization` value it made; a new token must replace it.
    const fetch = await laneFetch('renewed', { allow: ['session_id'] })
    for (const path of ['/mcp', '/mcp/invalid', '/mcp', '/mcp']) {
      await (await fetch(`${base}${path}`, { method: 'POST', body: json() })).text()
    }
    await fetch.close()
    const sent = normalise(seen, 'renewed') as Seen[]
    expect(
      sent.filter((r) => r.url.startsWith('/mcp')).map((r) => [r.url, r.headers['authorization']]),
    ).toEqual([
      ['/mcp', 'Bearer tok-X-1'],
      ['/mcp/invalid', 'Bearer tok-X-1'],
      ['/mcp/invalid', 'Bearer tok-X-2'],
      ['/mcp', 'Bearer tok-X-2'],
      ['/mcp', 'Bearer tok-X-2'],
    ])
  })

  it("leaves the caller's record and Headers as they were", async () => {
    // The comparisons above send the lane's request after the pipeline's: they would not see it.
    const fetch = await laneFetch('untouched', { allow: ['session_id'] })
    const record = { Cookie: 'mine=1', authorization: 'Bearer callers', 'content-type': 'application/json' }
    const headers = new Headers(record)
    await withUserContext({ cookie: COOKIE }, async () => {
      for (const given of [record, headers]) {
        await (await fetch(`${base}/mcp`, { method: 'POST', headers: given, body: json() })).text()
      }
    })
    await fetch.close()
    expect(record).toEqual({
      Cookie: 'mine=1',
      authorization: 'Bearer callers',
      'content-type': 'application/json',
    })
    expect([...headers]).toEqual([
      ['authorization', 'Bearer callers'],
      ['content-type', 'application/json'],
      ['cookie', 'mine=1'],
    ])
    const sent = seen
      .filter((r) => r.url === '/mcp')
      .map((r) => [r.headers['cookie'], r.headers['authorization']])
    expect(sent).toEqual([
      ['session_id=abc', 'Bearer tok-untouched-1'],
      ['session_id=abc', 'Bearer tok-untouched-1'],
    ])
  })

  it('takes the common request: one token request, then the token in memory, the cookie filtered', async () => {
    const { records } = await run(cases[1] as Case, true, 'common')
    const sent = records.filter((r) => (r as Seen).url === '/mcp') as Seen[]
    expect(sent).toHaveLength(1)
    expect(sent[0]?.headers['authorization']).toBe('Bearer tok-X-1')
    expect(sent[0]?.headers['cookie']).toBe('session_id=abc; user_id=u-1')
    expect(sent[0]?.headers['mcp-session-id']).toBe('s-1')
  })
})

describe('the fast lane with a propagator registered', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    trace.setGlobalTracerProvider(new TracerProvider())
  })
  afterAll(() => {
    propagation.disable()
    context.disable()
    trace.disable()
  })

  const traced: Case[] = [
    {
      name: "a record, with the caller's own trace context in another spelling",
      lane: true,
      context: { cookie: COOKIE },
      send: post('/mcp', { 'content-type': 'application/json', TraceParent: 'callers', Cookie: 'mine=1' }),
    },
    {
      name: 'a Headers',
      lane: true,
      context: { cookie: COOKIE },
      send: post('/mcp', new Headers({ 'content-type': 'application/json', traceparent: 'callers' })),
    },
    { name: 'a record, outside any span', lane: true, send: post('/mcp') },
  ]

  it('rejects, never throws, when a propagator sets a value a header cannot have', async () => {
    // A propagator of the application's, broken: its value has a line break.
    propagation.disable()
    propagation.setGlobalPropagator({
      inject: (_context, carrier, setter) => setter.set(carrier, 'x-broken', 'a\nb'),
      extract: (context) => context,
      fields: () => ['x-broken'],
    })
    try {
      const fetch = await laneFetch('broken-propagator', { allow: ['session_id'] })
      for (const headers of [{ 'content-type': 'application/json' }, new Headers({ accept: '*/*' })]) {
        let sent: Promise<Response> | undefined
        expect(() => {
          sent = fetch(`${base}/mcp`, { method: 'POST', headers, body: json() })
        }).not.toThrow()
        await expect(sent).rejects.toThrow(TypeError)
      }
      await fetch.close()
    } finally {
      propagation.disable()
      propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    }
  })

  it.each(traced)('sends what the pipeline sends, trace context included: $name', async (item) => {
    const span = trace.getTracer('test').startSpan('call')
    const inSpan = item.name.includes('outside') ? context.active() : trace.setSpan(context.active(), span)
    const n = traced.indexOf(item)
    const { pipeline, lane } = await context.with(inSpan, async () => ({
      pipeline: await run(item, false, `tp${n}`),
      lane: await run(item, true, `tl${n}`),
    }))
    span.end()
    expect(lane.records).toEqual(pipeline.records)
    expect(lane.paths[0]).toBe('lane')
    const sent = (lane.records as Seen[]).filter((r) => r.url === '/mcp')
    expect(sent).toHaveLength(1)
    expect(sent[0]?.headers['traceparent']).toBe(
      item.name.includes('outside')
        ? undefined
        : `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    )
  })
})
