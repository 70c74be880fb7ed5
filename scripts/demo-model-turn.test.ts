// The demo's model turn: the openai client against the scripted loopback model, the testkit's
// loopback servers as the MCP side, a real manager in between.
import { parseConfig } from '@mcp-oauth2/auth-core'
import { McpServerManager } from '@mcp-oauth2/mcp-transport'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runScriptedModelTurn } from './demo-model-turn.js'

let servers: MockServers
beforeAll(async () => {
  servers = await startMockServers()
})
afterAll(() => servers.close())

function manager(scope: string): McpServerManager {
  const config = parseConfig(
    {
      mcp_servers: {
        crm: {
          url: servers.mcp.url,
          auth: {
            oauth2: {
              token_url: servers.oauth.tokenEndpoint,
              client_id: 'test-client',
              client_secret: 'test-secret',
              scope,
            },
            cookie_passthrough: { enabled: true, cookie_names: ['session_id', 'user_id'] },
          },
        },
      },
    },
    { env: {} },
  )
  return McpServerManager.fromConfig(config, {
    retry: false,
    toolScopes: {
      get_customer_info: ['customer:read'],
      calculate_account_value: ['account:calculate'],
      create_support_ticket: ['ticket:create'],
      get_recent_customers: ['customer:read'],
    },
  })
}

describe('runScriptedModelTurn', () => {
  it('runs one model turn: tool calls as the user, a refused one as an error, tool messages back, an answer', async () => {
    const m = manager('customer:read')
    try {
      await m.connect()
      const turn = await runScriptedModelTurn(m, {
        cookie: 'session_id=sess-7f3a; user_id=user-42; theme=dark',
      })
      expect(turn.ok).toBe(true)
      const text = turn.lines.join('\n')
      expect(text).toMatch(
        /the model asked for: get_customer_info\(\{"customer_id":"cust-001"\}\), calculate_account_value/,
      )
      expect(text).toMatch(/call_1 get_customer_info → ok: \{"customer_id":"cust-001","name":"Ada Lovelace"/)
      expect(text).toMatch(
        /call_2 calculate_account_value → denied \(ERR_SCOPE_DENIED\): Error: call to tool/,
      )
      expect(text).toContain('the client sent back 2 tool message(s) for call_1, call_2')
      expect(text).toContain(
        'the model answered: Done: get_customer_info answered, calculate_account_value failed.',
      )
      expect(servers.mcp.server.toolCalls.at(-1)).toMatchObject({
        tool: 'get_customer_info',
        cookies: { session_id: 'sess-7f3a', user_id: 'user-42' },
      })
      expect(text).not.toMatch(/test-secret|eyJ[\w-]+\.eyJ/)
    } finally {
      await m.close()
    }
  })

  it('is not ok when no tool answers', async () => {
    const m = manager('customer:read')
    await m.connect()
    await m.close()
    const turn = await runScriptedModelTurn(m, { cookie: 'session_id=s' })
    expect(turn.ok).toBe(false)
    expect(turn.lines.join('\n')).toMatch(/failed: ERR_CLOSED/)
  })
})
