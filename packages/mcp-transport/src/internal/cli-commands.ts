import {
  configFromEnv,
  type McpConfig,
  type ServerConfig,
  tokenProviderFromConfig,
} from '@mcp-oauth2/auth-core'
import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { createTransport } from '../create-transport.js'
import { McpServerManager } from '../server-manager.js'
import { withUserContext } from '../user-context.js'
import { diagnose } from './cli-diagnose.js'

export interface CliValues {
  config?: string | undefined
  server?: string | undefined
  args?: string | undefined
  cookie?: string | undefined
  json?: boolean | undefined
  'show-token'?: boolean | undefined
  help?: boolean | undefined
}

export interface CliIo {
  stdout: (line: string) => void
  stderr: (line: string) => void
  env: Record<string, string | undefined>
}

const defaultIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
}

export const USAGE = `Usage: mcp-oauth2 <command> [options]

Commands:
  token                 get a service token and show its claims, expiry and scopes
  tools                 list the tools of every configured server
  call <tool>           call a tool (--args '{"k":"v"}', --cookie 'session_id=…')
  check                 diagnose configuration, discovery, token, connectivity and TLS

Options:
  -c, --config <file>   YAML or JSON configuration (default: MCP_OAUTH2_* environment variables)
  -s, --server <name>   one server only
  --show-token          print the access token itself (token command)
  --json                machine-readable output
`

async function loadConfig(values: CliValues, io: CliIo): Promise<McpConfig> {
  return values.config ? loadConfigFile(values.config, { env: io.env }) : configFromEnv(io.env)
}

function selectServers(config: McpConfig, name: string | undefined): ServerConfig[] {
  const servers = Object.values(config.servers)
  if (name === undefined) return servers
  const server = config.servers[name]
  if (!server)
    throw new Error(
      `no server named "${name}" (configured: ${servers.map((s) => s.name).join(', ') || 'none'})`,
    )
  return [server]
}

/** Decode a JWT's payload for display only: it is NOT verified. */
function decodeClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1]
  if (!part) return undefined
  try {
    const json = Buffer.from(part, 'base64url').toString('utf8')
    const claims: unknown = JSON.parse(json)
    return claims && typeof claims === 'object' && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

async function commandToken(values: CliValues, io: CliIo): Promise<number> {
  const config = await loadConfig(values, io)
  const server = selectServers(config, values.server).find((s) => s.oauth2)
  if (!server) throw new Error('no configured server has oauth2 settings')
  const provider = tokenProviderFromConfig(server)!
  if (!values.json) io.stderr(`… requesting a token for ${server.name}`)
  const started = performance.now()
  const token = await provider.getToken()
  const result = {
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

async function withManager<T>(values: CliValues, io: CliIo, fn: (manager: McpServerManager) => Promise<T>) {
  const config = await loadConfig(values, io)
  const selected = values.server
    ? { servers: { [values.server]: selectServers(config, values.server)[0]! } }
    : config
  const manager = McpServerManager.fromConfig(selected, { retry: false })
  try {
    if (!values.json) io.stderr(`… connecting to ${Object.keys(selected.servers).length} server(s)`)
    await manager.connect()
    return await fn(manager)
  } finally {
    await manager.close()
  }
}

async function commandTools(values: CliValues, io: CliIo): Promise<number> {
  return withManager(values, io, async (manager) => {
    const failed = manager.status().filter((s) => s.state !== 'connected')
    const tools = await manager.listTools()
    if (values.json) {
      io.stdout(
        JSON.stringify(
          { tools, failed: failed.map((s) => ({ server: s.name, error: s.error?.message })) },
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
      for (const s of failed) io.stderr(`✗ ${s.name}: ${diagnose(s.error)}`)
    }
    return failed.length > 0 ? 1 : 0
  })
}

async function commandCall(tool: string | undefined, values: CliValues, io: CliIo): Promise<number> {
  if (!tool) throw new Error('usage: mcp-oauth2 call <tool> [--args JSON] [--cookie HEADER]')
  let args: Record<string, unknown> = {}
  if (values.args) {
    try {
      args = JSON.parse(values.args) as Record<string, unknown>
    } catch {
      throw new Error('--args must be a JSON object')
    }
    if (!args || typeof args !== 'object' || Array.isArray(args))
      throw new Error('--args must be a JSON object')
  }
  return withManager(values, io, async (manager) => {
    const call = () => manager.callTool(tool, args)
    const result = values.cookie ? await withUserContext({ cookie: values.cookie }, call) : await call()
    if (values.json) io.stdout(JSON.stringify(result, null, 2))
    else {
      for (const item of result.content as { type: string; text?: string }[]) {
        io.stdout(item.type === 'text' ? (item.text ?? '') : JSON.stringify(item))
      }
    }
    return result.isError ? 1 : 0
  })
}

interface CheckStep {
  server?: string
  step: string
  ok: boolean
  detail: string
  durationMs: number
}

async function commandCheck(values: CliValues, io: CliIo): Promise<number> {
  const steps: CheckStep[] = []
  const report = (step: CheckStep) => {
    steps.push(step)
    if (!values.json) {
      io.stdout(
        `${step.ok ? '✓' : '✗'} ${step.server ? `${step.server}: ` : ''}${step.step} — ${step.detail} (${step.durationMs} ms)`,
      )
    }
  }
  const timed = async <T>(
    server: string | undefined,
    step: string,
    fn: () => Promise<T>,
    detail: (v: T) => string,
  ) => {
    const started = performance.now()
    try {
      const value = await fn()
      report({
        server,
        step,
        ok: true,
        detail: detail(value),
        durationMs: Math.round(performance.now() - started),
      })
      return value
    } catch (error) {
      report({
        server,
        step,
        ok: false,
        detail: diagnose(error),
        durationMs: Math.round(performance.now() - started),
      })
      return undefined
    }
  }
  const config = await timed(
    undefined,
    'configuration',
    () => loadConfig(values, io).then((c) => ({ c, servers: selectServers(c, values.server) })),
    ({ servers }) =>
      `${servers.length} server(s): ${servers.map((s) => `${s.name} (${s.transport})`).join(', ')}`,
  )
  if (config) {
    for (const server of config.servers) {
      const provider = server.oauth2
        ? await timed(
            server.name,
            'token provider',
            async () => tokenProviderFromConfig(server)!,
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
          server.name,
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
        server.name,
        `connect (${server.url.startsWith('https:') ? 'TLS' : 'plain http'})`,
        async () => {
          const client = new Client({ name: 'mcp-oauth2-check', version: '0.1.0' })
          await client.connect(createTransport(server, { tokenProvider: provider }))
          try {
            return (await client.listTools()).tools.length
          } finally {
            await client.close()
          }
        },
        (n) => `${n} tool(s)`,
      )
    }
  }
  const failed = steps.filter((s) => !s.ok).length
  if (values.json) io.stdout(JSON.stringify({ ok: failed === 0, steps }, null, 2))
  else io.stdout(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`)
  return failed === 0 ? 0 : 1
}

/** Run the CLI; returns the exit code. */
export async function runCli(
  positionals: string[],
  values: CliValues,
  io: CliIo = defaultIo,
): Promise<number> {
  const [command, ...rest] = positionals
  if (values.help || !command) {
    io.stdout(USAGE)
    return command || values.help ? 0 : 2
  }
  try {
    switch (command) {
      case 'token':
        return await commandToken(values, io)
      case 'tools':
        return await commandTools(values, io)
      case 'call':
        return await commandCall(rest[0], values, io)
      case 'check':
        return await commandCheck(values, io)
      default:
        io.stderr(`unknown command "${command}"\n\n${USAGE}`)
        return 2
    }
  } catch (error) {
    io.stderr(`✗ ${diagnose(error)}`)
    return 1
  }
}
