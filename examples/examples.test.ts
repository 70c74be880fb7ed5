// Runs every example against the testkit's loopback mock servers, as a user would run it.
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { main as aiSdk } from './ai-sdk.js'
import { main as langchain } from './langchain.js'
import { main as sdkV1Client } from './sdk-v1-client.js'
import { main as sdkV2Client } from './sdk-v2-client.js'

const examples = [
  ['SDK v1 Client', sdkV1Client],
  ['SDK v2 Client', sdkV2Client],
  ['LangChain.js', langchain],
  ['Vercel AI SDK', aiSdk],
] as const

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
})
afterAll(async () => {
  await servers?.close()
})
beforeEach(() => {
  servers.oauth.server.reset()
  servers.mcp.server.reset()
})

describe('SDK v2 Client example', () => {
  it('speaks MCP 2026-07-28 with the testkit: every request and the tool call in the modern revision', async () => {
    const { protocolVersion } = await sdkV2Client({
      serverUrl: servers.mcp.url,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      cookie: 'session_id=s-1',
    })
    expect(protocolVersion).toBe('2026-07-28')
    const mcp = servers.mcp.server
    expect(mcp.toolCalls[0]?.protocolVersion).toBe('2026-07-28')
    expect(mcp.requests.filter((r) => r.status < 400).every((r) => r.protocolVersion === '2026-07-28')).toBe(
      true,
    )
    // No session and no initialize in this revision; the call named its tool in Mcp-Name.
    expect(mcp.requests.some((r) => r.jsonRpcMethod === 'initialize')).toBe(false)
    expect(mcp.requests.find((r) => r.jsonRpcMethod === 'tools/call')?.headers['mcp-name']).toBe(
      'get_customer_info',
    )
  })
})

describe.each(examples)('%s example', (_name, main) => {
  it('lists the tools and calls get_customer_info, forwarding only the allowed cookie', async () => {
    const { tools, text } = await main({
      serverUrl: servers.mcp.url,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      cookie: 'session_id=s-123; user_id=u-42; tracking=xyz',
    })

    expect(tools).toEqual(
      expect.arrayContaining([
        'get_customer_info',
        'get_recent_customers',
        'create_support_ticket',
        'calculate_account_value',
      ]),
    )
    expect(JSON.parse(text ?? 'null')).toMatchObject({
      customer_id: 'cust-001',
      name: 'Ada Lovelace',
      seen_user: { session_id: 's-123', user_id: null, client_id: 'test-client' },
    })

    const mcp = servers.mcp.server
    expect(mcp.toolCalls).toHaveLength(1)
    expect(mcp.toolCalls[0]).toMatchObject({
      tool: 'get_customer_info',
      args: { customer_id: 'cust-001' },
      cookies: { session_id: 's-123' },
      clientId: 'test-client',
    })
    expect(mcp.toolCalls[0]?.cookies).toEqual({ session_id: 's-123' })
    // Outside withUserContext (initialize, tools/list, …) no cookie is sent at all.
    const others = mcp.requests.filter((r) => r.jsonRpcMethod !== 'tools/call')
    expect(others.length).toBeGreaterThan(0)
    for (const request of others) expect(request.headers['cookie']).toBeUndefined()
    // Every request to the MCP server carried a valid bearer token.
    expect(mcp.requests.every((r) => r.status !== 401 && r.status !== 403)).toBe(true)

    // One token, discovered through RFC 9728 and bound to the server (RFC 8707), for the whole run.
    const tokenRequests = servers.oauth.server.tokenRequests
    expect(tokenRequests).toHaveLength(1)
    expect(tokenRequests[0]).toMatchObject({
      clientId: 'test-client',
      grantType: 'client_credentials',
      status: 200,
      resource: [servers.mcp.url],
    })
  })
})
