import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createMockOAuthServer, seedToolScopes } from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import * as sdkErrors from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sdkErrorsModuleInStack } from '../src/internal/mcp-sdk-errors.js'
import { JwtScopeVerifier, type McpTokenVerifierOptions } from '../src/jwt-verifier.js'
import { createToolScopePolicy } from '../src/tool-scope-policy.js'

const oauth = createMockOAuthServer()
// The JWKS goes through msw; the MCP server is real HTTP on loopback. The SDK client gets the
// fetch from before msw patched it: with msw 2.15, cancelling the body of a passed-through
// response (the SDK does so for its 202 answers) never settles, and `connect` hangs.
const loopbackFetch = globalThis.fetch
const msw = setupServer(...oauth.handlers)

type Listening = { url: string; resource: string; close: () => Promise<void>; seen: AuthInfo[] }

/** A real SDK server: express + requireBearerAuth + McpServer with tools guarded by a scope policy. */
async function startServer(
  adapterOptions?: McpTokenVerifierOptions,
  bearerAuth: typeof requireBearerAuth = requireBearerAuth,
): Promise<Listening> {
  const app = createMcpExpressApp()
  const seen: AuthInfo[] = []
  const policy = createToolScopePolicy(seedToolScopes)
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}/mcp`
  oauth.registerResource(url)
  const verifier = new JwtScopeVerifier({
    issuer: oauth.issuer,
    audience: url,
    jwksUri: oauth.jwksUri,
    resourceMetadata: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`,
  })
  app.post(
    '/mcp',
    bearerAuth({
      verifier: verifier.toMcpTokenVerifier(adapterOptions),
      expectedResource: new URL(url),
    }),
  )
  app.post('/mcp', async (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => {
    const mcp = new McpServer({ name: 'guarded', version: '1.0.0' })
    for (const name of policy.tools) {
      mcp.registerTool(name, { description: name }, async (extra) => {
        const auth = extra.authInfo as AuthInfo
        seen.push(auth)
        const decision = policy.check(name, auth.scopes)
        if (!decision.allowed) {
          return { isError: true, content: [{ type: 'text', text: `forbidden: ${decision.reason}` }] }
        }
        return { content: [{ type: 'text', text: `${name} for ${auth.clientId}` }] }
      })
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void mcp.close()
    })
    await mcp.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  // Stateless server: no standalone SSE stream, no sessions to delete.
  app.get('/mcp', (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(405, { allow: 'POST' }).end()
  })
  return {
    url,
    resource: url,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: loopbackFetch,
    }),
  )
  return client
}

function initialize(url: string, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  })
}

let servers: Listening[] = []
async function started(
  options?: McpTokenVerifierOptions,
  bearerAuth?: typeof requireBearerAuth,
): Promise<Listening> {
  const s = await startServer(options, bearerAuth)
  servers.push(s)
  return s
}

beforeAll(() => msw.listen({ onUnhandledFrame: 'bypass' }))
afterEach(async () => {
  msw.resetHandlers()
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})
afterAll(() => msw.close())

describe('JwtScopeVerifier.toMcpTokenVerifier', () => {
  it('is the SDK OAuthTokenVerifier type', () => {
    const verifier: OAuthTokenVerifier = new JwtScopeVerifier({
      issuer: oauth.issuer,
      audience: 'https://mcp.example',
      jwksUri: oauth.jwksUri,
    }).toMcpTokenVerifier()
    expect(typeof verifier.verifyAccessToken).toBe('function')
  })

  it('returns AuthInfo with expiresAt in seconds and resource from aud', async () => {
    const resource = 'https://mcp.example/mcp'
    // One fixed instant for issuing and checking (the real clock may cross a second in between).
    const issuedAt = Date.now()
    oauth.setNow(() => issuedAt)
    const token = await oauth.issueToken({ aud: [resource, 'https://other.example'], scope: 'mcp:read' })
    oauth.setNow(Date.now)
    const info = await new JwtScopeVerifier({
      issuer: oauth.issuer,
      audience: resource,
      jwksUri: oauth.jwksUri,
      now: () => issuedAt,
    })
      .toMcpTokenVerifier()
      .verifyAccessToken(token)
    expect(info).toMatchObject({ token, clientId: 'test-client', scopes: ['mcp:read'] })
    expect(info.resource?.href).toBe(resource)
    expect(info.expiresAt).toBe(Math.floor(issuedAt / 1000) + 3600)
    expect(info.extra).toMatchObject({ issuer: oauth.issuer, subject: 'test-client' })
  })

  it('lets a real SDK server behind requireBearerAuth run tools for a valid token', async () => {
    const { url, seen } = await started()
    const client = await connect(url, await oauth.issueToken({ scope: 'customer:read' }))
    const result = await client.callTool({ name: 'get_customer_info', arguments: {} })
    expect(result.content).toEqual([{ type: 'text', text: 'get_customer_info for test-client' }])
    expect(seen.at(-1)).toMatchObject({ clientId: 'test-client', scopes: ['customer:read'] })
    expect(seen.at(-1)?.resource?.href).toBe(url)
    await client.close()
  })

  it('guards each tool with the scope policy', async () => {
    const { url } = await started()
    const client = await connect(url, await oauth.issueToken({ scope: 'customer:read' }))
    const result = await client.callTool({ name: 'create_support_ticket', arguments: {} })
    expect(result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'forbidden: insufficient_scope' }],
    })
    await client.close()
  })

  it.each([
    ['malformed', async () => 'not-a-jwt'],
    ['expired', () => oauth.issueToken({ expiresIn: -600 })],
    ['for another resource', () => oauth.issueToken({ aud: 'https://elsewhere.example/mcp' })],
    ['tampered', async () => `${(await oauth.issueToken()).slice(0, -4)}AAAA`],
    ['unknown kid', () => oauth.issueToken({}, { kid: 'nope' })],
  ])('answers 401 invalid_token for a token that is %s', async (_name, make) => {
    const { url } = await started()
    const response = await initialize(url, await make())
    expect(response.status).toBe(401)
    // Well-formed: every auth-param value is one quoted string (the SDK does not escape quotes).
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer error="invalid_token", error_description="[^"\\]*"(, [a-z_]+="[^"\\]*")*$/,
    )
    expect(await response.json()).toMatchObject({ error: 'invalid_token' })
  })

  it('answers 403 insufficient_scope when the adapter requires scopes the token lacks', async () => {
    const { url } = await started({ requiredScopes: ['mcp:write'] })
    const response = await initialize(url, await oauth.issueToken({ scope: 'mcp:read' }))
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/)
  })

  it('answers 500, not 401, when the keys are unavailable', async () => {
    msw.use(http.get(oauth.jwksUri, () => HttpResponse.error()))
    const { url } = await started()
    const response = await initialize(url, await oauth.issueToken())
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({ error: 'server_error' })
  })

  it('uses injected SDK error classes', async () => {
    const { url } = await started({ errors: sdkErrors })
    expect((await initialize(url, await oauth.issueToken({ expiresIn: -600 }))).status).toBe(401)
    expect((await initialize(url, await oauth.issueToken())).status).toBe(200)
  })

  it('rejects injected errors that are not the SDK classes', () => {
    const verifier = new JwtScopeVerifier({
      issuer: oauth.issuer,
      audience: 'https://x',
      jwksUri: oauth.jwksUri,
    })
    expect(() => verifier.toMcpTokenVerifier({ errors: {} as never })).toThrow('"errors"')
  })
})

describe('toMcpTokenVerifier with two copies of the MCP SDK installed', () => {
  // A second copy of the SDK's auth errors and bearer middleware, as pnpm peers or a symlinked
  // workspace produce: the same code, other class identities. No `errors` option is given.
  let copy: string
  let secondBearerAuth: typeof requireBearerAuth
  let secondErrors: typeof sdkErrors
  beforeAll(async () => {
    const esm = dirname(
      createRequire(import.meta.url).resolve('@modelcontextprotocol/sdk/server/auth/errors.js'),
    ).replace(`${sep}dist${sep}cjs${sep}`, `${sep}dist${sep}esm${sep}`)
    copy = mkdtempSync(join(tmpdir(), 'second-sdk-'))
    const auth = join(copy, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', 'server', 'auth')
    mkdirSync(join(auth, 'middleware'), { recursive: true })
    writeFileSync(
      join(copy, 'node_modules', '@modelcontextprotocol', 'sdk', 'package.json'),
      '{"type":"module"}',
    )
    copyFileSync(join(esm, 'errors.js'), join(auth, 'errors.js'))
    copyFileSync(join(esm, 'middleware', 'bearerAuth.js'), join(auth, 'middleware', 'bearerAuth.js'))
    secondBearerAuth = (await import(pathToFileURL(join(auth, 'middleware', 'bearerAuth.js')).href))
      .requireBearerAuth
    secondErrors = await import(pathToFileURL(join(auth, 'errors.js')).href)
  })
  afterAll(() => rmSync(copy, { recursive: true, force: true }))

  it('really is a second copy (instanceof fails across the copies)', () => {
    expect(new secondErrors.InvalidTokenError('x')).not.toBeInstanceOf(sdkErrors.InvalidTokenError)
  })

  it("answers 401 and 403 through the other copy's requireBearerAuth, not 500", async () => {
    const { url } = await started(undefined, secondBearerAuth)
    const expired = await initialize(url, await oauth.issueToken({ expiresIn: -600 }))
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
    expect((await initialize(url, await oauth.issueToken())).status).toBe(200)
    const { url: scoped } = await started({ requiredScopes: ['mcp:write'] }, secondBearerAuth)
    const lacking = await initialize(scoped, await oauth.issueToken({ scope: 'mcp:read' }))
    expect(lacking.status).toBe(403)
  })

  it('still answers 401 through the first copy afterwards', async () => {
    const { url } = await started()
    expect((await initialize(url, await oauth.issueToken({ expiresIn: -600 }))).status).toBe(401)
  })
})

describe('internal sdkErrorsModuleInStack', () => {
  it('finds the calling SDK copy in ESM, CommonJS and Windows frames, and nothing elsewhere', () => {
    const esm =
      'Error\n    at verifyAccessToken (file:///app/src/x.js:1:1)\n    at async file:///srv/a%20b/node_modules/@modelcontextprotocol/sdk/dist/esm/server/auth/middleware/bearerAuth.js:33:30'
    expect(sdkErrorsModuleInStack(esm)).toBe(
      'file:///srv/a%20b/node_modules/@modelcontextprotocol/sdk/dist/esm/server/auth/errors.js',
    )
    const cjs =
      'Error\n    at async /srv/app/node_modules/.pnpm/x/node_modules/@modelcontextprotocol/sdk/dist/cjs/server/auth/middleware/bearerAuth.js:40:36'
    expect(sdkErrorsModuleInStack(cjs)).toBe(
      'file:///srv/app/node_modules/.pnpm/x/node_modules/@modelcontextprotocol/sdk/dist/cjs/server/auth/errors.js',
    )
    const windows =
      'Error\n    at async C:\\srv\\my app\\node_modules\\@modelcontextprotocol\\sdk\\dist\\esm\\server\\auth\\middleware\\bearerAuth.js:33:30'
    expect(sdkErrorsModuleInStack(windows)).toBe(
      'file:///C:/srv/my%20app/node_modules/@modelcontextprotocol/sdk/dist/esm/server/auth/errors.js',
    )
    expect(sdkErrorsModuleInStack('Error\n    at bundle.js:1:99')).toBeUndefined()
    expect(sdkErrorsModuleInStack(undefined)).toBeUndefined()
  })
})
