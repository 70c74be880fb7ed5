// The manager `tools` and `call` run on: the selected servers of the config (with its token_store
// and rate_limits) connected once (no retries), with the progress line following the
// connections, and closed again whatever happens (with the token store it opened).
import type { McpConfig, ServerConfig } from '@mcp-oauth2/auth-core'
import { type Diagnosis, diagnose } from '../cli-diagnose.js'
import { CliProgress, progressFetch } from '../cli-progress.js'
import { loadConfig, selectServers } from './config.js'
import type { CliIo, CliManager, CliRuntime } from './runtime.js'
import type { Values } from './usage.js'

export interface Connected {
  manager: CliManager
  /** Servers that did not connect, diagnosed. */
  failures: Diagnosis[]
  total: number
}

/** The MCP traffic (not shown on the progress line): a server's origin, except its discovery. */
function mcpTraffic(servers: readonly ServerConfig[]): (url: string) => boolean {
  const origins = new Set(servers.map((s) => new URL(s.url).origin))
  return (url) => {
    const u = new URL(url)
    return origins.has(u.origin) && !u.pathname.startsWith('/.well-known/')
  }
}

export async function withManager<T>(
  values: Values,
  io: CliIo,
  runtime: CliRuntime,
  fn: (connected: Connected) => Promise<T>,
): Promise<T> {
  const config = await loadConfig(values, io)
  const servers = selectServers(config, values.server)
  // Only the servers are narrowed: the file's token_store and rate_limits apply to tools and call
  // too (on a redis store, the fleet's cached token and its counters).
  const selected: McpConfig = { ...config, servers: Object.fromEntries(servers.map((s) => [s.name, s])) }
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
