// A consumer's test, as shown in docs/testkit.md (CI runs it, and checks the page shows it verbatim).
import { readFileSync } from 'node:fs'
import { createMockMcpServer, createMockOAuthServer, startMockServers } from '@mcp-oauth2/testkit'
import { useMswServer } from '@mcp-oauth2/testkit/vitest'
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterEach, describe, expect, it } from 'vitest'

// The code under test: connects to an OAuth2-protected MCP server as a service and calls a tool
// for a user, forwarding the user's cookie.
async function lookUpCustomer(serverUrl: string, issuer: string, userCookie: string) {
  const client = new Client({ name: 'my-gateway', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    authProvider: new ClientCredentialsProvider({
      clientId: 'test-client',
      clientSecret: 'test-secret',
      expectedIssuer: issuer,
    }),
    requestInit: { headers: { cookie: userCookie } },
  })
  await client.connect(transport)
  try {
    return await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } })
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

  it('gets a token, calls the tool and forwards the cookie', async () => {
    const result = await lookUpCustomer(mcp.url, oauth.issuer, 'user_id=alice')
    expect(result.structuredContent).toMatchObject({ name: 'Ada Lovelace', seen_user: { user_id: 'alice' } })
    // What the servers received:
    expect(oauth.tokenRequests).toMatchObject([{ clientId: 'test-client', resource: [mcp.url], status: 200 }])
    expect(mcp.toolCalls).toMatchObject([{ tool: 'get_customer_info', cookies: { user_id: 'alice' } }])
  })

  it('surfaces an authorization server outage', async () => {
    oauth.failNext(1, { status: 503, headers: { 'retry-after': '1' } })
    await expect(lookUpCustomer(mcp.url, oauth.issuer, 'user_id=alice')).rejects.toThrow()
    expect(oauth.tokenRequests).toMatchObject([{ status: 503, error: 'temporarily_unavailable' }])
  })
})

describe('over real loopback HTTP', () => {
  it('works the same against startMockServers', async () => {
    const servers = await startMockServers()
    try {
      const result = await lookUpCustomer(servers.mcp.url, servers.oauth.issuer, 'user_id=bob')
      expect(result.structuredContent).toMatchObject({ seen_user: { user_id: 'bob' } })
    } finally {
      await servers.close()
    }
  })
})

it('docs/testkit.md shows this file verbatim', () => {
  const page = readFileSync(new URL('./testkit.md', import.meta.url), 'utf8')
  const self = readFileSync(new URL('./testkit.test.ts', import.meta.url), 'utf8')
  expect(page).toContain(self)
})
