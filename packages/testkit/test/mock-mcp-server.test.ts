import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMockMcpServer, createMockOAuthServer } from '../src/index.js'

const oauth = createMockOAuthServer()
const mcp = createMockMcpServer({ oauth })
const msw = setupServer(...oauth.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }))
afterEach(async () => {
  oauth.reset()
  mcp.reset()
})
afterAll(async () => {
  await mcp.close()
  msw.close()
})

describe('createMockMcpServer (msw)', () => {
  it('serves the SDK client with ClientCredentialsProvider through RFC 9728 discovery', async () => {
    const authProvider = new ClientCredentialsProvider({
      clientId: 'test-client',
      clientSecret: 'test-secret',
      expectedIssuer: oauth.issuer,
    })
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider })
    const client = new Client({ name: 't', version: '1' })
    await client.connect(transport)
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual([
      'calculate_account_value',
      'create_support_ticket',
      'get_customer_info',
      'get_recent_customers',
    ])
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-001' },
    })
    expect(result.isError).toBeFalsy()
    expect(mcp.toolCalls).toHaveLength(1)
    expect(oauth.tokenRequests[0]?.resource).toEqual([mcp.url])
    await client.close()
  })
})
