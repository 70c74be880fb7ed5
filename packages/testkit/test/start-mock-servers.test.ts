import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MockServers, startMockServers } from '../src/index.js'

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
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

describe('startMockServers', () => {
  it('serves the SDK client over real loopback HTTP with Streamable HTTP', async () => {
    const client = new Client({ name: 't', version: '1' })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(servers.mcp.url), { authProvider: provider() }),
    )
    const { tools } = await client.listTools()
    expect(tools).toHaveLength(4)
    const result = await client.callTool({ name: 'get_recent_customers', arguments: { limit: 2 } })
    expect(result.isError).toBeFalsy()
    await client.close()
  })

  it('serves the legacy SSE transport over real HTTP', async () => {
    const client = new Client({ name: 't', version: '1' })
    await client.connect(new SSEClientTransport(new URL(servers.mcp.sseUrl!), { authProvider: provider() }))
    const { tools } = await client.listTools()
    expect(tools).toHaveLength(4)
    const result = await client.callTool({
      name: 'get_customer_info',
      arguments: { customer_id: 'cust-002' },
    })
    expect(result.isError).toBeFalsy()
    await client.close()
  })
})
