// A real redis-server per test file (scripts/redis-server.mjs installs it when missing), and an
// admin connection to look at what the store wrote and to break the server on purpose.
import { randomBytes } from 'node:crypto'
import { createClient } from '@redis/client'
import {
  type RedisServer,
  type StartRedisServerOptions,
  startRedisServer,
} from '../../../scripts/redis-server.mjs'

/** Installing redis-server on a fresh CI machine (apt-get update + install) can take a while. */
export const INSTALL_TIMEOUT_MS = 600_000

export type { RedisServer }

export function startServer(options?: StartRedisServerOptions): Promise<RedisServer> {
  return startRedisServer(options)
}

/** A fresh 32-byte encryption key, base64. */
export function newKey(): string {
  return randomBytes(32).toString('base64')
}

function adminClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: false } })
}

export type Admin = ReturnType<typeof adminClient>

/** A plain node-redis connection to `server` for the test's own commands. */
export async function admin(server: RedisServer, password?: string): Promise<Admin> {
  const client = adminClient(password ? `redis://:${password}@127.0.0.1:${server.port}` : server.url)
  client.on('error', () => {})
  await client.connect()
  return client
}

/** Every key in the server with its value(s), as text: what anyone with read access could see. */
export async function dumpAll(client: Admin): Promise<string[]> {
  const out: string[] = []
  let cursor = '0'
  do {
    const reply = (await client.sendCommand(['SCAN', cursor, 'COUNT', '1000'])) as [string, string[]]
    cursor = String(reply[0])
    for (const key of reply[1]) {
      const type = String(await client.sendCommand(['TYPE', key]))
      out.push(key)
      if (type === 'string') out.push(String(await client.sendCommand(['GET', key])))
      else out.push(`<${type}>`)
    }
  } while (cursor !== '0')
  return out
}

/** Records every command the server receives (MONITOR), pub/sub messages and script arguments included. */
export async function monitor(server: RedisServer): Promise<{ lines: string[]; stop(): Promise<void> }> {
  const client = await admin(server)
  const lines: string[] = []
  await client.monitor((line) => lines.push(String(line)))
  return {
    lines,
    async stop() {
      client.destroy()
    },
  }
}

/** Polls `check` every 10 ms until it holds, for at most `timeoutMs` (then throws). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Resolves once `count` connections listen on the store channel of `prefix`. */
export function subscribed(client: Admin, prefix: string, count: number): Promise<void> {
  return until(async () => {
    const reply = (await client.sendCommand(['PUBSUB', 'NUMSUB', `${prefix}events`])) as unknown[]
    return Number(reply[1]) >= count
  })
}

let counter = 0
/** A key prefix no other test uses, so tests on one server do not see each other's keys. */
export function uniquePrefix(): string {
  counter++
  return `t${process.pid}-${counter}:`
}
