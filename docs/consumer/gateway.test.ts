// A consumer's test suite for a gateway built with mcp-oauth2-kit, to copy into your project.
import { ClientCredentialsTokenProvider, TokenRequestError } from '@mcp-oauth2/auth-core'
import { createAuthFetch, withUserContext } from '@mcp-oauth2/mcp-transport'
import { createMockMcpServer, createMockOAuthServer, startMockServers } from '@mcp-oauth2/testkit'
import { useMswServer } from '@mcp-oauth2/testkit/vitest'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterEach, describe, expect, it } from 'vitest'

// The code under test: connects to an OAuth2-protected MCP server as the gateway (client
// credentials) and calls a tool for a user, forwarding only the cookie the server may see.
async function lookUpCustomer(serverUrl: string, userCookie: string, clientSecret = 'test-secret') {
  const tokenProvider = new ClientCredentialsTokenProvider({
    resourceServerUrl: serverUrl, // RFC 9728 discovery of the authorization server
    clientId: 'test-client',
    clientSecret,
    scope: 'customer:read',
    retry: { baseDelayMs: 10 }, // keep the test quick when the mock server fails on purpose
  })
  const fetch = createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['user_id'] } })
  const client = new Client({ name: 'my-gateway', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch }))
  try {
    return await withUserContext({ cookie: userCookie }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } }),
    )
  } finally {
    await client.close()
  }
}

describe('in-process, with msw', () => {
  const oauth = createMockOAuthServer()
  const mcp = createMockMcpServer({ oauth })
  useMswServer([...oauth.handlers, ...mcp.handlers])
  afterEach(() => {
    oauth.reset()
    mcp.reset()
  })

  it('gets a token, calls the tool for the user and forwards only the allowed cookie', async () => {
    const result = await lookUpCustomer(mcp.url, 'user_id=alice; tracking=xyz')
    expect(result.structuredContent).toMatchObject({ name: 'Ada Lovelace', seen_user: { user_id: 'alice' } })
    // What the servers received:
    expect(oauth.tokenRequests).toMatchObject([{ clientId: 'test-client', resource: [mcp.url], status: 200 }])
    expect(mcp.toolCalls).toMatchObject([{ tool: 'get_customer_info', cookies: { user_id: 'alice' } }])
    expect(mcp.toolCalls[0]?.cookies).not.toHaveProperty('tracking')
  })

  it('rides out a brief authorization server outage', async () => {
    oauth.failNext(1, { status: 503, headers: { 'retry-after': '0' } })
    await lookUpCustomer(mcp.url, 'user_id=alice')
    expect(oauth.tokenRequests.map((r) => r.status)).toEqual([503, 200])
  })

  it('reports a wrong secret as invalid_client, without the secret', async () => {
    const error = await lookUpCustomer(mcp.url, 'user_id=alice', 'wrong-secret').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenRequestError)
    expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
    expect(String((error as Error).message)).not.toContain('wrong-secret')
  })
})

describe('over real loopback HTTP', () => {
  it('works the same against startMockServers', async () => {
    const servers = await startMockServers()
    try {
      const result = await lookUpCustomer(servers.mcp.url, 'user_id=bob')
      expect(result.structuredContent).toMatchObject({ seen_user: { user_id: 'bob' } })
      expect(servers.mcp.server.toolCalls).toMatchObject([{ cookies: { user_id: 'bob' } }])
    } finally {
      await servers.close()
    }
  })
})
