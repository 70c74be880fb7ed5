import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ErrorCode, type McpConfig } from '@mcp-oauth2/auth-core'
import { type MockServers, startMockServers } from '@mcp-oauth2/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTransport } from '../src/create-transport.js'
import { McpTransportErrorCode } from '../src/errors.js'
import { type CliIo, type CliRuntime, runCli } from '../src/internal/cli-commands.js'
import { CliErrorCode } from '../src/internal/cli-errors.js'
import { McpServerManager } from '../src/server-manager.js'
import { withUserContext } from '../src/user-context.js'
import { createTestPki } from './fixtures/pki.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const cliPath = join(root, 'packages', 'mcp-transport', 'src', 'cli.ts')
const version = (
  JSON.parse(readFileSync(join(root, 'packages', 'mcp-transport', 'package.json'), 'utf8')) as {
    version: string
  }
).version

let servers: MockServers
let dir: string
/** A loopback port nothing listens on (bound, then released). */
let deadPort: number
beforeAll(async () => {
  servers = await startMockServers()
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-cli-'))
  deadPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
})
afterAll(async () => {
  await servers.close()
  rmSync(dir, { recursive: true, force: true })
})

interface ConfigOverrides {
  secret?: string
  tokenUrl?: string
  scope?: string
  url?: string
  /** A second server, e.g. one that is down. */
  extra?: string
}

function configFile(name: string, overrides: ConfigOverrides = {}) {
  const path = join(dir, name)
  writeFileSync(
    path,
    `mcp_servers:
  crm:
    url: ${overrides.url ?? servers.mcp.url}
    transport: http
    auth:
      oauth2:
        token_url: ${overrides.tokenUrl ?? servers.oauth.tokenEndpoint}
        client_id: test-client
        client_secret: \${CLI_SECRET}
        scope: "${overrides.scope ?? 'mcp:read customer:read'}"
      cookie_passthrough: { enabled: true, cookie_names: [session_id] }
${overrides.extra ?? ''}`,
  )
  return { path, env: { CLI_SECRET: overrides.secret ?? 'test-secret' } }
}

const runtime: CliRuntime = {
  version,
  createManager: (config, options) => McpServerManager.fromConfig(config, options),
  createTransport,
  withUserContext,
}

/** In process, for what needs an injected terminal. */
async function run(argv: string[], env: Record<string, string>, tty: Partial<CliIo> = {}) {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { stdout: (l) => out.push(l), stderr: (l) => err.push(l), env, ...tty }
  const code = await runCli(argv, io, runtime)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

/** Child processes running at once: the CI machines have 2 cores and other test files run too. */
const MAX_CHILDREN = 2
let running = 0
const waiting: (() => void)[] = []
async function slot(): Promise<() => void> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  return () => {
    running--
    waiting.shift()?.()
  }
}

/** As a user runs it: a child process, stdout and stderr piped. */
async function cli(argv: string[], env: Record<string, string> = {}) {
  const release = await slot()
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      tsx,
      [cliPath, ...argv],
      // No MCP_OAUTH2_* from the environment of the test run.
      { cwd: root, env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        release()
        resolve({ code, stdout, stderr })
      },
    )
  })
}

const ESC = String.fromCharCode(0x1b)

/** Nothing a crash prints: no stack frame, no Node banner. */
function expectNoStackTrace(text: string) {
  expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m)
  expect(text).not.toMatch(/Node\.js v\d+/)
}

describe('mcp-oauth2 CLI', () => {
  it('token shows claims, expiry and scopes but not the token itself', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(['token', '--config', path, '--json'], env)
    expect(code).toBe(0)
    const result = JSON.parse(out)
    expect(result.ok).toBe(true)
    expect(result.scopes).toEqual(['mcp:read', 'customer:read'])
    expect(result.claims.client_id).toBe('test-client')
    expect(result.expiresInSeconds).toBeGreaterThan(3000)
    expect(result.accessToken).toBeUndefined()
    expect(out).not.toMatch(/eyJ[\w-]+\.eyJ/)
    const shown = await run(['token', '--config', path, '--json', '--show-token'], env)
    expect(JSON.parse(shown.out).accessToken).toMatch(/^eyJ/)
  })

  it('tools lists every tool with its name', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(['tools', '--config', path, '--json'], env)
    expect(code).toBe(0)
    expect(JSON.parse(out).tools.map((t: { name: string }) => t.name)).toContain('get_customer_info')
  })

  it('call sends only the allowed cookies', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(
      [
        'call',
        'get_customer_info',
        '-c',
        path,
        '--args',
        '{"customer_id":"cust-001"}',
        '--cookie',
        'session_id=s-1; other=o',
      ],
      env,
    )
    expect(code).toBe(0)
    expect(out).toContain('cust-001')
    expect(servers.mcp.server.toolCalls.at(-1)!.cookies).toEqual({ session_id: 's-1' })
  })

  it('check passes every step on a good configuration', async () => {
    const { path, env } = configFile('ok.yaml')
    const { code, out } = await run(['check', '--config', path, '--json'], env)
    const report = JSON.parse(out)
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.steps.map((s: { step: string }) => s.step)).toEqual([
      'configuration',
      'token provider',
      'discovery and token',
      'connect (plain http)',
    ])
  })

  it('check shows the configured rate limits in both outputs, never the store URL', async () => {
    const password = 'cli-rl-pass-3f'
    const { path, env } = configFile('limits.yaml', {
      extra: `rate_limits:
  identify: { cookie: session_id }
  user: 2/min
  tools: { get_customer_info: { limit: 5/10s, per_user: true } }
  servers: { crm: { limit: 3, window_seconds: 7200 } }
  global: 1000/day
  store: { type: redis, url: "rediss://:$\{RL_PASSWORD}@redis.internal:6380", key_prefix: cli-rl, timeout_ms: 100 }
`,
    })
    const limitsEnv = { ...env, RL_PASSWORD: password }
    const json = await run(['check', '--config', path, '--json'], limitsEnv)
    expect(json.code).toBe(0)
    const report = JSON.parse(json.out)
    expect(report.steps.map((s: { step: string }) => s.step)).toEqual([
      'configuration',
      'rate limits',
      'token provider',
      'discovery and token',
      'connect (plain http)',
    ])
    expect(report.rateLimits).toEqual({
      identify: { cookie: 'session_id' },
      user: { limit: 2, windowSeconds: 60 },
      tools: { get_customer_info: { limit: 5, windowSeconds: 10, perUser: true } },
      servers: { crm: { limit: 3, windowSeconds: 7200 } },
      global: { limit: 1000, windowSeconds: 86_400 },
      store: { type: 'redis', keyPrefix: 'cli-rl', timeoutMs: 100 },
    })
    const human = await run(['check', '--config', path], limitsEnv)
    expect(human.code).toBe(0)
    expect(human.out).toContain(
      '✓ rate limits — user 2/min; tools get_customer_info 5/10s per user; servers crm 3/2h; global 1000/day; users by cookie session_id; shared on redis (key_prefix cli-rl, timeout 100 ms)',
    )
    for (const text of [json.out, json.err, human.out, human.err]) {
      expect(text).not.toContain(password)
      expect(text).not.toContain('redis.internal')
    }
    // Without a block: no step, no field.
    const plain = configFile('plain.yaml')
    const without = JSON.parse((await run(['check', '--config', plain.path, '--json'], plain.env)).out)
    expect(without).not.toHaveProperty('rateLimits')
  })

  it('check reports a bad rate_limits block with its path', async () => {
    const { path, env } = configFile('bad-limits.yaml', {
      extra: 'rate_limits:\n  user: 2 per minute\n  servers: { crn: 1/min }\n',
    })
    const { code, out } = await run(['check', '--config', path, '--json'], env)
    expect(code).toBe(1)
    const report = JSON.parse(out)
    expect(report.code).toBe(ErrorCode.Config)
    expect(report.steps[0]).toMatchObject({ step: 'configuration', ok: false })
    expect(report.steps[0].detail).toContain('rate_limits.user')
    expect(report.steps[0].detail).toContain('rate_limits.servers.crn')
  })

  it("tools and call hand the file's rate limits to the manager", async () => {
    const { path, env } = configFile('call-limits.yaml', { extra: 'rate_limits:\n  user: 1/min\n' })
    const seen: McpConfig[] = []
    const recording: CliRuntime = {
      ...runtime,
      createManager: (config, options) => {
        seen.push(config)
        return McpServerManager.fromConfig(config, options)
      },
    }
    const out: string[] = []
    const io: CliIo = { stdout: (l) => out.push(l), stderr: (l) => out.push(l), env }
    const args = ['-c', path, '--args', '{"customer_id":"cust-001"}']
    expect(await runCli(['call', 'get_customer_info', ...args], io, recording)).toBe(0)
    expect(await runCli(['tools', '-c', path, '--server', 'crm'], io, recording)).toBe(0)
    expect(seen.map((c) => c.rateLimits)).toEqual([
      { user: { limit: 1, windowSeconds: 60 } },
      { user: { limit: 1, windowSeconds: 60 } },
    ])
  })

  it('check reports a configuration error with its path', async () => {
    const path = join(dir, 'broken.yaml')
    writeFileSync(path, 'mcp_servers:\n  crm:\n    url: 42\n')
    const { code, out } = await run(['check', '--config', path], {})
    expect(code).toBe(1)
    expect(out).toMatch(/crm/)
  })
})

describe('mcp-oauth2 CLI, run as a user runs it (child process)', () => {
  // One server that fails in each way a newcomer meets: the cause must reach the user of every
  // command, with the same words and hints as `check`, never "no server offers the tool".
  const cases = () => [
    {
      name: 'a wrong secret',
      overrides: { secret: 'not-the-secret' },
      code: ErrorCode.OAuthErrorResponse,
      message: /invalid_client/,
      hint: /check client_id and client_secret/,
    },
    {
      name: 'a wrong URL path',
      overrides: { url: servers.mcp.url.replace(/\/mcp$/, '/nope') },
      code: McpTransportErrorCode.ServerUnavailable,
      message: new RegExp(`404.*|.*${servers.mcp.url.replace(/\/mcp$/, '/nope')}.*404`),
      hint: /path of the server URL/,
    },
    {
      name: 'a stopped server',
      overrides: { url: `http://127.0.0.1:${deadPort}/mcp` },
      code: McpTransportErrorCode.ServerUnavailable,
      message: new RegExp(`nothing listens at 127\\.0\\.0\\.1:${deadPort}`),
      hint: /start the server/,
    },
  ]

  it.each([0, 1, 2])(
    'call, tools and check report the same cause and hints (case %i)',
    async (index) => {
      const c = cases()[index]!
      const { path, env } = configFile(`case-${index}.yaml`, c.overrides)
      const args = ['get_customer_info', '--config', path, '--args', '{"customer_id":"cust-001"}']
      const [call, callJson, tools, toolsJson, check, checkJson] = await Promise.all([
        cli(['call', ...args], env),
        cli(['call', ...args, '--json'], env),
        cli(['tools', '--config', path], env),
        cli(['tools', '--config', path, '--json'], env),
        cli(['check', '--config', path], env),
        cli(['check', '--config', path, '--json'], env),
      ])
      for (const r of [call, callJson, tools, toolsJson, check, checkJson]) {
        expect(r.code, c.name).toBe(1)
        expectNoStackTrace(r.stderr)
        expect(`${r.stdout}${r.stderr}`).not.toContain('not-the-secret')
      }
      // Human: the cause and its hint, not the manager's "no connected MCP server offers a tool".
      expect(call.stderr).toMatch(c.message)
      expect(call.stderr).toMatch(c.hint)
      expect(call.stderr).not.toMatch(/^✗ no connected MCP server offers/m)
      expect(tools.stderr).toMatch(c.message)
      expect(tools.stderr).toMatch(c.hint)
      expect(check.stdout).toMatch(c.message)
      expect(check.stdout).toMatch(c.hint)
      // JSON: one error object on stdout, with the same code, message and hints as check's step.
      const step = JSON.parse(checkJson.stdout).steps.find((s: { ok: boolean }) => !s.ok)
      for (const r of [callJson, toolsJson, checkJson]) {
        const json = JSON.parse(r.stdout)
        expect(json).toMatchObject({ ok: false, code: c.code, server: 'crm' })
        expect(json.message).toBe(step.detail)
        expect(json.hints).toEqual(expect.arrayContaining(step.hints))
        expect(json.hints.length).toBeGreaterThan(0)
      }
      const human = (text: string) =>
        text
          .split('\n')
          .filter((l) => /hint: /.test(l))
          .map((l) => l.trim())
      expect(human(tools.stderr)).toEqual(step.hints.map((h: string) => `hint: ${h}`))
      expect(human(check.stdout)).toEqual(step.hints.map((h: string) => `hint: ${h}`))
    },
    90_000,
  )

  it('token gives the hint that tools gives, in both outputs', async () => {
    const { path, env } = configFile('bad-secret.yaml', { secret: 'not-the-secret' })
    const [token, tokenJson, toolsJson] = await Promise.all([
      cli(['token', '--config', path], env),
      cli(['token', '--config', path, '--json'], env),
      cli(['tools', '--config', path, '--json'], env),
    ])
    expect(token.code).toBe(1)
    expect(token.stderr).toMatch(/invalid_client\n {2}hint: check client_id and client_secret/)
    const json = JSON.parse(tokenJson.stdout)
    expect(tokenJson.code).toBe(1)
    expect(json).toMatchObject({ ok: false, code: ErrorCode.OAuthErrorResponse, error: 'invalid_client' })
    expect(json.hints).toEqual(JSON.parse(toolsJson.stdout).hints)
  }, 60_000)

  it('names the address of an unreachable token endpoint', async () => {
    const { path, env } = configFile('down.yaml', { tokenUrl: `http://127.0.0.1:${deadPort}/token` })
    const { code, stdout } = await cli(['check', '--config', path], env)
    expect(code).toBe(1)
    expect(stdout).toMatch(
      new RegExp(
        `nothing listens at 127\\.0\\.0\\.1:${deadPort} \\(the token endpoint http://127\\.0\\.0\\.1:${deadPort}/token\\)`,
      ),
    )
  }, 60_000)

  it('explains an untrusted TLS certificate, naming the server, in check and tools alike', async () => {
    const pki = await createTestPki()
    const https = createHttpsServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => res.end())
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
    const url = `https://127.0.0.1:${(https.address() as { port: number }).port}/mcp`
    const path = join(dir, 'tls.yaml')
    writeFileSync(path, `mcp_servers:\n  internal:\n    url: ${url}\n    auth: none\n`)
    try {
      const [check, tools] = await Promise.all([
        cli(['check', '--config', path]),
        cli(['tools', '--config', path, '--json']),
      ])
      expect(check.code).toBe(1)
      const message = new RegExp(`TLS: the certificate of the MCP server ${url} is not trusted`)
      expect(check.stdout).toMatch(message)
      expect(check.stdout).toMatch(/hint: add its CA with tls\.ca_file/)
      expect(JSON.parse(tools.stdout)).toMatchObject({
        ok: false,
        code: McpTransportErrorCode.ServerUnavailable,
        server: 'internal',
        message: expect.stringMatching(message),
        hints: [expect.stringMatching(/tls\.ca_file/)],
      })
    } finally {
      await new Promise((resolve) => https.close(resolve))
    }
  }, 60_000)

  it('reports a JSON-RPC error once, without the SDK prefix doubled', async () => {
    const { path, env } = configFile('ok.yaml')
    const [human, json] = await Promise.all([
      cli(['call', 'get_customer_info', '--config', path, '--args', '{}'], env),
      cli(['call', 'get_customer_info', '--config', path, '--args', '{}', '--json'], env),
    ])
    expect(human.code).toBe(1)
    expect(human.stderr).toMatch(/^✗ MCP error -32602: Missing required argument/m)
    expect(human.stderr).not.toMatch(/MCP error -32602: MCP error/)
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      code: `${CliErrorCode.McpErrorPrefix}-32602`,
      message: expect.stringMatching(/^MCP error -32602: Missing required argument/),
      hints: [expect.stringMatching(/inputSchema/)],
    })
  }, 60_000)

  it('--help, --version and -h print and exit 0', async () => {
    const [help, short, ver, verJson] = await Promise.all([
      cli(['--help']),
      cli(['call', '-h']),
      cli(['--version']),
      cli(['--version', '--json']),
    ])
    for (const r of [help, short, ver, verJson]) {
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
    }
    expect(help.stdout).toMatch(/^Usage: mcp-oauth2 <command> \[options\]/)
    expect(help.stdout).toMatch(/--json/)
    expect(short.stdout).toBe(help.stdout)
    expect(ver.stdout).toBe(`mcp-oauth2 ${version}\n`)
    expect(JSON.parse(verJson.stdout)).toEqual({ name: 'mcp-oauth2', version })
  }, 60_000)

  it('a mistyped option or command is one line with a suggestion, exit 2', async () => {
    const [jsn, jsnJson, far, command, noValue, noCommand] = await Promise.all([
      cli(['tools', '--jsn']),
      cli(['tools', '--json', '--sever', 'crm']),
      cli(['tools', '--frobnicate']),
      cli(['tols']),
      cli(['tools', '--config']),
      cli([]),
    ])
    expect(jsn).toMatchObject({ code: 2, stdout: '' })
    expect(jsn.stderr.split('\n')[0]).toBe('✗ unknown option --jsn (did you mean --json?)')
    expectNoStackTrace(jsn.stderr)
    expect(jsnJson.code).toBe(2)
    expect(JSON.parse(jsnJson.stdout)).toEqual({
      ok: false,
      code: CliErrorCode.Usage,
      message: 'unknown option --sever (did you mean --server?)',
      hints: ['run "mcp-oauth2 --help" to see the options'],
    })
    expect(far.stderr.split('\n')[0]).toBe('✗ unknown option --frobnicate')
    expect(command.code).toBe(2)
    expect(command.stderr.split('\n')[0]).toBe('✗ unknown command "tols" (did you mean "tools"?)')
    expect(noValue.code).toBe(2)
    expect(noValue.stderr.split('\n')[0]).toMatch(/^✗ option '-c, --config <value>' argument missing/)
    expect(noCommand.code).toBe(2)
    expect(noCommand.stderr).toMatch(/^Usage: mcp-oauth2/)
    for (const r of [far, command, noValue, noCommand]) expectNoStackTrace(r.stderr)
  }, 60_000)

  it('--json failures before any command runs still print one JSON object', async () => {
    const { path } = configFile('no-secret.yaml')
    const [server, args, config] = await Promise.all([
      cli(['tools', '--config', path, '--server', 'crn', '--json'], { CLI_SECRET: 'x' }),
      cli(['call', 'x', '--config', path, '--args', '[1]', '--json'], { CLI_SECRET: 'x' }),
      cli(['tools', '--config', path, '--json']), // CLI_SECRET unset
    ])
    expect(server.code).toBe(2)
    expect(JSON.parse(server.stdout)).toMatchObject({
      ok: false,
      code: CliErrorCode.Usage,
      message: 'no server named "crn" (did you mean "crm"?)',
      hints: ['configured servers: crm'],
    })
    expect(args.code).toBe(2)
    expect(JSON.parse(args.stdout)).toMatchObject({ ok: false, code: CliErrorCode.Usage })
    expect(config.code).toBe(1)
    expect(JSON.parse(config.stdout)).toMatchObject({
      ok: false,
      code: ErrorCode.Config,
      message: expect.stringMatching(/CLI_SECRET/),
    })
  }, 60_000)
})

describe('mcp-oauth2 CLI progress', () => {
  const twoServers = (name: string) =>
    configFile(name, {
      extra: `  down:
    url: http://127.0.0.1:${deadPort}/mcp
    auth: none
`,
    })

  it('shows connection progress on a terminal and erases it before the results', async () => {
    const { path, env } = twoServers('two.yaml')
    const chunks: string[] = []
    const { code, out } = await run(['tools', '--config', path], env, {
      isTTY: true,
      write: (chunk) => chunks.push(chunk),
      columns: 200,
    })
    expect(code).toBe(1)
    expect(out).toMatch(/get_customer_info/)
    const shown = chunks.join('')
    expect(shown).toContain('\r\x1b[2K… connecting to 2 server(s): 0 connected, 0 failed')
    expect(shown).toMatch(/connecting to 2 server\(s\): 1 connected, 1 failed/)
    // The authorization-server request is shown while it runs; the token never is.
    expect(shown).toContain(`POST ${servers.oauth.tokenEndpoint}`)
    expect(shown).not.toMatch(/eyJ|test-secret/)
    expect(chunks.at(-1)).toBe('\r\x1b[2K')
  })

  it('shows the attempt number when a token request is retried', async () => {
    const { path, env } = configFile('retry.yaml')
    servers.oauth.server.failNext(1, { status: 503 })
    const chunks: string[] = []
    const { code } = await run(['token', '--config', path], env, {
      isTTY: true,
      write: (c) => chunks.push(c),
    })
    expect(code).toBe(0)
    expect(chunks.join('')).toContain(`POST ${servers.oauth.tokenEndpoint} (attempt 2)`)
    expect(chunks.at(-1)).toBe('\r\x1b[2K')
  })

  it('writes no progress when stderr is not a terminal', async () => {
    const { path, env } = twoServers('two-quiet.yaml')
    const chunks: string[] = []
    servers.oauth.server.failNext(1, { status: 503 })
    const { err } = await run(['tools', '--config', path], env, {
      isTTY: false,
      write: (c) => chunks.push(c),
    })
    expect(chunks).toEqual([])
    expect(err).not.toMatch(/connecting/)
  })

  it('stays quiet when piped (child process)', async () => {
    const { path, env } = twoServers('two-piped.yaml')
    const [tools, check] = await Promise.all([
      cli(['tools', '--config', path], env),
      cli(['check', '--config', path], env),
    ])
    for (const r of [tools, check]) {
      expect(r.code).toBe(1)
      const all = `${r.stdout}${r.stderr}`
      expect(all).not.toContain(ESC)
      expect(all).not.toContain('\r')
      expect(all).not.toContain('connecting to')
    }
    expect(tools.stderr).toMatch(/^✗ down: connection refused/m)
  }, 60_000)

  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0
  it.skipIf(!hasScript)(
    'shows progress on a real pseudo-terminal (script(1))',
    async () => {
      const { path, env } = twoServers('two-pty.yaml')
      const command = [tsx, cliPath, 'tools', '--config', path].map((a) => `'${a}'`).join(' ')
      const result = await new Promise<string>((resolve) => {
        execFile(
          'script',
          ['-qec', command, '/dev/null'],
          { cwd: root, env: { PATH: process.env.PATH, TERM: 'xterm', ...env }, timeout: 60_000 },
          (_error, stdout) => resolve(stdout),
        )
      })
      expect(result).toContain(`\r${ESC}[2K… connecting to 2 server(s)`)
      expect(result).toMatch(/get_customer_info/)
    },
    60_000,
  )
})
