// The README's first command must keep working: run the demo as a user would, embedded and
// against "real" servers from a config file.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createSeedTools, type MockTool, startMockServers } from '@mcp-oauth2/testkit'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const run = promisify(execFile)

async function demo(args: string[], env: Record<string, string> = {}, command = [tsx, 'scripts/demo.ts']) {
  const [file, ...first] = command as [string, ...string[]]
  try {
    const { stdout, stderr } = await run(file, [...first, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...env },
      timeout: 60_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** As the README says: `npm run demo -- <args>`. */
const npmRunDemo = (args: string[]) => demo(['--', ...args], {}, ['npm', 'run', '--silent', 'demo'])

/** Nothing a crash prints: no stack frame, no Node banner. */
function expectNoStackTrace(text: string) {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
  expect(text).not.toMatch(/Node\.js v\d+/)
}

describe('npm run demo', () => {
  it('walks the five criteria and a model turn against the embedded mock servers', async () => {
    const { code, stdout } = await demo([])
    expect(stdout).toContain('6 passed, 0 failed')
    expect(code).toBe(0)
    // The model turn: the scripted model's calls ran as the user, one refused, both answered back.
    expect(stdout).toMatch(/^ {2}pass {2}model turn$/m)
    expect(stdout).toMatch(
      /the model asked for: get_customer_info\(\{"customer_id":"cust-001"\}\), calculate_account_value/,
    )
    expect(stdout).toMatch(/call_1 get_customer_info → ok: /)
    expect(stdout).toMatch(/call_2 calculate_account_value → denied \(ERR_SCOPE_DENIED\)/)
    expect(stdout).toMatch(/the tool ran for the user: \{"user_id":"user-42","session_id":"sess-7f3a"/)
    expect(stdout).toContain('the client sent back 2 tool message(s) for call_1, call_2')
    expect(stdout).toContain(
      'the model answered: Done: get_customer_info answered, calculate_account_value failed.',
    )
    expect(stdout).toContain('cookies the server got:    session_id=sess-7f3a; user_id=user-42')
    expect(stdout).toMatch(/calculate_account_value → refused before any request: ERR_SCOPE_DENIED/)
    expect(stdout).not.toMatch(/test-secret|eyJ[\w-]+\.eyJ/)
    // The tool's JSON result is shown pretty-printed: no line ends inside a key or a value.
    expect(stdout).toMatch(/^ {6}"balance": 12500,$/m)
    const shown = stdout.slice(stdout.indexOf('→\n') + 2, stdout.indexOf('calculate_account_value →'))
    expect(JSON.parse(shown)).toMatchObject({ name: 'Ada Lovelace', balance: 12500 })
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
      expect(good.stdout).toMatch(/^ {2}skip {2}model turn$/m)
      expect(good.code).toBe(0)
      expect(servers.mcp.server.toolCalls.at(-1)!.cookies).toEqual({ session_id: 's1' })

      const bad = await demo(args, { DEMO_SECRET: 'wrong-secret' })
      expect(bad.code).toBe(1)
      expect(bad.stdout).toMatch(/FAIL/)
      expect(bad.stdout).toMatch(
        /crm: failed: token request to .* failed: invalid_client\n {4}hint: check client_id/,
      )
      expect(bad.stdout).not.toContain('wrong-secret')
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await servers.close()
    }
  }, 120_000)

  it("against real servers, uses the configured scopes only, not the seed tools' scope map", async () => {
    // A server with a tool the seed does not know, and a client allowed fewer scopes than the seed's.
    const weather: MockTool = {
      name: 'get_weather',
      description: 'Weather for a city',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      handler: ({ city }) => ({ city, forecast: 'sunny' }),
    }
    const servers = await startMockServers({
      tools: [...createSeedTools(), weather],
      clients: [
        { clientId: 'ops', clientSecret: 'ops-secret', allowedScopes: ['mcp:read', 'customer:read'] },
      ],
    })
    const dir = mkdtempSync(join(tmpdir(), 'demo-'))
    try {
      const config = join(dir, 'real.yaml')
      writeFileSync(
        config,
        `mcp_servers:
  ops:
    url: ${servers.mcp.url}
    auth:
      oauth2: { discover: true, client_id: ops, client_secret: "\${DEMO_SECRET}", scope: "mcp:read customer:read" }
rate_limits:
  user: 100/min
  servers: { ops: 50/min }
`,
      )
      const { code, stdout } = await demo(
        [
          '--config',
          config,
          '--tool',
          'get_weather',
          '--args',
          '{"city":"Oslo"}',
          '--denied-tool',
          'calculate_account_value',
        ],
        { DEMO_SECRET: 'ops-secret' },
      )
      expect(stdout).toContain('4 passed, 0 failed')
      expect(code).toBe(0)
      expect(stdout).toContain('scopes requested, from the configuration: mcp:read customer:read')
      expect(stdout).toContain(
        'rate limits from the file: user 100/min; servers ops 50/min; users by userId only; in memory, per process',
      )
      expect(stdout).toMatch(/tool get_weather\s+scopes checked by its server/)
      expect(stdout).toMatch(/^ {6}"forecast": "sunny"$/m)
      // The unknown tool reached the server; the tool lacking a scope was refused by the server.
      expect(servers.mcp.server.toolCalls.map((c) => c.tool)).toContain('get_weather')
      expect(stdout).toMatch(/calculate_account_value → refused by the server/)
      expect(stdout).not.toMatch(/ERR_SCOPE_DENIED|ops-secret/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
      await servers.close()
    }
  }, 120_000)

  it('--help and --version print and exit 0 (npm run demo -- --help)', async () => {
    const [help, version] = await Promise.all([npmRunDemo(['--help']), npmRunDemo(['--version'])])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: npm run demo \[-- options\]/)
    expect(help.stdout).toMatch(/--config <file>/)
    expect(help.stdout).not.toMatch(/passed, \d+ failed/) // it did not run the demo
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^mcp-oauth2-kit demo \d+\.\d+\.\d+/)
    for (const r of [help, version]) expectNoStackTrace(r.stderr)
  }, 90_000)

  it('a mistyped option is one line with a suggestion, exit 2', async () => {
    const [typo, far, args] = await Promise.all([
      npmRunDemo(['--confg', 'my.yaml']),
      demo(['--frobnicate']),
      demo(['--args', '{not json']),
    ])
    expect(typo.code).toBe(2)
    expect(typo.stderr.split('\n')[0]).toBe('✗ unknown option --confg (did you mean --config?)')
    expect(far.code).toBe(2)
    expect(far.stderr.split('\n')[0]).toBe('✗ unknown option --frobnicate')
    expect(args.code).toBe(2)
    expect(args.stderr.split('\n')[0]).toBe('✗ --args must be a JSON object')
    for (const r of [typo, far, args]) {
      expect(r.stdout).toBe('')
      expectNoStackTrace(r.stderr)
    }
  }, 90_000)
})
