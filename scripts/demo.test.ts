// The README's first command must keep working: run the demo as a user would, embedded and
// against "real" servers from a config file.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startMockServers } from '@mcp-oauth2/testkit'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const run = promisify(execFile)

async function demo(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout } = await run(tsx, ['scripts/demo.ts', ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...env },
      timeout: 60_000,
    })
    return { code: 0, stdout }
  } catch (error) {
    const e = error as { code?: number; stdout?: string }
    return { code: e.code ?? 1, stdout: e.stdout ?? '' }
  }
}

describe('npm run demo', () => {
  it('walks the five criteria against the embedded mock servers', async () => {
    const { code, stdout } = await demo([])
    expect(stdout).toContain('5 passed, 0 failed')
    expect(code).toBe(0)
    expect(stdout).toContain('cookies the server got:    session_id=sess-7f3a; user_id=user-42')
    expect(stdout).toMatch(/calculate_account_value → refused before any request: ERR_SCOPE_DENIED/)
    expect(stdout).not.toMatch(/test-secret|eyJ[\w-]+\.eyJ/)
  }, 90_000)

  it('runs against servers from a config file, and fails with a non-zero exit when they refuse', async () => {
    const servers = await startMockServers()
    const dir = mkdtempSync(join(tmpdir(), 'demo-'))
    try {
      const config = join(dir, 'my.yaml')
      writeFileSync(
        config,
        `mcp_servers:
  crm:
    url: ${servers.mcp.url}
    auth:
      oauth2: { discover: true, client_id: test-client, client_secret: "\${DEMO_SECRET}", scope: "mcp:read customer:read" }
      cookie_passthrough: { enabled: true, cookie_names: [session_id] }
`,
      )
      const args = ['--config', config, '--tool', 'get_customer_info', '--args', '{"customer_id":"cust-001"}']
      const good = await demo([...args, '--cookie', 'session_id=s1; other=x'], { DEMO_SECRET: 'test-secret' })
      expect(good.stdout).toContain('4 passed, 0 failed')
      expect(good.code).toBe(0)
      expect(servers.mcp.server.toolCalls.at(-1)!.cookies).toEqual({ session_id: 's1' })

      const bad = await demo(args, { DEMO_SECRET: 'wrong-secret' })
      expect(bad.code).toBe(1)
      expect(bad.stdout).toMatch(/FAIL/)
      expect(bad.stdout).not.toContain('wrong-secret')
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await servers.close()
    }
  }, 120_000)
})
