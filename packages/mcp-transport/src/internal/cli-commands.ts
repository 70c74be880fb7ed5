// The `mcp-oauth2` commands. Everything the CLI needs from this package's public modules (the
// manager, createTransport, withUserContext) comes in as a CliRuntime, so internal/ stays a leaf.
import {
  configFromEnv,
  ErrorCode,
  type FetchLike,
  type McpConfig,
  type ServerConfig,
  type TokenProvider,
  tokenProviderFromConfig,
} from '@mcp-oauth2/auth-core'
import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { McpTransportErrorCode } from '../errors.js'
import { type CliOptionSpec, type CliValues, formatOptions, parseCliArgs } from './cli-args.js'
import { type Diagnosis, diagnose } from './cli-diagnose.js'
import { CliError, CliErrorCode, CliUsageError } from './cli-errors.js'
import { CliProgress, type ProgressSink, progressFetch } from './cli-progress.js'
import { describeRateLimits, rateLimitsJson } from './cli-rate-limits.js'
import { closest } from './cli-suggest.js'

/** Where the CLI reads and writes: the process, or a test. */
export interface CliIo extends ProgressSink {
  /** Writes one line of results to stdout. */
  stdout: (line: string) => void
  /** Writes one line of diagnostics to stderr. */
  stderr: (line: string) => void
  env: Record<string, string | undefined>
}

/** One server's status, as the CLI reads it from the manager. */
export interface CliServerStatus {
  readonly name: string
  readonly url: string
  readonly state: string
  readonly error: Error | undefined
}

/** A tool, as the CLI reads it from the manager. */
export interface CliTool {
  readonly server: string
  readonly name: string
  readonly qualifiedName: string
  readonly description: string | undefined
  readonly inputSchema: unknown
  readonly requiredScopes: readonly string[] | null
}

/** What the CLI needs of `McpServerManager`. */
export interface CliManager {
  connect(): Promise<readonly CliServerStatus[]>
  listTools(): Promise<readonly CliTool[]>
  callTool(name: string, args: Record<string, unknown>): Promise<{ content: unknown; isError?: unknown }>
  close(): Promise<void>
}

/** The manager's events the progress line follows. */
export interface CliManagerEvent {
  readonly type: string
  /** Undefined on manager-wide events (a shared store's outage). */
  readonly server: string | undefined
  readonly phase?: string
}

/** The public pieces of `@mcp-oauth2/mcp-transport` the commands use (wired by cli.ts). */
export interface CliRuntime {
  /** The package's version, for `--version`. */
  version: string
  createManager(
    config: McpConfig,
    options: { retry: false; fetch: FetchLike; onEvent: (event: CliManagerEvent) => void },
  ): CliManager
  createTransport(
    server: ServerConfig,
    options: { tokenProvider?: TokenProvider | undefined; fetch?: FetchLike | undefined },
  ): Transport
  withUserContext<T>(context: { cookie?: string | undefined }, fn: () => Promise<T>): Promise<T>
}

const PROGRAM = 'mcp-oauth2'

export const CLI_OPTIONS = {
  config: {
    type: 'string',
    short: 'c',
    value: '<file>',
    description: 'YAML or JSON configuration (default: MCP_OAUTH2_* environment variables)',
  },
  server: { type: 'string', short: 's', value: '<name>', description: 'one server only' },
  args: { type: 'string', short: 'a', value: '<json>', description: "the tool's arguments (call)" },
  cookie: { type: 'string', value: '<header>', description: "the user's Cookie header (call)" },
  'show-token': { type: 'boolean', description: 'print the access token itself (token)' },
  json: { type: 'boolean', description: 'machine-readable output on stdout, errors included' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'v', description: 'show the version' },
} as const satisfies CliOptionSpec

type Values = CliValues<typeof CLI_OPTIONS>

const COMMANDS = ['token', 'tools', 'call', 'check'] as const

export const USAGE = `Usage: ${PROGRAM} <command> [options]

Commands:
  token                 get a service token and show its claims, expiry and scopes
  tools                 list the tools of every configured server
  call <tool>           call a tool (--args '{"k":"v"}', --cookie 'session_id=…')
  check                 diagnose configuration, discovery, token, connectivity and TLS

Options:
${formatOptions(CLI_OPTIONS)}

Exit codes: 0 success, 1 a check or call failed, 2 the command line is wrong.
`

async function loadConfig(values: Values, io: CliIo): Promise<McpConfig> {
  return values.config ? loadConfigFile(values.config, { env: io.env }) : configFromEnv(io.env)
}

function selectServers(config: McpConfig, name: string | undefined): ServerConfig[] {
  const servers = Object.values(config.servers)
  if (name === undefined) return servers
  const server = config.servers[name]
  if (server) return [server]
  const names = servers.map((s) => s.name)
  const suggestion = closest(name, names)
  throw new CliUsageError(
    `no server named "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    [`configured servers: ${names.join(', ') || 'none'}`],
  )
}

/** Decode a JWT's payload for display only: it is NOT verified. */
function decodeClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1]
  if (!part) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return claims && typeof claims === 'object' && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** The failure object `--json` prints on stdout. */
function failureJson(d: Diagnosis, extra: Record<string, unknown> = {}) {
  return { ok: false, code: d.code, message: d.message, hints: d.hints, ...without(d), ...extra }
}

function without({ code: _c, message: _m, hints: _h, ...rest }: Diagnosis) {
  return rest
}

function printDiagnosis(io: CliIo, d: Diagnosis, write: (line: string) => void = io.stderr): void {
  write(`✗ ${d.server ? `${d.server}: ` : ''}${d.message}`)
  for (const hint of d.hints) write(`  hint: ${hint}`)
}

/** One diagnosis for several servers that failed to connect. */
function summarize(failures: readonly Diagnosis[], total: number): Diagnosis {
  if (failures.length === 1) return failures[0] as Diagnosis
  return {
    code: McpTransportErrorCode.ServerUnavailable,
    message: `${failures.length} of ${total} server(s) failed to connect: ${failures.map((f) => f.server).join(', ')}`,
    hints: [...new Set(failures.flatMap((f) => f.hints))],
  }
}

/** The MCP traffic (not shown on the progress line): a server's origin, except its discovery. */
function mcpTraffic(servers: readonly ServerConfig[]): (url: string) => boolean {
  const origins = new Set(servers.map((s) => new URL(s.url).origin))
  return (url) => {
    const u = new URL(url)
    return origins.has(u.origin) && !u.pathname.startsWith('/.well-known/')
  }
}

async function commandToken(values: Values, io: CliIo): Promise<number> {
  const config = await loadConfig(values, io)
  const server = selectServers(config, values.server).find((s) => s.oauth2)
  if (!server) throw new CliError(ErrorCode.Config, 'no configured server has oauth2 settings')
  const progress = new CliProgress(io)
  const provider = tokenProviderFromConfig(server, { fetch: progressFetch(progress, () => false) })!
  progress.status(`requesting a token for ${server.name}`)
  const started = performance.now()
  const token = await provider.getToken().finally(() => progress.clear())
  const result = {
    ok: true,
    server: server.name,
    tokenType: token.tokenType,
    scopes: token.scopes,
    expiresAt: new Date(token.expiresAt).toISOString(),
    expiresInSeconds: Math.round((token.expiresAt - Date.now()) / 1000),
    durationMs: Math.round(performance.now() - started),
    claims: decodeClaims(token.value) ?? null,
    ...(values['show-token'] ? { accessToken: token.value } : {}),
  }
  if (values.json) {
    io.stdout(JSON.stringify(result, null, 2))
  } else {
    io.stdout(`server:     ${result.server}`)
    io.stdout(`type:       ${result.tokenType}`)
    io.stdout(`scopes:     ${result.scopes.join(' ') || '(none)'}`)
    io.stdout(`expires:    ${result.expiresAt} (in ${result.expiresInSeconds} s)`)
    io.stdout(
      `claims:     ${result.claims ? JSON.stringify(result.claims) : '(not a JWT)'} (decoded, not verified)`,
    )
    if (values['show-token']) io.stdout(`token:      ${token.value}`)
    else io.stdout('token:      [hidden: pass --show-token to print it]')
  }
  return 0
}

interface Connected {
  manager: CliManager
  /** Servers that did not connect, diagnosed. */
  failures: Diagnosis[]
  total: number
}

async function withManager<T>(
  values: Values,
  io: CliIo,
  runtime: CliRuntime,
  fn: (connected: Connected) => Promise<T>,
): Promise<T> {
  const config = await loadConfig(values, io)
  const servers = selectServers(config, values.server)
  const selected: McpConfig = { servers: Object.fromEntries(servers.map((s) => [s.name, s])) }
  // The file's rate_limits apply to tools and call too (shared with the fleet on a redis store).
  if (config.rateLimits) selected.rateLimits = config.rateLimits
  const total = servers.length
  const progress = new CliProgress(io)
  let connected = 0
  let failed = 0
  const label = () => `connecting to ${total} server(s): ${connected} connected, ${failed} failed`
  const manager = runtime.createManager(selected, {
    retry: false,
    fetch: progressFetch(progress, mcpTraffic(servers)),
    onEvent: (event) => {
      if (event.type === 'connected') connected++
      else if (event.type === 'error' && event.phase === 'connect') failed++
      else return
      progress.status(label())
    },
  })
  try {
    progress.status(label())
    const statuses = await manager.connect()
    progress.clear()
    const failures = statuses
      .filter((s) => s.state !== 'connected')
      .map((s) => diagnose(s.error, { url: s.url, server: s.name }))
    return await fn({ manager, failures, total })
  } finally {
    progress.clear()
    await manager.close()
  }
}

async function commandTools(values: Values, io: CliIo, runtime: CliRuntime): Promise<number> {
  return withManager(values, io, runtime, async ({ manager, failures, total }) => {
    const tools = await manager.listTools()
    if (values.json) {
      const listed = { tools, failed: failures }
      io.stdout(
        JSON.stringify(
          failures.length > 0 ? failureJson(summarize(failures, total), listed) : { ok: true, ...listed },
          null,
          2,
        ),
      )
    } else {
      for (const tool of tools) {
        io.stdout(`${tool.qualifiedName.padEnd(40)} ${tool.description ?? ''}`)
        if (tool.requiredScopes?.length)
          io.stdout(`${''.padEnd(40)} scopes: ${tool.requiredScopes.join(' ')}`)
      }
      for (const failure of failures) printDiagnosis(io, failure)
    }
    return failures.length > 0 ? 1 : 0
  })
}

function parseToolArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {}
  let args: unknown
  try {
    args = JSON.parse(text)
  } catch {
    args = undefined
  }
  if (!args || typeof args !== 'object' || Array.isArray(args))
    throw new CliUsageError('--args must be a JSON object', [`e.g. --args '{"customer_id":"cust-001"}'`])
  return args as Record<string, unknown>
}

async function commandCall(
  tool: string | undefined,
  values: Values,
  io: CliIo,
  runtime: CliRuntime,
): Promise<number> {
  if (!tool)
    throw new CliUsageError('call needs a tool name', [
      `${PROGRAM} call <tool> [--args JSON] [--cookie HEADER]`,
    ])
  const args = parseToolArgs(values.args)
  return withManager(values, io, runtime, async ({ manager, failures, total }) => {
    const call = () => manager.callTool(tool, args)
    let result: Awaited<ReturnType<typeof call>>
    try {
      result = values.cookie ? await runtime.withUserContext({ cookie: values.cookie }, call) : await call()
    } catch (error) {
      // A tool unknown because its server did not connect: the connection failure is the cause.
      const code = (error as { code?: unknown }).code
      if (failures.length > 0 && code === McpTransportErrorCode.UnknownTool)
        throw summarized(failures, total, `no connected server offers "${tool}"`)
      throw error
    }
    if (!values.json) for (const failure of failures) printDiagnosis(io, failure)
    if (values.json) io.stdout(JSON.stringify(result, null, 2))
    else {
      for (const item of (result.content ?? []) as { type: string; text?: string }[]) {
        io.stdout(item.type === 'text' ? (item.text ?? '') : JSON.stringify(item))
      }
    }
    return result.isError ? 1 : 0
  })
}

/** Carries an already diagnosed failure (with the per-server list) to the top level. */
class DiagnosedError extends Error {
  constructor(
    readonly diagnosis: Diagnosis,
    readonly failed: readonly Diagnosis[],
  ) {
    super(diagnosis.message)
  }
}

function summarized(failures: readonly Diagnosis[], total: number, note: string): DiagnosedError {
  const d = summarize(failures, total)
  const names = failures.map((f) => f.server).join(', ')
  const hints = [...d.hints, `${note}: ${names} did not connect, so its tools are unknown`]
  return new DiagnosedError({ ...d, hints }, failures.length > 1 ? failures : [])
}

interface CheckStep {
  server?: string | undefined
  step: string
  ok: boolean
  detail: string
  durationMs: number
  code?: string
  hints?: string[]
}

async function commandCheck(values: Values, io: CliIo, runtime: CliRuntime): Promise<number> {
  const steps: CheckStep[] = []
  const failures: Diagnosis[] = []
  const progress = new CliProgress(io)
  const fetch = progressFetch(progress, () => false)
  const report = (step: CheckStep) => {
    steps.push(step)
    if (values.json) return
    progress.clear()
    io.stdout(
      `${step.ok ? '✓' : '✗'} ${step.server ? `${step.server}: ` : ''}${step.step} — ${step.detail} (${step.durationMs} ms)`,
    )
    for (const hint of step.hints ?? []) io.stdout(`    hint: ${hint}`)
  }
  const timed = async <T>(
    server: ServerConfig | undefined,
    step: string,
    fn: () => Promise<T>,
    detail: (v: T) => string,
  ) => {
    progress.status(`${server ? `${server.name}: ` : ''}${step}`)
    const started = performance.now()
    try {
      const value = await fn()
      report({
        server: server?.name,
        step,
        ok: true,
        detail: detail(value),
        durationMs: Math.round(performance.now() - started),
      })
      return value
    } catch (error) {
      const d = diagnose(error, { url: server?.url, server: server?.name })
      failures.push(d)
      report({
        server: server?.name,
        step,
        ok: false,
        detail: d.message,
        durationMs: Math.round(performance.now() - started),
        code: d.code,
        hints: d.hints,
      })
      return undefined
    } finally {
      progress.clear()
    }
  }
  const config = await timed(
    undefined,
    'configuration',
    () => loadConfig(values, io).then((c) => ({ c, servers: selectServers(c, values.server) })),
    ({ servers }) =>
      `${servers.length} server(s): ${servers.map((s) => `${s.name} (${s.transport})`).join(', ')}`,
  )
  const rateLimits = config?.c.rateLimits
  if (rateLimits)
    await timed(
      undefined,
      'rate limits',
      async () => rateLimits,
      (limits) => describeRateLimits(limits),
    )
  for (const server of config?.servers ?? []) {
    const provider = server.oauth2
      ? await timed(
          server,
          'token provider',
          async () => tokenProviderFromConfig(server, { fetch })!,
          () => {
            const o = server.oauth2!
            return o.tokenUrl
              ? `token_url ${o.tokenUrl}`
              : o.issuer
                ? `issuer ${o.issuer} (RFC 8414 discovery)`
                : `discovery from ${o.resourceServerUrl} (RFC 9728)`
          },
        )
      : undefined
    if (server.oauth2 && !provider) continue
    if (provider) {
      const token = await timed(
        server,
        'discovery and token',
        () => provider.getToken(),
        (t) => {
          const claims = decodeClaims(t.value)
          const aud = claims?.aud === undefined ? '' : `, aud ${JSON.stringify(claims.aud)}`
          return `scopes "${t.scopes.join(' ')}", expires in ${Math.round((t.expiresAt - Date.now()) / 1000)} s${aud}`
        },
      )
      if (!token) continue
    }
    await timed(
      server,
      `connect (${server.url.startsWith('https:') ? 'TLS' : 'plain http'})`,
      async () => {
        const client = new Client({ name: 'mcp-oauth2-check', version: runtime.version })
        await client.connect(runtime.createTransport(server, { tokenProvider: provider }))
        try {
          return (await client.listTools()).tools.length
        } finally {
          await client.close()
        }
      },
      (n) => `${n} tool(s)`,
    )
  }
  const failed = steps.filter((s) => !s.ok).length
  if (values.json) {
    const first = failures[0]
    // The limits as read, without the store's URL (it may hold a password).
    const limits = rateLimits ? { rateLimits: rateLimitsJson(rateLimits) } : {}
    io.stdout(
      JSON.stringify(
        first ? failureJson(first, { steps, ...limits }) : { ok: true, steps, ...limits },
        null,
        2,
      ),
    )
  } else io.stdout(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`)
  return failed === 0 ? 0 : 1
}

/** Run the CLI on `argv` (without node and the script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, runtime: CliRuntime): Promise<number> {
  let json = argv.includes('--json')
  try {
    const { values, positionals } = parseCliArgs(argv, CLI_OPTIONS, PROGRAM, { allowPositionals: true })
    json = values.json === true
    if (values.version) {
      io.stdout(
        json ? JSON.stringify({ name: PROGRAM, version: runtime.version }) : `${PROGRAM} ${runtime.version}`,
      )
      return 0
    }
    const [command, ...rest] = positionals
    if (values.help) {
      io.stdout(USAGE)
      return 0
    }
    if (!command) {
      if (!json) {
        io.stderr(USAGE)
        return 2
      }
      throw new CliUsageError('no command given', [`run "${PROGRAM} --help" to see the commands`])
    }
    switch (command) {
      case 'token':
        return await commandToken(values, io)
      case 'tools':
        return await commandTools(values, io, runtime)
      case 'call':
        return await commandCall(rest[0], values, io, runtime)
      case 'check':
        return await commandCheck(values, io, runtime)
      default: {
        const suggestion = closest(command, COMMANDS)
        throw new CliUsageError(
          `unknown command "${command}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          [`commands: ${COMMANDS.join(', ')}`, `run "${PROGRAM} --help" for details`],
        )
      }
    }
  } catch (error) {
    const diagnosis = error instanceof DiagnosedError ? error.diagnosis : diagnose(error)
    const failed = error instanceof DiagnosedError ? error.failed : []
    if (json) io.stdout(JSON.stringify(failureJson(diagnosis, failed.length ? { failed } : {}), null, 2))
    else {
      printDiagnosis(io, diagnosis)
      for (const failure of failed) printDiagnosis(io, failure)
    }
    return diagnosis.code === CliErrorCode.Usage ? 2 : 1
  }
}
