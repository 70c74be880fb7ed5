// Static headers from a configuration file: their values print as [redacted] (auth-core's
// parseConfig), yet McpServerManager.fromConfig still sends them on every request, through the
// SDK's real client to the testkit's loopback MCP server.
import { inspect } from 'node:util'
import { parseConfig } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { McpServerManager } from '../src/server-manager.js'

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
})
afterAll(() => servers.close())
const managers: McpServerManager[] = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()))
  servers.mcp.server.reset()
  servers.oauth.server.reset()
})

describe('McpServerManager.fromConfig with static headers', () => {
  it.each([
    ['seed headers', (url: string) => ({ url, headers: { 'X-Api-Key': 'static-value-1' } })],
    ['LiteLLM static_headers', (url: string) => ({ url, static_headers: { 'X-Api-Key': 'static-value-1' } })],
  ])('sends %s, whose values the parsed config never prints', async (_what, server) => {
    const config = parseConfig(
      `
mcp_config:
  default_oauth2:
    token_url: ${servers.oauth.tokenEndpoint}
    client_id: test-client
    client_secret: \${CLIENT_SECRET}
    scope: customer:read
mcp_servers:
  crm: ${JSON.stringify(server(servers.mcp.url))}
`,
      { env: { CLIENT_SECRET: 'test-secret' } },
    )
    expect(`${inspect(config, { depth: 10 })}${JSON.stringify(config)}`).not.toContain('static-value-1')
    const manager = McpServerManager.fromConfig(config, { retry: false })
    managers.push(manager)
    const [status] = await manager.connect()
    expect(status).toMatchObject({ state: 'connected' })
    await manager.callTool('get_customer_info', { customer_id: 'cust-001' })
    const requests = servers.mcp.server.requests
    expect(requests.length).toBeGreaterThan(0)
    for (const request of requests) expect(request.headers['x-api-key']).toBe('static-value-1')
  })
})
