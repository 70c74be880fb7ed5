// `mcp-oauth2 tools` and `call` with the config file's mcp_config.token_store on a real
// redis-server (scripts/redis-server.mjs): the CLI's manager keeps its token in the fleet's store,
// so a later run reuses it, and closes the store's connection when the command ends.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, startRedisServer } from '../../../scripts/redis-server.mjs'
import { createTransport } from '../src/create-transport.js'
import { type CliIo, type CliRuntime, runCli } from '../src/internal/cli-commands.js'
import { McpServerManager } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'

/** Installing redis-server on a fresh CI machine (apt-get) can take a while. */
const INSTALL_TIMEOUT_MS = 600_000
let redis: RedisServer
let servers: MockServers
let dir: string
beforeAll(async () => {
  redis = await startRedisServer()
  servers = await startMockServers()
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-cli-store-'))
}, INSTALL_TIMEOUT_MS)
afterAll(async () => {
  await servers?.close()
  await redis?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const runtime: CliRuntime = {
  version: '0.0.0-test',
  createManager: (config, options) => McpServerManager.fromConfig(config, options),
  createTransport,
  withUserContext,
}

async function run(argv: string[], env: Record<string, string>) {
  const out: string[] = []
  const io: CliIo = { stdout: (l) => out.push(l), stderr: (l) => out.push(l), env }
  const code = await runCli(argv, io, runtime)
  return { code, out: out.join('\n') }
}

/** Connections to redis-server that ran a command, the admin's own excluded. */
async function clients(admin: { sendCommand(args: string[]): Promise<unknown> }): Promise<number> {
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
  return list.split('\n').filter((line) => line.includes('cmd=') && !line.includes('cmd=client')).length
}

describe('mcp-oauth2 CLI with token_store: redis', () => {
  it("tools and call keep the token in the config's token_store: a later run reuses it, and each closes the store", async () => {
    const keyPrefix = `cli-store-${process.pid}-${Date.now()}`
    const path = join(dir, 'token-store.yaml')
    // A generous store deadline: on a loaded machine a late Redis answer would (rightly) make the
    // second run fetch its own token.
    writeFileSync(
      path,
      `mcp_config:
  token_store:
    type: redis
    url: \${REDIS_URL}
    key_prefix: ${keyPrefix}
    encryption_key: \${TOKEN_KEY}
    timeout_ms: 5000
mcp_servers:
  crm:
    url: ${servers.mcp.url}
    transport: http
    auth:
      oauth2:
        token_url: ${servers.oauth.tokenEndpoint}
        client_id: test-client
        client_secret: \${CLI_SECRET}
        scope: "mcp:read customer:read"
`,
    )
    const env = {
      REDIS_URL: redis.url,
      TOKEN_KEY: randomBytes(32).toString('base64'),
      CLI_SECRET: 'test-secret',
    }
    const admin = createClient({ url: redis.url })
    admin.on('error', () => {})
    await admin.connect()
    try {
      const before = await clients(admin)
      servers.oauth.server.reset()
      const call = await run(
        ['call', 'get_customer_info', '-c', path, '--args', '{"customer_id":"cust-001"}'],
        env,
      )
      expect(call.code, call.out).toBe(0)
      expect(servers.oauth.server.tokenRequests).toHaveLength(1)
      // The token is in Redis (encrypted), under the file's key prefix.
      expect((await admin.keys(`${keyPrefix}*`)).length).toBeGreaterThan(0)
      const tools = await run(['tools', '-c', path], env)
      expect(tools.code, tools.out).toBe(0)
      expect(tools.out).toContain('get_customer_info')
      // The second run read the first one's token from Redis instead of asking for a new one.
      expect(servers.oauth.server.tokenRequests).toHaveLength(1)
      // Each run closed the store's connection when its command ended.
      const deadline = Date.now() + 10_000
      while ((await clients(admin)) !== before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20))
      expect(await clients(admin)).toBe(before)
    } finally {
      await admin.close()
    }
  }, 60_000)
})
