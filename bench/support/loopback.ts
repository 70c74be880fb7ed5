/**
 * What the auth-fetch benchmarks share: the built packages, the request and reply they send, a
 * loopback JSON server in a child process (so the client's CPU time is its own), and pinning the
 * client and the server to separate cores.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import type * as AuthCore from '../../packages/auth-core/src/index.js'
import type * as McpTransport from '../../packages/mcp-transport/src/index.js'

/** A token of a realistic length, as the server's `/token` answers it. */
export const TOKEN =
  'eyJhbGciOiJSUzI1NiJ9.bench-token-of-a-realistic-length-abcdefghijklmnopqrstuvwxyz0123456789'
/** The MCP request every variant sends. */
export const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'x', arguments: {} },
})
/** What the server answers an MCP request. */
export const REPLY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  result: { content: [{ type: 'text', text: 'ok' }] },
})

/**
 * A package's built entry point (`packages/<name>/dist/index.js`), as users run it. Not the
 * sources through tsx: its transform names every closure with a helper call each time one is
 * made, which costs the wrapper microseconds per request that no user pays.
 */
export async function built<T>(name: string): Promise<T> {
  const file = fileURLToPath(new URL(`../../packages/${name}/dist/index.js`, import.meta.url))
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm run bench does)`)
  return (await import(file)) as T
}

/** Whether this machine can pin processes to cores (Linux, two cores or more, `taskset`); `BENCH_PIN=0`: no. */
export function canPin(): boolean {
  return (
    process.platform === 'linux' &&
    cpus().length >= 2 &&
    process.env.BENCH_PIN !== '0' &&
    spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0
  )
}

/** Pins this process, all its threads, to `core`; whether that worked. */
export function pinSelf(core: number): boolean {
  return (
    spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' })
      .status === 0
  )
}

/** A running loopback server: its base URL, and how to stop it. */
export interface JsonServer {
  readonly base: string
  /** Requests that carried a `traceparent` so far (`GET /traced` answers it too). */
  traced(): Promise<number>
  stop(): void
}

/**
 * Starts the JSON server in a child process on 127.0.0.1 (keep-alive): `/token` answers a token
 * response with {@link TOKEN}, `/traced` how many requests carried a `traceparent`, anything else
 * a small JSON-RPC result. With `core`, the child runs pinned to it.
 */
export async function startJsonServer(options: { core?: number | undefined } = {}): Promise<JsonServer> {
  const source = `
const http = require('node:http')
const reply = ${JSON.stringify(REPLY)}
const token = ${JSON.stringify(JSON.stringify({ access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 }))}
let traced = 0
const server = http.createServer((req, res) => {
  if (req.headers.traceparent) traced++
  req.resume()
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    if (req.url === '/traced') return res.end(String(traced))
    res.end(req.url === '/token' ? token : reply)
  })
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
process.stdin.on('end', () => process.exit(0)).resume()
`
  const child: ChildProcess =
    options.core === undefined
      ? spawn(process.execPath, ['-e', source], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn('taskset', ['-c', String(options.core), process.execPath, '-e', source], {
          stdio: ['pipe', 'pipe', 'inherit'],
        })
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject)
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
  })
  const base = `http://127.0.0.1:${port}`
  return {
    base,
    traced: async () => Number(await (await globalThis.fetch(`${base}/traced`)).text()),
    stop: () => child.stdin?.end(),
  }
}

/**
 * The auth fetch both benchmarks measure: a client-credentials provider against the server's
 * `/token`, warmed (every later call is a cache hit), and a cookie filter for the two allowed
 * cookies of {@link USER_COOKIE}.
 */
export async function warmAuthFetch(
  core: typeof AuthCore,
  transport: typeof McpTransport,
  base: string,
): Promise<{ tokenProvider: AuthCore.ClientCredentialsTokenProvider; authFetch: McpTransport.AuthFetch }> {
  const tokenProvider = new core.ClientCredentialsTokenProvider({
    tokenUrl: `${base}/token`,
    clientId: 'bench-client',
    clientSecret: 'bench-secret',
    scope: 'mcp:read',
  })
  await tokenProvider.getToken()
  const authFetch = transport.createAuthFetch({
    serverUrl: `${base}/mcp`,
    tokenProvider,
    cookies: { allow: ALLOWED_COOKIES },
  })
  return { tokenProvider, authFetch }
}

/** The cookie names the benches' auth fetches and cookie filters let through. */
export const ALLOWED_COOKIES: readonly string[] = ['session_id', 'user_id']
/** Five cookies, two of them allowed ({@link ALLOWED_COOKIES}): what the user context carries. */
export const USER_COOKIE = 'session_id=abc123; user_id=u-42; _ga=GA1.2.3; theme=dark; tracking=xyz'
/** What the cookie filter lets through of {@link USER_COOKIE}, as the raw side sends it. */
export const FORWARDED_COOKIE = 'session_id=abc123; user_id=u-42'
/** The transport's own headers on an MCP POST. */
export const SDK_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
}

/** Reads an answer to the end (so its connection is free again); anything but a 200 fails the run. */
export async function drain(response: Response): Promise<void> {
  if (response.status !== 200) throw new Error(`unexpected status ${response.status}`)
  await response.text()
}

/** One request of a side, inside its own user context. */
export type Send = () => Promise<void>

/**
 * The two pairs the ≤ 1.03 goal is measured on, both sides inside `withUserContext({ cookie })`:
 * `record`, the raw fetch with the same headers by hand against the auth fetch given the
 * transport's headers as a record; `sdk`, the same with a fresh `Headers` per request on both
 * sides, as the SDK's transports pass them.
 */
export function pairedSides(
  mcpUrl: string,
  authFetch: (url: string, init: RequestInit) => Promise<Response>,
  withUserContext: typeof McpTransport.withUserContext,
): { readonly record: { raw: Send; auth: Send }; readonly sdk: { raw: Send; auth: Send } } {
  const inContext = (send: () => Promise<Response>): Send =>
    function inUserContext() {
      return withUserContext({ cookie: USER_COOKIE }, async () => drain(await send()))
    }
  return {
    record: {
      raw: inContext(() =>
        globalThis.fetch(mcpUrl, {
          method: 'POST',
          headers: { ...SDK_HEADERS, authorization: `Bearer ${TOKEN}`, cookie: FORWARDED_COOKIE },
          body: BODY,
        }),
      ),
      auth: inContext(() => authFetch(mcpUrl, { method: 'POST', headers: SDK_HEADERS, body: BODY })),
    },
    sdk: {
      raw: inContext(() =>
        globalThis.fetch(mcpUrl, {
          method: 'POST',
          headers: new Headers({
            ...SDK_HEADERS,
            authorization: `Bearer ${TOKEN}`,
            cookie: FORWARDED_COOKIE,
          }),
          body: BODY,
        }),
      ),
      auth: inContext(() =>
        authFetch(mcpUrl, { method: 'POST', headers: new Headers(SDK_HEADERS), body: BODY }),
      ),
    },
  }
}
