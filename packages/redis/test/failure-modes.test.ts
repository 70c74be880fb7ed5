// What the store does when the real server fails: killed, frozen, paused, misconfigured, emptied.
// Every failure is a typed rejection within the store's deadline, and the shared token path falls
// back to its own token request with one warning per outage and uses the store again afterwards.
import type { SharedTokenEntry } from '@mcp-oauth2/auth-core'
import { afterEach, describe, expect, it } from 'vitest'
import { fetchShared, type SharedTokenEvent } from '../../auth-core/src/internal/shared-token.js'
import { RedisTokenStore, RedisTokenStoreError } from '../src/index.js'
import {
  admin,
  INSTALL_TIMEOUT_MS,
  newKey,
  type RedisServer,
  startServer,
  uniquePrefix,
  until,
} from './helpers.js'

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function server(options?: Parameters<typeof startServer>[0]): Promise<RedisServer> {
  const started = await startServer(options)
  cleanup.push(() => started.stop())
  return started
}

/** Deadlines for the steps a test expects to succeed, generous for a loaded machine. */
const PATIENT = { operationTimeoutMs: 20_000 }

function store(options: ConstructorParameters<typeof RedisTokenStore>[0]): RedisTokenStore {
  const created = new RedisTokenStore({ timeoutMs: 10_000, ...options })
  cleanup.push(() => created.close())
  return created
}

/** Waits until `replica` answers: the first connection may take longer than a tight deadline. */
function connected(replica: RedisTokenStore): Promise<void> {
  return until(
    () =>
      replica.get('warm-up').then(
        () => true,
        () => false,
      ),
    15_000,
  )
}

function entry(value: string): SharedTokenEntry {
  const expiresAt = Date.now() + 60_000
  return { token: { value, tokenType: 'Bearer', expiresAt, scopes: [] }, refreshAt: expiresAt - 10_000 }
}

/** A token endpoint stand-in: counts requests, hands out tok-1, tok-2, … */
function tokens() {
  const as = { requests: 0, fetch: async () => entry(`tok-${++as.requests}`) }
  return as
}

async function rejection(promise: Promise<unknown>): Promise<RedisTokenStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(RedisTokenStoreError)
  return error as RedisTokenStoreError
}

describe('a killed server (SIGKILL)', () => {
  it(
    'fails operations fast, calls go on without the store (one warning per outage), and the store is used again after a restart',
    async () => {
      const redis = await server()
      const key = newKey()
      const keyPrefix = uniquePrefix()
      const replica = store({ url: redis.url, encryptionKey: key, keyPrefix, timeoutMs: 200 })
      await connected(replica)
      await redis.kill()
      const error = await rejection(replica.get('k'))
      expect(['ERR_REDIS_UNAVAILABLE', 'ERR_REDIS_TIMEOUT']).toContain(error.code)
      expect(error.operation).toBe('get')

      let now = Date.now()
      const events: SharedTokenEvent[] = []
      const as = tokens()
      const options = {
        now: () => now,
        onEvent: (e: SharedTokenEvent) => events.push(e),
        retryStoreAfterMs: 1_000,
      }
      for (const cacheKey of ['a', 'b', 'c']) {
        const result = await fetchShared(replica, cacheKey, as.fetch, options)
        expect(result.source).toBe('local')
      }
      expect(as.requests).toBe(3)
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ type: 'token_store_unavailable', operation: 'get' })

      await redis.restart()
      await until(async () => {
        now += 1_000 // a probe is due each round
        return (await fetchShared(replica, 'd', as.fetch, options)).source !== 'local'
      }, 15_000)
      expect(events.map((e) => e.type)).toEqual(['token_store_unavailable', 'token_store_recovered'])
      // The restarted server is empty: the token fetched after recovery is shared again.
      const other = store({ url: redis.url, encryptionKey: key, keyPrefix })
      expect((await fetchShared(other, 'd', as.fetch, PATIENT)).source).toBe('store')
    },
    INSTALL_TIMEOUT_MS,
  )
})

describe('a frozen or paused server', () => {
  it(
    'SIGSTOP: an operation fails with ERR_REDIS_TIMEOUT by the deadline; the call falls back; SIGCONT recovers',
    async () => {
      const redis = await server()
      const replica = store({
        url: redis.url,
        encryptionKey: newKey(),
        keyPrefix: uniquePrefix(),
        timeoutMs: 150,
      })
      await connected(replica)
      redis.signal('SIGSTOP')
      try {
        const error = await rejection(replica.lock('k', 'owner', 1_000))
        expect(error).toMatchObject({ code: 'ERR_REDIS_TIMEOUT', operation: 'lock' })
        const events: SharedTokenEvent[] = []
        const as = tokens()
        const result = await fetchShared(replica, 'k', as.fetch, { onEvent: (e) => events.push(e) })
        expect(result.source).toBe('local')
        expect(events).toEqual([
          { type: 'token_store_unavailable', operation: 'get', code: 'ERR_REDIS_TIMEOUT' },
        ])
      } finally {
        redis.signal('SIGCONT')
      }
      await until(
        async () =>
          await replica.get('k').then(
            () => true,
            () => false,
          ),
      )
    },
    INSTALL_TIMEOUT_MS,
  )

  it(
    'CLIENT PAUSE: operations time out while the server holds every client, then work again',
    async () => {
      const redis = await server()
      const db = await admin(redis)
      cleanup.push(() => db.destroy())
      const replica = store({
        url: redis.url,
        encryptionKey: newKey(),
        keyPrefix: uniquePrefix(),
        timeoutMs: 150,
      })
      await connected(replica)
      await db.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL'])
      const error = await rejection(replica.set('k', entry('tok')))
      expect(error).toMatchObject({ code: 'ERR_REDIS_TIMEOUT', operation: 'set' })
      await db.sendCommand(['CLIENT', 'UNPAUSE'])
      await until(
        async () =>
          await replica.get('k').then(
            () => true,
            () => false,
          ),
      )
    },
    INSTALL_TIMEOUT_MS,
  )

  it(
    'DEBUG SLEEP: a server busy for longer than the deadline fails the operation, not the call',
    async () => {
      const redis = await server()
      const db = await admin(redis)
      cleanup.push(() => db.destroy())
      const replica = store({
        url: redis.url,
        encryptionKey: newKey(),
        keyPrefix: uniquePrefix(),
        timeoutMs: 150,
      })
      await connected(replica)
      const sleeping = db.sendCommand(['DEBUG', 'SLEEP', '1'])
      const as = tokens()
      const events: SharedTokenEvent[] = []
      const result = await fetchShared(replica, 'k', as.fetch, { onEvent: (e) => events.push(e) })
      expect(result.source).toBe('local')
      expect(events[0]).toMatchObject({ type: 'token_store_unavailable', code: 'ERR_REDIS_TIMEOUT' })
      await sleeping
    },
    INSTALL_TIMEOUT_MS,
  )
})

describe('a misconfigured client', () => {
  it(
    'wrong password: ERR_REDIS_AUTH (WRONGPASS) without the password in it; calls go on',
    async () => {
      const redis = await server({ password: 'right-password' })
      const replica = store({
        url: `redis://:wrong-password-value@127.0.0.1:${redis.port}`,
        encryptionKey: newKey(),
        timeoutMs: 10_000, // long on purpose: a refusal ends the wait, not the deadline
      })
      const error = await rejection(replica.get('k'))
      expect(error).toMatchObject({ code: 'ERR_REDIS_AUTH', reply: 'WRONGPASS' })
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('wrong-password-value')
      const events: SharedTokenEvent[] = []
      const as = tokens()
      const result = await fetchShared(replica, 'k', as.fetch, { onEvent: (e) => events.push(e) })
      expect(result).toMatchObject({ source: 'local', entry: { token: { value: 'tok-1' } } })
      expect(events).toEqual([{ type: 'token_store_unavailable', operation: 'get', code: 'ERR_REDIS_AUTH' }])
    },
    INSTALL_TIMEOUT_MS,
  )

  it(
    'no password for a server that requires one: ERR_REDIS_AUTH',
    async () => {
      const redis = await server({ password: 'right-password' })
      const replica = store({ url: redis.url, encryptionKey: newKey(), timeoutMs: 300 })
      const error = await rejection(replica.get('k'))
      expect(error.code).toBe('ERR_REDIS_AUTH')
    },
    INSTALL_TIMEOUT_MS,
  )

  it(
    'an ACL user without EVAL: reads work, the lock fails with ERR_REDIS_AUTH (NOPERM), the call falls back',
    async () => {
      const redis = await server()
      const db = await admin(redis)
      cleanup.push(() => db.destroy())
      await db.sendCommand([
        'ACL',
        'SETUSER',
        'reader',
        'on',
        '>reader-pw',
        '~*',
        '&*',
        '+@all',
        '-eval',
        '-evalsha',
      ])
      const replica = store({
        url: `redis://reader:reader-pw@127.0.0.1:${redis.port}`,
        encryptionKey: newKey(),
        timeoutMs: 10_000, // long on purpose: a refusal ends the wait, not the deadline
      })
      expect(await replica.get('k')).toBeUndefined()
      const error = await rejection(replica.lock('k', 'owner', 1_000))
      expect(error).toMatchObject({ code: 'ERR_REDIS_AUTH', reply: 'NOPERM', operation: 'lock' })
      const events: SharedTokenEvent[] = []
      const as = tokens()
      expect((await fetchShared(replica, 'k', as.fetch, { onEvent: (e) => events.push(e) })).source).toBe(
        'local',
      )
      expect(events).toEqual([{ type: 'token_store_unavailable', operation: 'lock', code: 'ERR_REDIS_AUTH' }])
    },
    INSTALL_TIMEOUT_MS,
  )
})

describe('evicted keys (FLUSHALL)', () => {
  it(
    'a flushed token is fetched once more and shared again',
    async () => {
      const redis = await server()
      const db = await admin(redis)
      cleanup.push(() => db.destroy())
      const key = newKey()
      const keyPrefix = uniquePrefix()
      const [a, b, c] = [1, 2, 3].map(() => store({ url: redis.url, encryptionKey: key, keyPrefix }))
      const as = tokens()
      expect((await fetchShared(a!, 'k', as.fetch, PATIENT)).source).toBe('fetched')
      expect((await fetchShared(b!, 'k', as.fetch, PATIENT)).source).toBe('store')
      await db.sendCommand(['FLUSHALL'])
      expect(await c!.get('k')).toBeUndefined()
      expect((await fetchShared(c!, 'k', as.fetch, PATIENT)).source).toBe('fetched')
      expect((await fetchShared(a!, 'k', as.fetch, PATIENT)).entry.token.value).toBe('tok-2')
      expect(as.requests).toBe(2)
    },
    INSTALL_TIMEOUT_MS,
  )

  it(
    'a flushed lock lets a waiting replica take over at once instead of waiting for the holder',
    async () => {
      const redis = await server()
      const db = await admin(redis)
      cleanup.push(() => db.destroy())
      const key = newKey()
      const keyPrefix = uniquePrefix()
      const holder = store({ url: redis.url, encryptionKey: key, keyPrefix })
      const waiter = store({ url: redis.url, encryptionKey: key, keyPrefix })
      expect((await holder.lock('k', 'slow-holder', 60_000)).acquired).toBe(true)
      const as = tokens()
      const waiting = fetchShared(waiter, 'k', as.fetch, { ...PATIENT, waitMs: 30_000, pollMs: 50 })
      await until(() => redis.running)
      await db.sendCommand(['FLUSHALL'])
      const result = await waiting
      expect(result.source).toBe('fetched')
      expect(as.requests).toBe(1)
    },
    INSTALL_TIMEOUT_MS,
  )
})
