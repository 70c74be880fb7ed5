import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const children: ChildProcess[] = []

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
  const child = spawn('npx', ['tsx', 'packages/testkit/src/cli.ts', 'serve', ...args], {
    cwd: root,
    detached: true, // own process group, so the whole npx → tsx → node chain can be signalled
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const newline = out.indexOf('\n')
      if (newline >= 0) resolve({ child, info: JSON.parse(out.slice(0, newline)) })
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.once('exit', (code) => reject(new Error(`cli exited with ${code}: ${err}`)))
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
    // npx itself may die by the signal; the server must be gone either way.
    expect(code === 0 || signal === 'SIGTERM').toBe(true)
    await expect(fetch(info.metadataUrl)).rejects.toThrow()
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
})
