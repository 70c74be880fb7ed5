// The main job: the full flow, end to end, where a person can follow it.
//
//   npm run demo                         mock authorization + MCP servers on loopback, examples/config.yaml
//   npm run demo -- --config my.yaml     the same flow against the servers in my.yaml
//        [--tool NAME --args JSON --cookie 'session_id=…' --denied-tool NAME]
//
// It walks the seed's five success criteria and exits non-zero when one fails.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { McpConfig } from '@mcp-oauth2/auth-core'
import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
import {
  type McpManagerEvent,
  McpServerManager,
  McpTransportErrorCode,
  withUserContext,
} from '@mcp-oauth2/mcp-transport'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { formatOptions, parseCliArgs } from '../packages/mcp-transport/src/internal/cli-args.js'
import { diagnose } from '../packages/mcp-transport/src/internal/cli-diagnose.js'
import { CliUsageError } from '../packages/mcp-transport/src/internal/cli-errors.js'
import { describeRateLimits } from '../packages/mcp-transport/src/internal/cli-rate-limits.js'
import { runScriptedModelTurn } from './demo-model-turn.js'

const OPTIONS = {
  config: {
    type: 'string',
    value: '<file>',
    description: 'run against the servers of this YAML or JSON file instead of embedded mock servers',
  },
  tool: { type: 'string', value: '<name>', description: 'the tool to call for the user (criteria 3 and 4)' },
  args: { type: 'string', value: '<json>', description: "the tool's arguments, a JSON object" },
  cookie: { type: 'string', value: '<header>', description: "the user's Cookie header" },
  'denied-tool': {
    type: 'string',
    value: '<name>',
    description: 'a tool the configured scopes do not cover: the call must be refused',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'v', description: 'show the version' },
} as const

const USAGE = `Usage: npm run demo [-- options]

Walks the five success criteria (configuration, service token, cookie passthrough, the complete
flow, one process) against mock servers it starts on loopback, or against your servers (--config),
then runs one model turn end to end with a scripted model (no API key; embedded servers only).

Options:
${formatOptions(OPTIONS)}
`

/** The command line, or the exit code when there is nothing to run (help, version, a bad option). */
function commandLine() {
  try {
    const { values } = parseCliArgs(process.argv.slice(2), OPTIONS, 'npm run demo --')
    if (values.help) {
      console.log(USAGE)
      return 0
    }
    if (values.version) {
      const pkg = new URL('../packages/mcp-transport/package.json', import.meta.url)
      console.log(
        `mcp-oauth2-kit demo ${(JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version}`,
      )
      return 0
    }
    let toolArgs: Record<string, unknown> | undefined
    if (values.args !== undefined) {
      let parsed: unknown
      try {
        parsed = JSON.parse(values.args)
      } catch {
        parsed = undefined
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new CliUsageError('--args must be a JSON object', [`e.g. --args '{"customer_id":"cust-001"}'`])
      toolArgs = parsed as Record<string, unknown>
    }
    return { ...values, toolArgs }
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    console.error(`✗ ${error.message}`)
    for (const hint of error.hints) console.error(`  hint: ${hint}`)
    return 2
  }
}

const parsed = commandLine()
if (typeof parsed === 'number') process.exit(parsed)
const values = parsed

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

// Scopes each seed tool needs (DESIGN §1). With the embedded mock servers, which serve these
// tools, the manager checks them before calling. Real servers' tools are not the seed's: against
// them the demo requests the scopes of the configuration and lets the servers decide.
const seedToolScopes = {
  get_customer_info: ['customer:read'],
  create_support_ticket: ['ticket:create'],
  calculate_account_value: ['account:calculate'],
  get_recent_customers: ['customer:read'],
}

/**
 * A tool result as lines to show: JSON pretty-printed (so no line breaks inside a key or a
 * value), other text wrapped at spaces, 96 columns.
 */
function displayLines(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed && typeof parsed === 'object') return JSON.stringify(parsed, null, 2).split('\n')
  } catch {
    // Not JSON: wrap the words.
  }
  const rows: string[] = []
  for (const paragraph of text.split('\n')) {
    let row = ''
    for (const word of paragraph.split(' ')) {
      if (row && row.length + 1 + word.length > 96) {
        rows.push(row)
        row = word
      } else row = row ? `${row} ${word}` : word
    }
    rows.push(row)
  }
  return rows
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
    // The file's rate_limits: fromConfig applies them (the store's URL is never shown).
    if (config.rateLimits) line(`rate limits from the file: ${describeRateLimits(config.rateLimits)}`)
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
      ...(embedded ? { toolScopes: seedToolScopes } : {}),
      retry: false,
      onEvent: (event) => events.push(event),
    })
    const statuses = await manager.connect()
    for (const s of statuses) {
      if (!s.error) {
        line(`${s.name}: ${s.state}, ${s.toolCount} tool(s)`)
        continue
      }
      // The same diagnosis as `mcp-oauth2 check` gives: the cause, where, and what to do.
      const d = diagnose(s.error, { url: s.url, server: s.name })
      line(`${s.name}: ${s.state}: ${d.message}`)
      for (const hint of d.hints) line(`  hint: ${hint}`)
    }
    const tools = await manager.listTools()
    for (const tool of tools) {
      const needs = !embedded
        ? 'scopes checked by its server'
        : tool.requiredScopes === null
          ? '(denied: not in the scope map)'
          : `needs ${tool.requiredScopes.join(' ') || 'no scope'}`
      line(`tool ${tool.qualifiedName.padEnd(26)} ${needs}`)
    }
    if (!embedded) {
      const scopes = [...new Set(Object.values(config.servers).flatMap((s) => s.oauth2?.scopes ?? []))]
      line(`scopes requested, from the configuration: ${scopes.join(' ') || '(none)'}`)
    }
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
    const toolArgs: Record<string, unknown> = values.toolArgs ?? { customer_id: 'cust-001' }
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
      for (const row of displayLines(text)) line(`  ${row}`)
      const deniedTool = values['denied-tool'] ?? (embedded ? 'calculate_account_value' : undefined)
      if (deniedTool && embedded) {
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
            !result.isError && e.code === McpTransportErrorCode.ScopeDenied && nothingSent,
            'tool result received; a call lacking a scope refused locally',
          )
        }
      } else if (deniedTool) {
        // Real servers: the scopes are theirs to enforce; the call must come back refused.
        let refusal: string | undefined
        try {
          const denied = await manager.callTool(deniedTool, toolArgs)
          if (denied.isError) refusal = 'an error result'
        } catch (error) {
          const e = error as { code?: unknown; message?: string }
          refusal = `${String(e.code ?? 'error')}: ${e.message ?? String(error)}`
        }
        line(`${deniedTool} → ${refusal ? `refused by the server (${refusal})` : 'answered'}`)
        record(
          'complete flow',
          !result.isError && refusal !== undefined,
          refusal
            ? 'tool result received; a call lacking a scope refused by the server'
            : `${deniedTool} was not refused`,
        )
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

    // ── 6. A model turn ─────────────────────────────────────────────────────────────────────
    heading('6. One model turn, end to end: the model asks for tools, they run as the user, it answers')
    if (servers) {
      // The openai client against a scripted Chat Completions endpoint on loopback: no API key.
      const userCookie = values.cookie ?? 'session_id=sess-7f3a; user_id=user-42; tracking_id=ad-991'
      const turn = await runScriptedModelTurn(manager, { cookie: userCookie })
      for (const row of turn.lines) line(row)
      const clean = !JSON.stringify(events).match(/sess-7f3a|test-secret|eyJ/)
      record(
        'model turn',
        turn.ok && clean,
        turn.ok
          ? 'tool calls ran through manager.runToolCalls as the user; every result went back; the model answered'
          : 'the scripted model turn did not round-trip',
      )
    } else {
      // Against real servers the scripted model would call their tools with made-up arguments.
      record('model turn', 'skipped', 'runs against the embedded mock servers only')
    }
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
