import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { exportJWK, generateKeyPair } from 'jose'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMockMcpServer, createMockOAuthServer, type MockMcpServer } from '../src/index.js'

const clientKeys = await generateKeyPair('RS256', { extractable: true })
const oauth = createMockOAuthServer({
  clients: [
    {
      clientId: 'test-client',
      clientSecret: 'test-secret',
      allowedScopes: ['mcp:read', 'mcp:write', 'customer:read', 'ticket:create', 'account:calculate'],
    },
    {
      clientId: 'jwt-client',
      jwks: { keys: [{ ...(await exportJWK(clientKeys.publicKey)), kid: 'k1', alg: 'RS256' }] },
      allowedScopes: ['customer:read'],
    },
  ],
})
const mcp = createMockMcpServer({ oauth })
const stateless = createMockMcpServer({ oauth, url: 'https://stateless.mock.test/mcp', stateless: true })
const custom = createMockMcpServer({
  oauth,
  url: 'https://custom.mock.test/',
  audience: ['api://custom'],
  tools: [
    {
      name: 'whoami',
      scopes: ['mcp:read'],
      inputSchema: { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'] },
      handler: (args, ctx) =>
        `${String(args['greeting'])}, ${ctx.clientId} (${ctx.cookies['user_id'] ?? 'anonymous'})`,
    },
    { name: 'boom', handler: () => Promise.reject(new Error('tool failed')) },
  ],
  toolScopes: { boom: ['mcp:write'] },
})
const msw = setupServer(...oauth.handlers, ...mcp.handlers, ...stateless.handlers, ...custom.handlers)
const clients: Client[] = []
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  oauth.reset()
  for (const s of [mcp, stateless, custom]) s.reset()
})
afterAll(async () => {
  await Promise.all([mcp.close(), stateless.close(), custom.close()])
  msw.close()
})

interface Seen {
  url: string
  status: number
  wwwAuthenticate: string | null
  sessionId: string | null
}

/** Connects the SDK client; `token` sends a fixed bearer, otherwise the SDK's client-credentials flow runs. */
async function connect(server: MockMcpServer, options: { token?: string; cookie?: string } = {}) {
  const seen: Seen[] = []
  const recordingFetch = async (url: string | URL, init?: RequestInit) => {
    const response = await fetch(url, init)
    seen.push({
      url: String(url),
      status: response.status,
      wwwAuthenticate: response.headers.get('www-authenticate'),
      sessionId: response.headers.get('mcp-session-id'),
    })
    return response
  }
  const headers: Record<string, string> = {}
  if (options.token) headers['authorization'] = `Bearer ${options.token}`
  if (options.cookie) headers['cookie'] = options.cookie
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    fetch: recordingFetch,
    requestInit: { headers },
    ...(options.token
      ? {}
      : {
          authProvider: new ClientCredentialsProvider({
            clientId: 'test-client',
            clientSecret: 'test-secret',
            expectedIssuer: oauth.issuer,
          }),
        }),
  })
  const client = new Client({ name: 'test', version: '1.0.0' })
  clients.push(client)
  await client.connect(transport)
  return { client, seen }
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const first = (result.content as { type: string; text?: string }[])[0]
  return first?.text ?? ''
}

describe('createMockMcpServer', () => {
  it('serves the SDK client with ClientCredentialsProvider through RFC 9728 discovery', async () => {
    const { client, seen } = await connect(mcp)
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      'calculate_account_value',
      'create_support_ticket',
      'get_customer_info',
      'get_recent_customers',
    ])
    expect(tools.find((t) => t.name === 'get_customer_info')?.inputSchema.required).toEqual(['customer_id'])
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-001' },
    })
    expect(JSON.parse(text(result))).toMatchObject({ customer_id: 'cust-001', name: 'Ada Lovelace' })
    expect(seen[0]).toMatchObject({
      status: 401,
      wwwAuthenticate: `Bearer resource_metadata="${mcp.resourceMetadataUrl}"`,
    })
    expect(oauth.tokenRequests).toEqual([
      expect.objectContaining({ clientId: 'test-client', resource: [mcp.url], status: 200 }),
    ])
    expect(mcp.toolCalls).toEqual([
      expect.objectContaining({
        tool: 'get_customer_info',
        args: { customer_id: 'cust-001' },
        clientId: 'test-client',
        scopes: expect.arrayContaining(['customer:read']),
      }),
    ])
    expect(mcp.requests.map((r) => r.jsonRpcMethod)).toEqual(
      expect.arrayContaining(['initialize', 'notifications/initialized', 'tools/list', 'tools/call']),
    )
    const call = mcp.requests.find((r) => r.jsonRpcMethod === 'tools/call')
    expect(call?.headers['authorization']).toMatch(/^Bearer ey/)
    expect(call?.sessionId).toBeTruthy()
  })

  it('serves the SDK client authenticating with private_key_jwt (PrivateKeyJwtProvider)', async () => {
    const authProvider = new PrivateKeyJwtProvider({
      clientId: 'jwt-client',
      privateKey: await exportJWK(clientKeys.privateKey),
      algorithm: 'RS256',
      expectedIssuer: oauth.issuer,
    })
    const client = new Client({ name: 'test', version: '1.0.0' })
    clients.push(client)
    await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider }))
    const result = await client.callTool({ name: 'get_recent_customers', arguments: {} })
    expect(result.isError).toBeFalsy()
    expect(oauth.tokenRequests[0]).toMatchObject({
      authMethod: 'private_key_jwt',
      clientId: 'jwt-client',
      status: 200,
    })
    expect(mcp.toolCalls[0]).toMatchObject({ clientId: 'jwt-client', scopes: ['customer:read'] })
  })

  it('passes the request cookies to tools and records them per call', async () => {
    const token = await oauth.issueToken({ aud: mcp.url })
    const { client } = await connect(mcp, { token, cookie: 'session_id=s-123; user_id=alice; other=x' })
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-003' },
    })
    expect(JSON.parse(text(result)).seen_user).toEqual({
      user_id: 'alice',
      session_id: 's-123',
      client_id: 'test-client',
    })
    expect(mcp.toolCalls[0]?.cookies).toEqual({ session_id: 's-123', user_id: 'alice', other: 'x' })
  })

  it('serves stateless mode without sessions', async () => {
    const { client, seen } = await connect(stateless)
    expect((await client.listTools()).tools).toHaveLength(4)
    const result = await client.callTool({
      name: 'calculate_account_value',
      arguments: { customer_id: 'cust-002' },
    })
    expect(JSON.parse(text(result))).toMatchObject({ total_value: 4200 })
    expect(seen.every((s) => s.sessionId === null)).toBe(true)
    expect(stateless.requests.every((r) => r.sessionId === undefined)).toBe(true)
  })

  it('serves RFC 9728 protected-resource metadata at the path and root well-known URLs', async () => {
    expect(mcp.resourceMetadataUrl).toBe('https://mcp.mock.test/.well-known/oauth-protected-resource/mcp')
    for (const url of [
      mcp.resourceMetadataUrl,
      'https://mcp.mock.test/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(url)
      expect(await res.json()).toMatchObject({ resource: mcp.url, authorization_servers: [oauth.issuer] })
    }
  })

  it('answers 401 invalid_token for an expired token', async () => {
    const token = await oauth.issueToken({ aud: mcp.url, expiresIn: -5 })
    const error = await connect(mcp, { token }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(mcp.requests[0]).toMatchObject({ status: 401, authError: 'invalid_token' })
  })

  it.each([
    ['a wrong audience', { aud: 'https://elsewhere.test/mcp' }, {}],
    ['a wrong issuer', { aud: 'https://mcp.mock.test/mcp', iss: 'https://evil.test' }, {}],
    ['a token type other than at+jwt', { aud: 'https://mcp.mock.test/mcp' }, { typ: 'JWT' }],
    ['an unknown key id', { aud: 'https://mcp.mock.test/mcp' }, { kid: 'nope' }],
  ])('answers 401 invalid_token for %s', async (_name, claims, tokenOptions) => {
    const token = await oauth.issueToken(claims, tokenOptions)
    const seen: Seen[] = []
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: async (url, init) => {
        const response = await fetch(url, init)
        seen.push({
          url: String(url),
          status: response.status,
          wwwAuthenticate: response.headers.get('www-authenticate'),
          sessionId: null,
        })
        return response
      },
    })
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toThrow()
    expect(seen[0]?.status).toBe(401)
    expect(seen[0]?.wwwAuthenticate).toMatch(
      new RegExp(
        `^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${mcp.resourceMetadataUrl}"$`,
      ),
    )
  })

  it('rejects tokens signed with a rotated-out key', async () => {
    const token = await oauth.issueToken({ aud: mcp.url })
    const { client } = await connect(mcp, { token })
    await client.listTools()
    await oauth.rotateKeys()
    await expect(client.listTools()).rejects.toThrow()
    expect(mcp.requests.at(-1)).toMatchObject({
      status: 401,
      authError: 'invalid_token',
      jsonRpcMethod: 'tools/list',
    })
    const fresh = await oauth.issueToken({ aud: mcp.url })
    const second = await connect(mcp, { token: fresh })
    await expect(second.client.listTools()).resolves.toBeTruthy()
  })

  it('answers a tool call without the tool scope with 403 insufficient_scope', async () => {
    const token = await oauth.issueToken({ aud: mcp.url, scope: 'mcp:read' })
    const { client, seen } = await connect(mcp, { token })
    await expect(client.listTools()).resolves.toBeTruthy()
    await expect(
      client.callTool({ name: 'create_support_ticket', arguments: { customer_id: 'c', subject: 's' } }),
    ).rejects.toThrow()
    expect(seen.at(-1)).toMatchObject({ status: 403 })
    expect(seen.at(-1)?.wwwAuthenticate).toBe(
      `Bearer error="insufficient_scope", scope="ticket:create", error_description="tool requires scope ticket:create", resource_metadata="${mcp.resourceMetadataUrl}"`,
    )
    expect(mcp.requests.at(-1)).toMatchObject({ status: 403, authError: 'insufficient_scope' })
    expect(mcp.toolCalls).toEqual([])
  })

  it('serves custom tools with their own scopes, audience and handler context', async () => {
    const token = await oauth.issueToken({ aud: 'api://custom', scope: 'mcp:read' })
    const { client } = await connect(custom, { token, cookie: 'user_id=bob' })
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['whoami', 'boom'])
    const result = await client.callTool({ name: 'whoami', arguments: { greeting: 'hi' } })
    expect(text(result)).toBe('hi, test-client (bob)')
    await expect(client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(/greeting/)
    await expect(client.callTool({ name: 'boom', arguments: {} })).rejects.toThrow()
    expect(custom.requests.at(-1)).toMatchObject({ status: 403 })
    const writer = await connect(custom, {
      token: await oauth.issueToken({ aud: 'api://custom', scope: 'mcp:write' }),
    })
    const failed = await writer.client.callTool({ name: 'boom', arguments: {} })
    expect(failed.isError).toBe(true)
    expect(text(failed)).toBe('tool failed')
  })

  it('serves the legacy SSE transport in-process, with the same auth, scopes and records', async () => {
    expect(mcp.sseUrl).toBe('https://mcp.mock.test/sse')
    const client = new Client({ name: 'test', version: '1.0.0' })
    clients.push(client)
    const authProvider = new ClientCredentialsProvider({
      clientId: 'test-client',
      clientSecret: 'test-secret',
      expectedIssuer: oauth.issuer,
      scope: 'customer:read',
    })
    await client.connect(
      new SSEClientTransport(new URL(mcp.sseUrl!), {
        authProvider,
        requestInit: { headers: { cookie: 'user_id=dave' } },
      }),
    )
    expect((await client.listTools()).tools).toHaveLength(4)
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-004' },
    })
    expect(result.structuredContent).toMatchObject({
      name: 'Edsger Dijkstra',
      seen_user: { user_id: 'dave' },
    })
    expect(oauth.tokenRequests[0]).toMatchObject({ resource: [mcp.sseUrl], scope: ['customer:read'] })
    expect(mcp.requests[0]).toMatchObject({ transport: 'sse', path: '/sse', status: 401 })
    expect(mcp.toolCalls[0]).toMatchObject({ tool: 'get_customer_info', cookies: { user_id: 'dave' } })
    await expect(
      client.callTool({ name: 'create_support_ticket', arguments: { customer_id: 'c', subject: 's' } }),
    ).rejects.toThrow()
    expect(mcp.requests.at(-1)).toMatchObject({
      path: '/messages',
      status: 403,
      authError: 'insufficient_scope',
    })
  })

  it('answers 404 for an unknown session id', async () => {
    const token = await oauth.issueToken({ aud: mcp.url })
    const { client } = await connect(mcp, { token })
    await mcp.close()
    await expect(client.listTools()).rejects.toThrow()
    // The client may also reopen its GET stream; the tools/list POST is the one that must get 404.
    expect(mcp.requests.findLast((r) => r.jsonRpcMethod === 'tools/list')).toMatchObject({ status: 404 })
  })

  it('gives tokens for the MCP server as default audience when the client sends no resource', async () => {
    const token = await oauth.issueToken()
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
    expect(payload.aud).toEqual([mcp.url, stateless.url, 'api://custom'])
  })

  it('requires the oauth option', () => {
    expect(() => createMockMcpServer({} as never)).toThrow(/"oauth"/)
  })
})
