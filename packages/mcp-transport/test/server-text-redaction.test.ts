// An MCP server that echoes our credentials in its errors (an HTTP 500 body, a JSON-RPC error's
// message and data, 4xx bodies) must not get them into our errors, their `cause` chains,
// `util.inspect` output, events or the CLI's output (#13 item 11).
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { AccessToken, GetTokenOptions, TokenProvider } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTransport } from '../src/create-transport.js'
import { McpTransportErrorCode, ServerUnavailableError } from '../src/errors.js'
import { type CliRuntime, runCli } from '../src/internal/cli-commands.js'
import {
  type McpManagerEvent,
  McpServerManager,
  type McpServerManagerOptions,
} from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'

/** A value nobody could guess, long enough to be searched for. */
function secret(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex')}`
}

const SERVICE_TOKEN = secret('svc-token')
const API_KEY = secret('api-key')

function token(value: string): AccessToken {
  return { value, tokenType: 'Bearer', expiresAt: Date.now() + 3_600_000, scopes: [] }
}

/** The service's token: opaque (not JWT-shaped), so only knowing its value can remove it. */
const serviceTokens: TokenProvider = {
  getToken: async () => token(SERVICE_TOKEN),
  invalidate: () => {},
}

/** A user's token, made from their subject token (as an RFC 8693 exchange would); it does not contain it. */
function userTokenOf(subjectToken: string | undefined): string {
  return `user-token-${createHash('sha256')
    .update(subjectToken ?? '')
    .digest('hex')
    .slice(0, 24)}`
}

/** Each user's token, from their subject token. */
const userTokens: TokenProvider = {
  getToken: async (options?: GetTokenOptions) => token(userTokenOf(options?.subjectToken)),
  invalidate: () => {},
}

/** Everything the echo server saw of a request's credentials, in every form it could echo. */
function echoOf(req: IncomingMessage): string {
  const authorization = req.headers.authorization ?? ''
  const bare = authorization.replace(/^Bearer /, '')
  const cookie = req.headers.cookie ?? ''
  const cookieValues = cookie.split(';').map((pair) => pair.split('=')[1] ?? '')
  const others = ['x-api-key', 'x-user-key'].map((name) => String(req.headers[name] ?? ''))
  return [
    JSON.stringify({ headers: req.headers }),
    `authorization=${authorization}`,
    `token ${bare} seen`,
    `cookie: ${cookie}`,
    `values ${cookieValues.join(' ')} ${others.join(' ')} ${extraEcho}`,
  ].join('\n')
}

/** More text the server echoes (e.g. a client secret it should not know). */
let extraEcho = ''

const TOOLS = ['http_500', 'http_400', 'http_403', 'rpc_error', 'ok'].map((name) => ({
  name,
  inputSchema: { type: 'object' },
}))

/**
 * A stateless MCP endpoint on loopback: `initialize` and `tools/list` as the protocol says, and
 * tool calls that fail by echoing the request's credentials. On `/broken`, `initialize` fails so.
 */
async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405).end()
    return
  }
  let body = ''
  for await (const chunk of req) body += chunk
  const message = JSON.parse(body) as { id?: number; method: string; params?: Record<string, unknown> }
  const reply = (result: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }))
  }
  const echo = echoOf(req)
  if (message.id === undefined) {
    res.writeHead(202).end()
    return
  }
  if (message.method === 'initialize') {
    if (req.url === '/broken') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`initialize failed\n${echo}`)
      return
    }
    reply({
      protocolVersion: message.params?.['protocolVersion'],
      capabilities: { tools: {} },
      serverInfo: { name: 'echo', version: '1.0.0' },
    })
    return
  }
  if (message.method === 'tools/list') return reply({ tools: TOOLS })
  if (message.method !== 'tools/call') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'no' } }))
    return
  }
  switch (message.params?.['name']) {
    case 'http_500':
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error\n${echo}`)
      return
    case 'http_400':
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: echo }))
      return
    case 'http_403':
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`forbidden\n${echo}`)
      return
    case 'rpc_error':
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32603, message: `tool crashed: ${echo}`, data: { echo, headers: req.headers } },
        }),
      )
      return
    default:
      return reply({ content: [{ type: 'text', text: 'fine' }] })
  }
}

let server: Server
let base: string
const managers: McpServerManager[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(async () => {
  extraEcho = ''
  await Promise.all(managers.splice(0).map((m) => m.close()))
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function manager(
  sdk: 'v1' | 'v2',
  events: McpManagerEvent[],
  path = '/mcp',
  extra: Partial<McpServerManagerOptions> = {},
): McpServerManager {
  const made = new McpServerManager({
    servers: [
      {
        name: 'echo',
        url: `${base}${path}`,
        tokenProvider: serviceTokens,
        userTokenProvider: userTokens,
        headers: { 'x-api-key': API_KEY },
        cookiePassthrough: { allow: ['session_id', 'theme'] },
        headerPassthrough: { allow: ['x-user-key'] },
      },
    ],
    sdk,
    ...(sdk === 'v2' ? { versionNegotiation: 'legacy' as const } : {}),
    retry: false,
    connectTimeoutMs: 30_000,
    onEvent: (event) => events.push(event),
    ...extra,
  })
  managers.push(made)
  return made
}

interface User {
  cookie: string
  subjectToken: string
  headers: Record<string, string>
  /** Every credential value of this user, as the server could echo it. */
  secrets: string[]
}

function user(i: number): User {
  const session = secret(`session-${i}`)
  const theme = secret(`theme-${i}`)
  const subjectToken = secret(`subject-${i}`)
  const userKey = secret(`user-key-${i}`)
  return {
    cookie: `session_id=${session}; theme=${theme}`,
    subjectToken,
    headers: { 'x-user-key': userKey },
    secrets: [session, theme, subjectToken, userTokenOf(subjectToken), userKey],
  }
}

/** Every way the error can be printed or read. */
function renderings(err: unknown): string[] {
  const e = err as Error
  return [
    String(err),
    e.message,
    String(e.stack),
    inspect(err, { depth: 10 }),
    JSON.stringify(err),
    inspect((err as { cause?: unknown }).cause, { depth: 10 }),
  ]
}

function expectNoSecret(texts: readonly string[], secrets: readonly string[]): void {
  for (const text of texts) for (const value of secrets) expect(text).not.toContain(value)
}

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('expected the call to fail')
}

const SDKS = ['v1', 'v2'] as const

describe.each(SDKS)('MCP server text in errors (SDK %s)', (sdk) => {
  it('keeps echoed credentials out of a tool call failing with HTTP 500, and still says 500', async () => {
    const events: McpManagerEvent[] = []
    const m = manager(sdk, events)
    const [status] = await m.connect()
    expect(status?.state).toBe('connected')
    const alice = user(1)
    const err = await failure(() =>
      withUserContext(
        { cookie: alice.cookie, subjectToken: alice.subjectToken, headers: alice.headers },
        () => m.callTool('http_500'),
      ),
    )
    expect(err).toBeInstanceOf(Error)
    expectNoSecret(renderings(err), [...alice.secrets, SERVICE_TOKEN, API_KEY])
    expect((err as Error).message).toContain('internal error')
    expect((err as Error).message).toContain('[redacted]')
    // The status stays where each SDK keeps it: v1's `code`, v2's `status`.
    if (sdk === 'v1') expect((err as { code?: unknown }).code).toBe(500)
    else expect(err).toMatchObject({ name: 'SdkHttpError', status: 500 })
    expect(events.find((e) => e.type === 'tool_call')).toMatchObject({ isError: true, code: 'ERR_HTTP_500' })
    expectNoSecret([JSON.stringify(events), inspect(events, { depth: 10 })], alice.secrets)
  })

  it('keeps echoed credentials out of a JSON-RPC error (message and data), keeping its code', async () => {
    const events: McpManagerEvent[] = []
    const m = manager(sdk, events)
    await m.connect()
    const bob = user(2)
    const err = await failure(() =>
      withUserContext({ cookie: bob.cookie, subjectToken: bob.subjectToken, headers: bob.headers }, () =>
        m.callTool('rpc_error'),
      ),
    )
    expectNoSecret(renderings(err), [...bob.secrets, SERVICE_TOKEN, API_KEY])
    expectNoSecret([JSON.stringify((err as { data?: unknown }).data)], bob.secrets)
    expect((err as { code?: unknown }).code).toBe(-32603)
    expect((err as Error).message).toContain('tool crashed')
    expect(events.find((e) => e.type === 'tool_call')).toMatchObject({ code: 'ERR_MCP_-32603' })
  })

  it.each(['http_400', 'http_403'])('keeps echoed credentials out of a %s body', async (tool) => {
    const m = manager(sdk, [])
    await m.connect()
    const carol = user(3)
    const err = await failure(() =>
      withUserContext(
        { cookie: carol.cookie, subjectToken: carol.subjectToken, headers: carol.headers },
        () => m.callTool(tool),
      ),
    )
    expectNoSecret(renderings(err), [...carol.secrets, SERVICE_TOKEN, API_KEY])
    expect(renderings(err).join(' ')).toContain(tool === 'http_400' ? '400' : '403')
  })

  it('keeps echoed credentials out of a failed connection (ServerUnavailableError and its cause chain)', async () => {
    const events: McpManagerEvent[] = []
    const m = manager(sdk, events, '/broken')
    const [status] = await m.connect()
    expect(status?.state).toBe('failed')
    const err = status?.error
    expect(err).toBeInstanceOf(ServerUnavailableError)
    expect(err?.code).toBe(McpTransportErrorCode.ServerUnavailable)
    if (sdk === 'v1') expect(err?.causeCode).toBe('ERR_HTTP_500')
    const texts = [...renderings(err), inspect(m.status(), { depth: 10 })]
    expectNoSecret(texts, [SERVICE_TOKEN, API_KEY])
    expect(inspect(err, { depth: 10 })).toContain('500')
    // A tool call now fails with the same, sanitized, error.
    const dave = user(4)
    const call = await failure(() =>
      withUserContext({ cookie: dave.cookie }, () => m.callTool('echo__http_500')),
    )
    expectNoSecret(renderings(call), [...dave.secrets, SERVICE_TOKEN, API_KEY])
    expectNoSecret([JSON.stringify(events)], [SERVICE_TOKEN, API_KEY])
  })

  it('keeps echoed credentials out of the tool results runToolCalls gives the model, and the audit events', async () => {
    const events: McpManagerEvent[] = []
    const m = manager(sdk, events)
    await m.connect()
    const erin = user(5)
    const calls = ['http_500', 'rpc_error', 'http_403'].map((name, i) => ({
      id: `call_${i}`,
      type: 'function' as const,
      function: { name, arguments: '{}' },
    }))
    const run = await withUserContext(
      { cookie: erin.cookie, subjectToken: erin.subjectToken, headers: erin.headers },
      () => m.runToolCalls(calls),
    )
    expect(run.messages).toHaveLength(3)
    expect(run.messages[1]?.content).toContain('tool crashed')
    expectNoSecret(
      [JSON.stringify(run), inspect(run, { depth: 10 })],
      [...erin.secrets, SERVICE_TOKEN, API_KEY],
    )
    expectNoSecret([JSON.stringify(events)], [...erin.secrets, SERVICE_TOKEN, API_KEY])
  })

  it('50 concurrent users each get an error without any cookie or token of any user', async () => {
    const m = manager(sdk, [])
    await m.connect()
    const users = Array.from({ length: 50 }, (_, i) => user(100 + i))
    const errors = await Promise.all(
      users.map((u, i) =>
        failure(() =>
          withUserContext({ cookie: u.cookie, subjectToken: u.subjectToken, headers: u.headers }, () =>
            m.callTool(i % 2 === 0 ? 'http_500' : 'rpc_error'),
          ),
        ),
      ),
    )
    const everySecret = users.flatMap((u) => u.secrets)
    for (const err of errors) {
      expect(err).toBeInstanceOf(Error)
      expectNoSecret(renderings(err), everySecret)
    }
  })
})

describe('the CLI', () => {
  let mock: MockServers
  let dir: string
  beforeAll(async () => {
    mock = await startMockServers()
    dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-redaction-'))
  })
  afterAll(async () => {
    await mock.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const runtime: CliRuntime = {
    version: '0.0.0',
    createManager: (config, options) => McpServerManager.fromConfig(config, options),
    createTransport,
    withUserContext,
  }

  function configFile(name: string, path: string): string {
    const file = join(dir, name)
    writeFileSync(
      file,
      `mcp_servers:
  echo:
    url: ${base}${path}
    transport: http
    headers:
      x-api-key: ${API_KEY}
    auth:
      oauth2:
        token_url: ${mock.oauth.tokenEndpoint}
        client_id: test-client
        client_secret: \${CLI_SECRET}
        scope: "mcp:read"
      cookie_passthrough: { enabled: true, cookie_names: [session_id] }
`,
    )
    return file
  }

  async function cli(argv: string[]) {
    const out: string[] = []
    const err: string[] = []
    const code = await runCli(
      argv,
      { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: { CLI_SECRET: 'test-secret' } },
      runtime,
    )
    return { code, stdout: out.join('\n'), stderr: err.join('\n') }
  }

  it('check: reports a connection failing with an echoing 500 without the API key, token or client secret', async () => {
    extraEcho = 'test-secret'
    const { code, stdout, stderr } = await cli([
      'check',
      '--config',
      configFile('check.yaml', '/broken'),
      '--json',
    ])
    expect(code).toBe(1)
    const report = JSON.parse(stdout) as {
      steps: { step: string; ok: boolean; detail: string; code?: string }[]
    }
    const failed = report.steps.find((s) => !s.ok)
    expect(failed?.detail).toContain('500')
    expectNoSecret([stdout, stderr], [API_KEY, 'test-secret'])
    expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/)
  })

  it('prints a failed call as JSON without the cookie, token, API key or client secret the server echoed', async () => {
    const clientSecret = 'test-secret'
    // A server that knows the client secret (it should not) echoes it too.
    extraEcho = clientSecret
    const path = join(dir, 'config.yaml')
    writeFileSync(
      path,
      `mcp_servers:
  echo:
    url: ${base}/mcp
    transport: http
    headers:
      x-api-key: ${API_KEY}
    auth:
      oauth2:
        token_url: ${mock.oauth.tokenEndpoint}
        client_id: test-client
        client_secret: \${CLI_SECRET}
        scope: "mcp:read"
      cookie_passthrough: { enabled: true, cookie_names: [session_id] }
`,
    )
    const session = secret('cli-session')
    const out: string[] = []
    const errOut: string[] = []
    const code = await runCli(
      ['call', 'http_500', '--config', path, '--cookie', `session_id=${session}`, '--json'],
      { stdout: (l) => out.push(l), stderr: (l) => errOut.push(l), env: { CLI_SECRET: clientSecret } },
      runtime,
    )
    expect(code).toBe(1)
    const printed = out.join('\n')
    const json = JSON.parse(printed) as { ok: boolean; code: string; message: string }
    expect(json.ok).toBe(false)
    expect(json.message).toContain('500')
    expectNoSecret([printed, errOut.join('\n')], [session, API_KEY, clientSecret])
    // The token the CLI got is a JWT: nothing shaped like one is printed.
    expect(printed).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/)
  })
})
