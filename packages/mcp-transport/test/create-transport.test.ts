import { ClientCredentialsTokenProvider, parseConfig } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTransport } from '../src/create-transport.js'
import { withUserContext } from '../src/user-context.js'

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
})
afterAll(async () => {
  await servers.close()
})

function config(transport: 'http' | 'sse', url: string) {
  return parseConfig({
    mcp_servers: {
      crm: {
        url,
        transport,
        headers: { 'x-gateway': 'mcp-oauth2-kit' },
        auth: {
          oauth2: {
            token_url: servers.oauth.tokenEndpoint,
            client_id: 'test-client',
            client_secret: 'test-secret',
            scope: 'mcp:read customer:read',
            resource: servers.mcp.url,
          },
          cookie_passthrough: { enabled: true, cookie_names: ['session_id'] },
        },
      },
    },
  }).servers.crm!
}

function providerFor(server: ReturnType<typeof config>) {
  return new ClientCredentialsTokenProvider({
    tokenUrl: server.oauth2!.tokenUrl!,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    scope: server.oauth2!.scopes,
    resource: server.oauth2!.resource,
  })
}

describe('createTransport', () => {
  it('gives a Streamable HTTP transport with bearer, cookie passthrough and static headers', async () => {
    const server = config('http', servers.mcp.url)
    const transport = createTransport(server, { tokenProvider: providerFor(server) })
    expect(transport).toBeInstanceOf(StreamableHTTPClientTransport)
    const client = new Client({ name: 't', version: '1' })
    await client.connect(transport)
    await withUserContext({ cookie: 'session_id=s1; other=o' }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } }),
    )
    const calls = servers.mcp.server.toolCalls
    expect(calls.at(-1)!.cookies).toEqual({ session_id: 's1' })
    expect(calls.at(-1)!.headers['x-gateway']).toBe('mcp-oauth2-kit')
    await client.close()
  })

  it('gives an SSE transport whose event stream and POSTs both carry the bearer', async () => {
    const sseUrl = servers.mcp.sseUrl
    expect(sseUrl).toBeTruthy()
    const server = config('sse', sseUrl!)
    const transport = createTransport(server, { tokenProvider: providerFor(server) })
    expect(transport).toBeInstanceOf(SSEClientTransport)
    const client = new Client({ name: 't', version: '1' })
    const before = servers.mcp.server.requests.length
    await client.connect(transport)
    const { tools } = await client.listTools()
    expect(tools.length).toBe(4)
    await withUserContext({ cookie: 'session_id=s2' }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c2' } }),
    )
    const sseRequests = servers.mcp.server.requests.slice(before).filter((r) => r.transport === 'sse')
    expect(sseRequests.some((r) => r.method === 'GET')).toBe(true)
    expect(sseRequests.some((r) => r.method === 'POST')).toBe(true)
    for (const r of sseRequests) expect(r.headers.authorization).toMatch(/^Bearer /)
    expect(servers.mcp.server.toolCalls.at(-1)!.cookies).toEqual({ session_id: 's2' })
    await client.close()
  })
})
