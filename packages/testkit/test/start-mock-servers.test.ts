import { request as httpRequest } from 'node:http'
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client'
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type MockServers, startMockServers, TestkitError } from '../src/index.js'
import { client, dpopMcpClient, dpopToken, keyPair } from './helpers/dpop-client.js'

let servers: MockServers
const clients: Client[] = []
beforeAll(async () => {
  servers = await startMockServers()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  servers.oauth.server.reset()
  servers.mcp.server.reset()
})
afterAll(async () => {
  await servers.close()
})

function provider() {
  return new ClientCredentialsProvider({
    clientId: 'test-client',
    clientSecret: 'test-secret',
    expectedIssuer: servers.oauth.issuer,
  })
}

function track(client: Client): Client {
  clients.push(client)
  return client
}

describe('startMockServers', () => {
  it('listens on loopback ports with separate origins for the two servers', () => {
    expect(servers.oauth.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(servers.mcp.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    expect(new URL(servers.mcp.url).origin).not.toBe(servers.oauth.issuer)
    expect(servers.mcp.sseUrl).toBe(`${new URL(servers.mcp.url).origin}/sse`)
    expect(servers.oauth.tokenEndpoint).toBe(servers.oauth.server.tokenEndpoint)
  })

  it('serves the SDK client over real loopback HTTP with Streamable HTTP', async () => {
    const client = track(new Client({ name: 't', version: '1' }))
    await client.connect(
      new StreamableHTTPClientTransport(new URL(servers.mcp.url), { authProvider: provider() }),
    )
    expect((await client.listTools()).tools).toHaveLength(4)
    const result = await client.callTool({ name: 'get_recent_customers', arguments: { limit: 2 } })
    expect(result.structuredContent).toMatchObject({
      customers: [{ customer_id: 'cust-001' }, { customer_id: 'cust-002' }],
    })
    expect(servers.oauth.server.tokenRequests[0]).toMatchObject({ resource: [servers.mcp.url], status: 200 })
  })

  it('issues tokens to oauth4webapi over HTTP that jose verifies through the JWKS URL', async () => {
    const issuer = new URL(servers.oauth.issuer)
    const options = { [oauth.allowInsecureRequests]: true }
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options))
    const client = { client_id: 'test-client' }
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretPost('test-secret'),
      { scope: 'customer:read', resource: servers.mcp.url },
      options,
    )
    const tokens = await oauth.processClientCredentialsResponse(as, client, response)
    const { payload } = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(servers.oauth.jwksUri)),
      {
        issuer: servers.oauth.issuer,
        audience: servers.mcp.url,
      },
    )
    expect(payload.scope).toBe('customer:read')
  })

  it('drops the connection for a simulated network error', async () => {
    servers.oauth.server.failNext(1, { networkError: true })
    await expect(
      fetch(servers.oauth.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=test-client&client_secret=test-secret',
      }),
    ).rejects.toThrow(TypeError)
    expect(servers.oauth.server.tokenRequests[0]).toMatchObject({ status: 0, error: 'network_error' })
  })

  it('serves the legacy SSE transport over real HTTP, with cookies passed to tools', async () => {
    const client = track(new Client({ name: 't', version: '1' }))
    const transport = new SSEClientTransport(new URL(servers.mcp.sseUrl!), {
      authProvider: provider(),
      requestInit: { headers: { cookie: 'user_id=carol; session_id=xyz' } },
    })
    await client.connect(transport)
    expect((await client.listTools()).tools).toHaveLength(4)
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-002' },
    })
    expect(result.structuredContent).toMatchObject({ name: 'Alan Turing', seen_user: { user_id: 'carol' } })
    const records = servers.mcp.server.requests
    expect(records[0]).toMatchObject({ transport: 'sse', path: '/sse', status: 401 })
    expect(
      records.some((r) => r.path === '/messages' && r.jsonRpcMethod === 'tools/call' && r.status === 202),
    ).toBe(true)
    expect(servers.mcp.server.toolCalls[0]?.cookies).toEqual({ user_id: 'carol', session_id: 'xyz' })
    expect(servers.oauth.server.tokenRequests[0]?.resource).toEqual([servers.mcp.sseUrl])
  })

  it('answers legacy SSE requests without a token with a Bearer challenge', async () => {
    const res = await fetch(servers.mcp.sseUrl!, { headers: { accept: 'text/event-stream' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${new URL(servers.mcp.url).origin}/.well-known/oauth-protected-resource/sse"`,
    )
    const metadata = await fetch(
      `${new URL(servers.mcp.url).origin}/.well-known/oauth-protected-resource/sse`,
    )
    expect(await metadata.json()).toMatchObject({
      resource: servers.mcp.sseUrl,
      authorization_servers: [servers.oauth.issuer],
    })
  })

  it('answers a legacy SSE tool call without the scope with 403 insufficient_scope', async () => {
    const token = await servers.oauth.server.issueToken({ aud: servers.mcp.sseUrl, scope: 'mcp:read' })
    const client = track(new Client({ name: 't', version: '1' }))
    await client.connect(
      new SSEClientTransport(new URL(servers.mcp.sseUrl!), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        eventSourceInit: {
          fetch: (url, init) =>
            fetch(url, {
              ...init,
              headers: {
                ...Object.fromEntries(new Headers(init?.headers)),
                authorization: `Bearer ${token}`,
              },
            }),
        },
      }),
    )
    await expect(
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'x' } }),
    ).rejects.toThrow()
    expect(servers.mcp.server.requests.at(-1)).toMatchObject({
      path: '/messages',
      status: 403,
      authError: 'insufficient_scope',
    })
  })

  it('close() ends open SSE streams so nothing hangs', async () => {
    const local = await startMockServers({ stateless: false })
    const token = await local.oauth.server.issueToken()
    const headers = { authorization: `Bearer ${token}`, accept: 'text/event-stream' }
    const legacy = await fetch(local.mcp.sseUrl!, { headers })
    expect(legacy.status).toBe(200)
    const client = new Client({ name: 't', version: '1' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(local.mcp.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    )
    const reader = legacy.body!.getReader()
    await reader.read() // the `endpoint` event
    const started = performance.now()
    await local.close()
    const rest = await reader.read().catch(() => ({ done: true }))
    expect(rest.done).toBe(true)
    expect(performance.now() - started).toBeLessThan(2000)
    await client.close()
  })

  it('fails with ERR_TESTKIT_LISTEN_FAILED when a port is taken', async () => {
    const port = Number(new URL(servers.mcp.url).port)
    const error = await startMockServers({ mcpPort: port }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TestkitError)
    expect(error).toMatchObject({ code: 'ERR_TESTKIT_LISTEN_FAILED' })
  })

  it('serves an SDK v2 client in 2026-07-28 over loopback HTTP', async () => {
    const token = await servers.oauth.server.issueToken({ aud: servers.mcp.url, scope: 'customer:read' })
    const client = new V2Client({ name: 'v2', version: '1' }, { versionNegotiation: { mode: 'auto' } })
    await client.connect(
      new V2Transport(new URL(servers.mcp.url), { authProvider: { token: async () => token } }),
    )
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
      await client.callTool({ name: 'get_recent_customers', arguments: {} })
      expect(servers.mcp.server.toolCalls).toMatchObject([
        { protocolVersion: '2026-07-28', clientId: 'test-client' },
      ])
    } finally {
      await client.close()
    }
  })

  it('refuses a request whose Host is not its own or loopback with 403 (DNS rebinding)', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(servers.mcp.resourceMetadataUrl, { headers: { host } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
    const port = new URL(servers.mcp.url).port
    expect(await status(`evil.example:${port}`)).toBe(403)
    expect(await status(`localhost:${port}`)).toBe(200)
    expect(await status(`127.0.0.1:${port}`)).toBe(200)
  })

  it('serves HEAD and unknown paths without crashing', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${servers.oauth.issuer}/nothing-here`, { method: 'GET' }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(404)
  })
})

describe('startMockServers with DPoP', () => {
  const dpopClients: Client[] = []
  it('serves DPoP over loopback HTTP: nonces at both servers, bound token, fresh proofs', async () => {
    const dpopServers = await startMockServers({ dpop: { nonce: true } })
    try {
      const handle = oauth.DPoP(client, keyPair)
      const { access_token } = await dpopToken(dpopServers.oauth.server, handle, {
        resource: dpopServers.mcp.url,
      })
      const mcpClient = await dpopMcpClient(dpopServers.mcp.server, access_token, handle, dpopClients)
      expect((await mcpClient.listTools()).tools).toHaveLength(4)
      expect(dpopServers.oauth.server.tokenRequests.map((r) => r.status)).toEqual([400, 200])
      expect(dpopServers.mcp.server.requests[0]).toMatchObject({ status: 401, authError: 'use_dpop_nonce' })
    } finally {
      await Promise.all(dpopClients.splice(0).map((c) => c.close()))
      await dpopServers.close()
    }
  })
})

describe('startMockServers on a non-loopback host', () => {
  it('refuses 0.0.0.0, a LAN address or a hostname without allowRemote, before binding anything', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'mcp.example.test']) {
      const error = await startMockServers({ host, onWarning: () => {} }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TestkitError)
      expect(error).toMatchObject({ code: 'ERR_TESTKIT_NON_LOOPBACK_HOST' })
      expect((error as Error).message).toContain('allowRemote')
    }
  })

  it('binds 0.0.0.0 with allowRemote: true and warns once', async () => {
    const warnings: string[] = []
    const remote = await startMockServers({
      host: '0.0.0.0',
      allowRemote: true,
      onWarning: (m) => warnings.push(m),
    })
    try {
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/0\.0\.0\.0.*not loopback/)
      const port = new URL(remote.oauth.issuer).port
      const metadata = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`)
      expect(metadata.status).toBe(200)
    } finally {
      await remote.close()
    }
  })

  it('warns through process.emitWarning by default', async () => {
    const seen = new Promise<Error>((resolve) => process.once('warning', resolve))
    const remote = await startMockServers({ host: '0.0.0.0', allowRemote: true })
    try {
      expect(await seen).toMatchObject({
        name: 'TestkitWarning',
        message: expect.stringContaining('0.0.0.0'),
      })
    } finally {
      await remote.close()
    }
  })

  it('does not warn for loopback hosts', async () => {
    const warnings: string[] = []
    for (const host of ['localhost', '127.0.0.1', '::1']) {
      const local = await startMockServers({ host, onWarning: (m) => warnings.push(m) })
      await local.close()
    }
    expect(warnings).toEqual([])
  })
})
