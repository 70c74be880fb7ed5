#!/usr/bin/env node
// A real redis-server for tests and benchmarks: found on PATH, installed from Debian's package
// when missing (as root: apt-get update && apt-get install -y redis-server; CI machines start
// without it), started on a free loopback port with no persistence, and stopped again.
//   node scripts/redis-server.mjs ensure     installs if needed, prints the binary's path
//   node scripts/redis-server.mjs start      starts one, prints its URL, stops on Ctrl-C
// Tests use the exported functions (types in redis-server.d.mts).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const CANDIDATES = ['/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server']

/** The redis-server binary on this machine, or undefined. */
export function findRedisServer() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  for (const path of [...dirs.map((dir) => join(dir, 'redis-server')), ...CANDIDATES]) {
    try {
      if (statSync(path).isFile()) return path
    } catch {}
  }
  return undefined
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * The redis-server binary, installed from Debian's `redis-server` package when missing. Needs
 * root and apt-get; fails with a message saying what is missing otherwise (never skips). Several
 * processes calling this at once install once (a lock directory serialises them).
 */
export async function ensureRedisServer({ log = (line) => console.error(line) } = {}) {
  const found = findRedisServer()
  if (found) return found
  const lock = join(tmpdir(), 'mcp-oauth2-kit-redis-install.lock')
  const started = Date.now()
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch (error) {
      if (error.code !== 'EEXIST') throw error
      if (Date.now() - started > 600_000) throw new Error(`redis-server install lock ${lock} held for 10 min`)
      await sleep(500)
      const now = findRedisServer()
      if (now) return now
    }
  }
  try {
    const again = findRedisServer()
    if (again) return again
    if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) {
      throw new Error(
        'redis-server is not installed and this process is not root on Linux: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) and run again',
      )
    }
    if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('redis-server is not installed and apt-get is not available: install redis-server')
    }
    log('[redis] redis-server not found: installing the Debian package (apt-get install -y redis-server)')
    // Keep the package's maintainer scripts from starting a system-wide redis on port 6379.
    const policy = '/usr/sbin/policy-rc.d'
    const ownPolicy = !existsSync(policy)
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    try {
      for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'redis-server']]) {
        const result = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 600_000 })
        if (result.status !== 0) {
          throw new Error(
            `apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${(result.stderr || result.stdout || '').slice(-2000)}`,
          )
        }
      }
    } finally {
      if (ownPolicy) rmSync(policy, { force: true })
    }
    const installed = findRedisServer()
    if (!installed) throw new Error('apt-get installed redis-server but no redis-server binary was found')
    log(`[redis] installed ${execFileSync(installed, ['--version'], { encoding: 'utf8' }).trim()}`)
    return installed
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller retries on a clash). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolvePort(port))
    })
  })
}

const running = new Set()
process.once('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
    } catch {}
  }
})

function majorVersion(binary) {
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8' })
  return Number(/v=(\d+)/.exec(out)?.[1] ?? 0)
}

function launch(binary, port, dir, extra) {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...(majorVersion(binary) >= 7 ? ['--enable-debug-command', 'local'] : []),
    ...extra,
  ]
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.once('exit', () => running.delete(child))
  return new Promise((resolveChild, reject) => {
    let out = ''
    const timer = setTimeout(
      () => fail(new Error(`redis-server did not start in 10 s:\n${out.slice(-1000)}`)),
      10_000,
    )
    const fail = (error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    const onData = (chunk) => {
      out += chunk
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer)
        child.stdout.off('data', onData)
        child.stdout.resume()
        child.stderr.resume()
        resolveChild(child)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk) => {
      out += chunk
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const error = new Error(
        `redis-server exited (${code ?? signal}) before it was ready:\n${out.slice(-1000)}`,
      )
      error.addressInUse = /Address already in use/i.test(out)
      reject(error)
    })
  })
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((r) => child.once('exit', () => r()))
}

/**
 * Starts a redis-server on a free 127.0.0.1 port, without persistence (`--save ''`, no AOF) and
 * with DEBUG allowed from loopback (Redis 7). `password` sets `requirepass`; `args` are passed on.
 */
export async function startRedisServer({ password, args = [] } = {}) {
  const binary = await ensureRedisServer()
  const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-redis-'))
  const extra = [...(password ? ['--requirepass', password] : []), ...args]
  let port
  let child
  for (let attempt = 0; ; attempt++) {
    port = await freePort()
    try {
      child = await launch(binary, port, dir, extra)
      break
    } catch (error) {
      if (!error.addressInUse || attempt >= 4) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    }
  }
  const server = {
    host: '127.0.0.1',
    port,
    /** redis://127.0.0.1:port (no password in it). */
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid
    },
    /** Whether the process is running (a stopped one counts). */
    get running() {
      return child.exitCode === null && child.signalCode === null
    },
    /** Sends a signal: SIGKILL to crash it, SIGSTOP / SIGCONT to freeze and thaw it. */
    signal(name) {
      child.kill(name)
    },
    /** Kills it with SIGKILL and waits until it is gone. */
    async kill() {
      child.kill('SIGKILL')
      await exited(child)
    },
    /** Starts it again on the same port (after kill), with the same options; data is gone. */
    async restart() {
      if (server.running) await server.kill()
      for (let attempt = 0; ; attempt++) {
        try {
          child = await launch(binary, port, dir, extra)
          return
        } catch (error) {
          if (!error.addressInUse || attempt >= 20) throw error
          await sleep(100)
        }
      }
    },
    /** Stops it (SIGTERM, SIGKILL after 3 s) and removes its directory. */
    async stop() {
      if (server.running) {
        child.kill('SIGCONT')
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000)
        await exited(child)
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return server
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2] ?? 'ensure'
  try {
    if (command === 'ensure') {
      console.log(await ensureRedisServer())
    } else if (command === 'start') {
      const server = await startRedisServer()
      console.log(server.url)
      const stop = () => server.stop().then(() => process.exit(0))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    } else {
      console.error('usage: redis-server.mjs ensure | start')
      process.exit(2)
    }
  } catch (error) {
    console.error(`[redis] ${error.message}`)
    process.exit(1)
  }
}
