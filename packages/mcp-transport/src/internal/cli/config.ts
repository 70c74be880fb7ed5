// The configuration a command runs on: `--config <file>` or the MCP_OAUTH2_* variables, and the
// servers `--server` selects from it.
import { configFromEnv, type McpConfig, type ServerConfig } from '@mcp-oauth2/auth-core'
import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
import { CliUsageError } from '../cli-errors.js'
import { closest } from '../cli-suggest.js'
import type { CliIo } from './runtime.js'
import type { Values } from './usage.js'

export async function loadConfig(values: Values, io: CliIo): Promise<McpConfig> {
  return values.config ? loadConfigFile(values.config, { env: io.env }) : configFromEnv(io.env)
}

export function selectServers(config: McpConfig, name: string | undefined): ServerConfig[] {
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
