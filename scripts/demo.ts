// The main job: the full flow, end to end, where a person can follow it.
//
//   npm run demo                         mock authorization + MCP servers on loopback, examples/config.yaml
//   npm run demo -- --config my.yaml     the same flow against the servers in my.yaml
//        [--tool NAME --args JSON --cookie 'session_id=…' --denied-tool NAME]
//
// It walks the seed's five success criteria and exits non-zero when one fails.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { McpConfig } from '@mcp-oauth2/auth-core'
import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
import { type McpManagerEvent, McpServerManager, withUserContext } from '@mcp-oauth2/mcp-transport'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    tool: { type: 'string' },
    args: { type: 'string' },
    cookie: { type: 'string' },
    'denied-tool': { type: 'string' },
  },
})

const color = process.stdout.isTTY && !process.env.NO_COLOR
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text)
const heading = (text: string) => console.log(`\n${paint(1, text)}`)
const line = (text: string) => console.log(`  ${text}`)

interface Result {
  criterion: string
  ok: boolean | 'skipped'
  note: string
}
const results: Result[] = []
function record(criterion: string, ok: boolean | 'skipped', note: string) {
  results.push({ criterion, ok, note })
  const mark = ok === 'skipped' ? paint(33, '– skipped') : ok ? paint(32, '✓ pass') : paint(31, '✗ FAIL')
  line(`${mark}  ${note}`)
}

/** Decode a JWT payload for display only (the MCP server verified it; we never print the token). */
function claimsOf(authorization: string | undefined): Record<string, unknown> | undefined {
  const token = authorization?.replace(/^Bearer /i, '')
  const part = token?.split('.')[1]
  if (!part) return undefined
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>
  } catch {
    return undefined
  }
}

// Scopes each seed tool needs (DESIGN §1); the manager checks them before calling.
const toolScopes = {
  get_customer_info: ['customer:read'],
  create_support_ticket: ['ticket:create'],
  calculate_account_value: ['account:calculate'],
  get_recent_customers: ['customer:read'],
}

async function main(): Promise<number> {
  const embedded = values.config === undefined
  let servers: MockServers | undefined
  const events: McpManagerEvent[] = []
  let manager: McpServerManager | undefined
  try {
    // ── 1. Configuration ────────────────────────────────────────────────────────────────────
    heading('1. Configuration loads, environment variables work')
    let env: Record<string, string | undefined> = process.env
    const configPath = values.config ?? fileURLToPath(new URL('../examples/config.yaml', import.meta.url))
    if (embedded) {
      servers = await startMockServers()
      line(`mock authorization server  ${servers.oauth.issuer}`)
      line(`mock MCP server            ${servers.mcp.url}`)
      env = {
        ...process.env,
        OAUTH2_TOKEN_URL: servers.oauth.tokenEndpoint,
        MCP_SERVER_URL: servers.mcp.url,
        OAUTH2_CLIENT_SECRET: 'test-secret',
      }
    }
    const config: McpConfig = await loadConfigFile(configPath, { env })
    const names = Object.keys(config.servers)
    line(`loaded ${configPath}: ${names.length} server(s): ${names.join(', ')}`)
    const first = config.servers[names[0]!]!
    line(`client_secret from \${OAUTH2_CLIENT_SECRET}, printed as: ${String(first.oauth2?.clientSecret)}`)
    line(`JSON of the server's oauth2 settings: ${JSON.stringify(first.oauth2)}`)
    const secretHidden = !JSON.stringify(config).includes('test-secret') || !embedded
    record(
      'configuration',
      names.length > 0 && first.oauth2 !== undefined && secretHidden,
      'config parsed, secret from the environment and redacted',
    )

    // ── 2. Service token at tool discovery ──────────────────────────────────────────────────
    heading('2. A bearer token is acquired and used for MCP requests (tool discovery as the gateway)')
    manager = McpServerManager.fromConfig(config, {
      toolScopes,
      retry: false,
      onEvent: (event) => events.push(event),
    })
    const statuses = await manager.connect()
    for (const s of statuses)
      line(`${s.name}: ${s.state}${s.error ? ` (${s.error.message})` : ''}, ${s.toolCount} tool(s)`)
    const tools = await manager.listTools()
    for (const tool of tools)
      line(`tool ${tool.qualifiedName.padEnd(26)} needs ${tool.requiredScopes?.join(' ') ?? '(denied)'}`)
    const tokenEvents = events.filter((e) => e.type === 'token')
    for (const e of tokenEvents) {
      if (e.type === 'token')
        line(`token event: server ${e.server}, scopes "${e.scopes.join(' ')}", ${e.durationMs} ms`)
    }
    if (servers) {
      const listRequest = servers.mcp.server.requests.find((r) => r.jsonRpcMethod === 'tools/list')
      const claims = claimsOf(listRequest?.headers.authorization)
      line(
        `tools/list carried Authorization: ${listRequest?.headers.authorization ? 'Bearer [token hidden]' : 'none'}`,
      )
      if (claims) {
        const { iss, sub, aud, client_id, scope, exp } = claims
        line(`its claims: ${JSON.stringify({ iss, sub, aud, client_id, scope, exp })}`)
      }
      record(
        'service token',
        claims !== undefined && tools.length > 0,
        `token for ${String(claims?.client_id)} used at discovery, ${tools.length} tools listed`,
      )
    } else {
      record(
        'service token',
        statuses.every((s) => s.state === 'connected') && tools.length > 0,
        `${tools.length} tools listed with the service token`,
      )
    }

    // ── 3. User passthrough ─────────────────────────────────────────────────────────────────
    heading("3. Cookies are forwarded with filtering (a tool call on a user's behalf)")
    const userCookie =
      values.cookie ?? 'session_id=sess-7f3a; user_id=user-42; tracking_id=ad-991; theme=dark'
    const toolName = values.tool ?? (embedded ? 'get_customer_info' : undefined)
    let toolArgs: Record<string, unknown> = { customer_id: 'cust-001' }
    if (values.args) toolArgs = JSON.parse(values.args) as Record<string, unknown>
    if (!toolName) {
      record(
        'cookie passthrough',
        'skipped',
        'pass --tool (and --args, --cookie) to call a tool on real servers',
      )
    } else {
      line(`cookies the user sent:     ${userCookie}`)
      const started = performance.now()
      const result = await withUserContext({ cookie: userCookie }, () =>
        manager!.callTool(toolName, toolArgs),
      )
      const text = (result.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join(' ')
      if (servers) {
        const seen = servers.mcp.server.toolCalls.at(-1)?.cookies ?? {}
        line(
          `cookies the server got:    ${
            Object.entries(seen)
              .map(([k, v]) => `${k}=${v}`)
              .join('; ') || '(none)'
          }`,
        )
        const allowed = first.cookiePassthrough?.allow ?? []
        const onlyAllowed =
          Object.keys(seen).every((k) => allowed.includes(k)) && Object.keys(seen).length > 0
        const tokenRequests = servers.oauth.server.tokenRequests
        const asSawCookies = tokenRequests.some((r) => r.headers.cookie !== undefined)
        line(`the authorization server saw cookies: ${asSawCookies ? 'YES' : 'no'}`)
        record(
          'cookie passthrough',
          onlyAllowed && !asSawCookies && !result.isError,
          `only ${allowed.join(', ')} forwarded (${Math.round(performance.now() - started)} ms)`,
        )
      } else {
        record('cookie passthrough', !result.isError, `tool answered: ${text.slice(0, 80)}`)
      }

      // ── 4. The complete flow ──────────────────────────────────────────────────────────────
      heading('4. The complete flow works, from token to tool result')
      line(`${toolName}(${JSON.stringify(toolArgs)}) →`)
      for (const chunk of text.match(/.{1,96}/g) ?? []) line(`  ${chunk}`)
      const deniedTool = values['denied-tool'] ?? (embedded ? 'calculate_account_value' : undefined)
      if (deniedTool) {
        const before = servers?.mcp.server.requests.length ?? 0
        try {
          await manager.callTool(deniedTool, { customer_id: 'cust-001' })
          record('complete flow', false, `${deniedTool} was not refused`)
        } catch (error) {
          const e = error as { code?: string; missingScopes?: string[] }
          const nothingSent = servers ? servers.mcp.server.requests.length === before : true
          line(`${deniedTool} → refused before any request: ${e.code}, missing ${e.missingScopes?.join(' ')}`)
          record(
            'complete flow',
            !result.isError && e.code === 'ERR_SCOPE_DENIED' && nothingSent,
            'tool result received; a call lacking a scope refused locally',
          )
        }
      } else {
        record('complete flow', !result.isError, 'tool result received')
      }
    }

    // ── 5. One process ──────────────────────────────────────────────────────────────────────
    heading('5. One process, no external dependency beyond the OAuth2 endpoint')
    if (servers) {
      const urls = [servers.oauth.issuer, servers.mcp.url]
      const loopback = urls.every((u) => /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(`${u}/`))
      line(`every endpoint is loopback in this process: ${urls.join(', ')}`)
      record('one process', loopback, 'mock servers and client in one Node process')
    } else {
      record('one process', 'skipped', 'running against external servers from the config file')
    }
    const audit = events.map((e) => `${e.type}${e.tool ? `:${e.tool}` : ''}`).join(', ')
    line(`audit events (no secrets, tokens or cookies in them): ${audit}`)
    const leaked = JSON.stringify(events).match(/sess-7f3a|test-secret|eyJ/)
    if (leaked) record('one process', false, 'an audit event carried a secret value')
  } catch (error) {
    const e = error as { code?: string; message?: string }
    record('flow', false, `${e.code ?? 'error'}: ${e.message ?? String(error)}`)
  } finally {
    await manager?.close()
    await servers?.close()
  }

  heading('Summary')
  for (const r of results) {
    const mark = r.ok === 'skipped' ? paint(33, 'skip') : r.ok ? paint(32, 'pass') : paint(31, 'FAIL')
    line(`${mark}  ${r.criterion}`)
  }
  const failed = results.filter((r) => r.ok === false).length
  const passed = results.filter((r) => r.ok === true).length
  console.log(`\n${passed} passed, ${failed} failed`)
  return failed > 0 ? 1 : 0
}

process.exitCode = await main()
