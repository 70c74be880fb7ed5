import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const children: ChildProcess[] = []
// The CLI runs in this Node with tsx as its loader: one process, so a signal reaches it directly
// (tsx's wrapper process relays signals with a 30 ms grace, then SIGKILLs a busy child).
const cli = ['--import', 'tsx', 'packages/testkit/src/cli.ts']

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
  }
})

interface Started {
  child: ChildProcess
  /** What the CLI wrote on stderr so far. */
  stderr: () => string
  info: {
    issuer: string
    tokenEndpoint: string
    jwksUri: string
    metadataUrl: string
    mcpUrl: string
    sseUrl: string
    clients: { clientId: string; clientSecret?: string }[]
  }
}

function serve(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [...cli, 'serve', ...args], {
    cwd: root,
    detached: true, // own process group, so the test can signal it like a terminal does
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const newline = out.indexOf('\n')
      if (newline >= 0) resolve({ child, info: JSON.parse(out.slice(0, newline)), stderr: () => err })
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.once('exit', (code) => reject(new Error(`cli exited with ${code}: ${err}`)))
  })
}

/** Runs the CLI to completion (for commands that end by themselves). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { cwd: root, timeout: 20_000 }
    execFile(process.execPath, [...cli, ...args], options, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr })
    })
  })
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

describe('mcp-oauth2-testkit serve', () => {
  it('prints the endpoints as one JSON line, serves them and stops on SIGTERM', async () => {
    const { child, info } = await serve(['--port', '0'])
    expect(info).toMatchObject({
      issuer: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      mcpUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/),
      clients: [{ clientId: 'test-client', clientSecret: 'test-secret' }],
    })
    const metadata = await (await fetch(info.metadataUrl)).json()
    expect(metadata).toMatchObject({
      issuer: info.issuer,
      token_endpoint: info.tokenEndpoint,
      jwks_uri: info.jwksUri,
    })
    const challenge = await fetch(info.mcpUrl, { method: 'POST' })
    expect(challenge.status).toBe(401)
    process.kill(-child.pid!, 'SIGTERM')
    const { code, signal } = await exited(child)
    // A clean stop, even when the signal comes right after the JSON line (handlers come first).
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    await expect(fetch(info.metadataUrl)).rejects.toThrow()
  }, 30_000)

  it('serves MCP without auth and with the conformance fixtures for --no-auth --conformance, and says so', async () => {
    const { child, info, stderr } = await serve(['--no-auth', '--conformance', '--port', '0'])
    const client = new V2Client({ name: 'c', version: '1' }, { versionNegotiation: { mode: 'auto' } })
    await client.connect(new V2Transport(new URL(info.mcpUrl)))
    const { tools } = await client.listTools()
    expect(tools[0]?.name).toBe('test_simple_text')
    expect(tools.map((t) => t.name)).toContain('get_customer_info')
    await client.close()
    if (!stderr()) await new Promise((resolve) => child.stderr!.once('data', resolve))
    expect(stderr()).toContain('warning: --no-auth')
    process.kill(-child.pid!, 'SIGTERM')
    await exited(child)
  }, 30_000)

  it('loads clients from --config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'testkit-cli-'))
    const config = join(dir, 'config.json')
    await writeFile(
      config,
      JSON.stringify({ clients: [{ clientId: 'gateway', clientSecret: 'pw', allowedScopes: ['x'] }] }),
    )
    const { child, info } = await serve(['--config', config, '--port', '0'])
    expect(info.clients).toEqual([{ clientId: 'gateway', clientSecret: 'pw' }])
    const res = await fetch(info.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'gateway',
        client_secret: 'pw',
      }),
    })
    expect(await res.json()).toMatchObject({ token_type: 'Bearer', scope: 'x' })
    process.kill(-child.pid!, 'SIGINT')
    await exited(child)
  }, 30_000)

  it('serves on a non-loopback --host with --allow-remote and warns on stderr', async () => {
    const { child, info, stderr } = await serve(['--host', '0.0.0.0', '--allow-remote', '--port', '0'])
    expect(info.mcpUrl).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/mcp$/)
    if (!stderr()) await new Promise((resolve) => child.stderr!.once('data', resolve))
    expect(stderr()).toMatch(
      /^mcp-oauth2-testkit: warning: the mock servers listen on 0\.0\.0\.0, which is not loopback/,
    )
    process.kill(-child.pid!, 'SIGTERM')
    await exited(child)
  }, 30_000)
})

describe.concurrent('mcp-oauth2-testkit command line', () => {
  it('prints the usage with --help, exit 0', async () => {
    for (const flag of ['--help']) {
      const { code, stdout } = await run([flag])
      expect(code).toBe(0)
      expect(stdout).toMatch(/^Usage: mcp-oauth2-testkit serve \[options\]/)
      expect(stdout).toContain('--allow-remote')
    }
  })

  it('prints the package version with --version, exit 0', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages/testkit/package.json'), 'utf8'))
    const { code, stdout } = await run(['--version'])
    expect(code).toBe(0)
    expect(stdout).toBe(`${pkg.version}\n`)
  })

  it.each([
    [
      ['serve', '--prot', '0'],
      'mcp-oauth2-testkit: unknown option --prot (did you mean --port?). See mcp-oauth2-testkit --help\n',
    ],
    [
      ['srve'],
      'mcp-oauth2-testkit: unknown command srve (did you mean serve?). See mcp-oauth2-testkit --help\n',
    ],
    [
      ['serve', '--protocol', '2025-11-52'],
      'mcp-oauth2-testkit: --protocol must be one of 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05, got 2025-11-52 (did you mean 2025-11-25?). See mcp-oauth2-testkit --help\n',
    ],
    [
      ['serve', '--port', 'eighty'],
      'mcp-oauth2-testkit: --port must be a port number (0-65535), got eighty. See mcp-oauth2-testkit --help\n',
    ],
  ])('answers %j with one line on stderr and exit 2, no stack trace', async (args, expected) => {
    const { code, stdout, stderr } = await run(args)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe(expected)
  })

  it('refuses a non-loopback --host without --allow-remote, with one line and exit 1', async () => {
    const { code, stderr } = await run(['serve', '--host', '0.0.0.0', '--port', '0'])
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/^mcp-oauth2-testkit: refusing to listen on 0\.0\.0\.0: .*--allow-remote/)
  })
})
