import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../src/internal/cli-commands.js'

let servers: MockServers
let dir: string
beforeAll(async () => {
  servers = await startMockServers()
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-cli-'))
})
afterAll(async () => {
  await servers.close()
  rmSync(dir, { recursive: true, force: true })
})

function configFile(name: string, overrides: { secret?: string; tokenUrl?: string; scope?: string } = {}) {
  const path = join(dir, name)
  writeFileSync(
    path,
    `mcp_servers:
  crm:
    url: ${servers.mcp.url}
    transport: http
    auth:
      oauth2:
        token_url: ${overrides.tokenUrl ?? servers.oauth.tokenEndpoint}
        client_id: test-client
        client_secret: \${CLI_SECRET}
        scope: "${overrides.scope ?? 'mcp:read customer:read'}"
      cookie_passthrough: { enabled: true, cookie_names: [session_id] }
`,
  )
  return { path, env: { CLI_SECRET: overrides.secret ?? 'test-secret' } }
}

async function run(argv: string[], values: Record<string, unknown>, env: Record<string, string>) {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env }
  const code = await runCli(argv, values, io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('mcp-oauth2 CLI', () => {
  it('token shows claims, expiry and scopes but not the token itself', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(['token'], { config: path, json: true }, env)
    expect(code).toBe(0)
    const result = JSON.parse(out)
    expect(result.scopes).toEqual(['mcp:read', 'customer:read'])
    expect(result.claims.client_id).toBe('test-client')
    expect(result.expiresInSeconds).toBeGreaterThan(3000)
    expect(result.accessToken).toBeUndefined()
    expect(out).not.toMatch(/eyJ[\w-]+\.eyJ/)
    const shown = await run(['token'], { config: path, json: true, 'show-token': true }, env)
    expect(JSON.parse(shown.out).accessToken).toMatch(/^eyJ/)
  })

  it('tools lists every tool with its name', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(['tools'], { config: path, json: true }, env)
    expect(code).toBe(0)
    expect(JSON.parse(out).tools.map((t: { name: string }) => t.name)).toContain('get_customer_info')
  })

  it('call sends only the allowed cookies', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(
      ['call', 'get_customer_info'],
      { config: path, args: '{"customer_id":"cust-001"}', cookie: 'session_id=s-1; other=o' },
      env,
    )
    expect(code).toBe(0)
    expect(out).toContain('cust-001')
    expect(servers.mcp.server.toolCalls.at(-1)!.cookies).toEqual({ session_id: 's-1' })
  })

  it('check passes every step on a good configuration', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(['check'], { config: path, json: true }, env)
    const report = JSON.parse(out)
    expect(code).toBe(0)
    expect(report.steps.map((s: { step: string }) => s.step)).toEqual([
      'configuration',
      'token provider',
      'discovery and token',
      'connect (plain http)',
    ])
  })

  it('check explains a wrong secret without printing it', async () => {
    const { path, env } = configFile('bad-secret.yaml', { secret: 'not-the-secret' })
    const { code, out } = await run(['check'], { config: path }, env)
    expect(code).toBe(1)
    expect(out).toMatch(/invalid_client\. Check client_id and client_secret/)
    expect(out).not.toContain('not-the-secret')
  })

  it('check explains an unreachable token endpoint', async () => {
    const { path, env } = configFile('down.yaml', { tokenUrl: 'http://127.0.0.1:9/token' })
    const { code, out } = await run(['check'], { config: path }, env)
    expect(code).toBe(1)
    expect(out).toMatch(/network error|connection refused/)
  })

  it('check reports a configuration error with its path', async () => {
    const path = join(dir, 'broken.yaml')
    writeFileSync(path, 'mcp_servers:\n  crm:\n    url: 42\n')
    const { code, out } = await run(['check'], { config: path }, {})
    expect(code).toBe(1)
    expect(out).toMatch(/crm/)
  })

  it('prints usage for an unknown command', async () => {
    const { code, err } = await run(['frobnicate'], {}, {})
    expect(code).toBe(2)
    expect(err).toMatch(/Usage: mcp-oauth2/)
  })
})
