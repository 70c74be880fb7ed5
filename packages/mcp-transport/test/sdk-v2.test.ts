import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toAuthProvider } from '../src/sdk-v2.js'

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
})
afterAll(async () => {
  await servers.close()
})

describe('toAuthProvider (SDK v2)', () => {
  it('authenticates the SDK v2 client and recovers from a 401 with one fresh token', async () => {
    const tokenProvider = new ClientCredentialsTokenProvider({
      resourceServerUrl: servers.mcp.url,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      scope: 'mcp:read customer:read',
    })
    const transport = new StreamableHTTPClientTransport(new URL(servers.mcp.url), {
      authProvider: toAuthProvider(tokenProvider),
    })
    const client = new Client({ name: 'v2', version: '1.0.0' })
    await client.connect(transport)
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toContain('get_customer_info')
    expect(servers.oauth.server.tokenRequests).toHaveLength(1)

    await servers.oauth.server.rotateKeys() // the old token's key is gone: the server answers 401
    const result = await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
    expect(result.isError).toBeFalsy()
    expect(servers.oauth.server.tokenRequests).toHaveLength(2)
    expect(servers.mcp.server.requests.filter((r) => r.status === 401)).toHaveLength(1)
    await client.close()
  })

  it('recovers 50 concurrent calls after a key rotation with one new token', async () => {
    const tokenProvider = new ClientCredentialsTokenProvider({
      resourceServerUrl: servers.mcp.url,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      scope: 'mcp:read customer:read',
    })
    const client = new Client({ name: 'v2', version: '1.0.0' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(servers.mcp.url), {
        authProvider: toAuthProvider(tokenProvider),
      }),
    )
    const before = servers.oauth.server.tokenRequests.length
    await servers.oauth.server.rotateKeys()
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        client.callTool({ name: 'get_customer_info', arguments: { customer_id: `c-${i}` } }),
      ),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(0)
    expect(servers.oauth.server.tokenRequests.length - before).toBe(1)
    await client.close()
  })

  it('keeps a replacement token through freshTokenGraceMs, and invalidates it after (injected clock)', async () => {
    let now = 1_000_000
    const tokenProvider = new ClientCredentialsTokenProvider({
      resourceServerUrl: servers.mcp.url,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      scope: 'mcp:read customer:read',
    })
    const client = new Client({ name: 'v2', version: '1.0.0' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(servers.mcp.url), {
        authProvider: toAuthProvider(tokenProvider, { freshTokenGraceMs: 2000, now: () => now }),
      }),
    )
    const call = () => client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
    const tokens = () => servers.oauth.server.tokenRequests.length
    const start = tokens()
    await servers.oauth.server.rotateKeys()
    expect((await call()).isError).toBeFalsy() // the first 401 replaces the token
    expect(tokens() - start).toBe(1)
    // Inside the window a 401 is taken for one that still carried the old token: no new token.
    now += 1999
    await servers.oauth.server.rotateKeys()
    await expect(call()).rejects.toThrow()
    expect(tokens() - start).toBe(1)
    // Once it is over, a 401 is the replacement's own: it is invalidated and the retry works.
    now += 2
    expect((await call()).isError).toBeFalsy()
    expect(tokens() - start).toBe(2)
    await client.close()
  })
})
