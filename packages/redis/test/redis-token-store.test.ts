import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import type { SharedTokenEntry, TokenInvalidation } from '@mcp-oauth2/auth-core'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisTokenStore, RedisTokenStoreError } from '../src/index.js'
import {
  type Admin,
  admin,
  dumpAll,
  INSTALL_TIMEOUT_MS,
  monitor,
  newKey,
  type RedisServer,
  startServer,
  subscribed,
  uniquePrefix,
  until,
} from './helpers.js'

let server: RedisServer
let db: Admin
const stores: RedisTokenStore[] = []

beforeAll(async () => {
  server = await startServer()
  db = await admin(server)
}, INSTALL_TIMEOUT_MS)

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()))
})

afterAll(async () => {
  db?.destroy()
  await server?.stop()
})

function replica(
  options: Partial<ConstructorParameters<typeof RedisTokenStore>[0]> & { encryptionKey: unknown },
) {
  const store = new RedisTokenStore({ url: server.url, ...options } as ConstructorParameters<
    typeof RedisTokenStore
  >[0])
  stores.push(store)
  return store
}

function entry(value: string, ttlMs = 60_000): SharedTokenEntry {
  const expiresAt = Date.now() + ttlMs
  return {
    token: { value, tokenType: 'Bearer', expiresAt, scopes: ['mcp:read'] },
    refreshAt: expiresAt - 10_000,
  }
}

async function keysOf(prefix: string): Promise<string[]> {
  return ((await db.sendCommand(['KEYS', `${prefix}*`])) as string[]).sort()
}

describe('RedisTokenStore', () => {
  it('hands a token written by one replica to another until it expires', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    let clock = Date.now()
    const a = replica({ encryptionKey: key, keyPrefix })
    const b = replica({ encryptionKey: key, keyPrefix, now: () => clock })
    const written = entry('token-value-1')
    await a.set('cache-key', written)
    expect(await b.get('cache-key')).toEqual(written)
    expect(await b.get('other-cache-key')).toBeUndefined()
    clock = written.token.expiresAt
    expect(await b.get('cache-key')).toBeUndefined()
  })

  it('lets Redis expire the entry with the token (PX)', async () => {
    const keyPrefix = uniquePrefix()
    const store = replica({ encryptionKey: newKey(), keyPrefix })
    await store.set('k', entry('short', 60_000))
    const [name] = await keysOf(keyPrefix)
    const pttl = Number(await db.sendCommand(['PTTL', name!]))
    expect(pttl).toBeGreaterThan(50_000)
    expect(pttl).toBeLessThanOrEqual(60_000)
  })

  it('keeps no token value, secret, cache key or encryption key readable in Redis keys, values or messages', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    const watch = await monitor(server)
    try {
      const a = replica({ encryptionKey: key, keyPrefix })
      const b = replica({ encryptionKey: key, keyPrefix })
      await subscribed(db, keyPrefix, 2)
      const cacheKey = 'cache-key-with-client-secret-s3cr3t'
      const notices: TokenInvalidation[] = []
      b.onInvalidate((n) => notices.push(n))
      expect((await a.lock(cacheKey, 'owner-1', 5_000)).acquired).toBe(true)
      const waiting = b.waitFor(cacheKey, 5_000)
      await a.set(cacheKey, entry('eyJhbGciOiJSUzI1NiJ9.the-access-token.sig'), { owner: 'owner-1' })
      expect(await waiting).toBe(true)
      expect(await b.get(cacheKey)).toBeDefined()
      const dump = await dumpAll(db)
      expect(await a.invalidate(cacheKey, 'eyJhbGciOiJSUzI1NiJ9.the-access-token.sig')).toBe(true)
      await until(() => notices.length === 1)
      await a.set(cacheKey, entry('second-token-value'))
      const text = [...dump, ...(await dumpAll(db)), ...watch.lines].join('\n')
      expect(watch.lines.some((line) => line.includes('PUBLISH'))).toBe(true)
      for (const secret of [
        'the-access-token',
        'second-token-value',
        's3cr3t',
        'cache-key-with',
        key,
        Buffer.from(key, 'base64').toString('hex'),
      ]) {
        expect(text).not.toContain(secret)
      }
      // Values are sealed records.
      const values = (await dumpAll(db)).filter((_, i) => i % 2 === 1)
      for (const value of values) expect(value).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/)
    } finally {
      await watch.stop()
    }
  })

  it('binds a record to its cache key: a record moved to another key does not decrypt', async () => {
    const keyPrefix = uniquePrefix()
    const store = replica({ encryptionKey: newKey(), keyPrefix })
    await store.set('key-one', entry('one'))
    await store.set('key-two', entry('two'))
    const [first, second] = await keysOf(keyPrefix)
    const one = String(await db.sendCommand(['GET', first!]))
    const two = String(await db.sendCommand(['GET', second!]))
    await db.sendCommand(['SET', first!, two])
    await db.sendCommand(['SET', second!, one])
    await expect(store.get('key-one')).rejects.toMatchObject({ code: 'ERR_REDIS_DECRYPT', operation: 'get' })
  })

  it('rejects a record that was altered (GCM authentication)', async () => {
    const keyPrefix = uniquePrefix()
    const store = replica({ encryptionKey: newKey(), keyPrefix })
    await store.set('k', entry('value'))
    const [name] = await keysOf(keyPrefix)
    const record = String(await db.sendCommand(['GET', name!]))
    const flipped = record.slice(0, -3) + (record.at(-3) === 'A' ? 'B' : 'A') + record.slice(-2)
    await db.sendCommand(['SET', name!, flipped])
    await expect(store.get('k')).rejects.toBeInstanceOf(RedisTokenStoreError)
    await expect(store.get('k')).rejects.toMatchObject({ code: 'ERR_REDIS_DECRYPT' })
  })

  it('rotates keys: [new, old] reads what old wrote, and writes with new', async () => {
    const oldKey = newKey()
    const newer = newKey()
    const keyPrefix = uniquePrefix()
    const before = replica({ encryptionKey: oldKey, keyPrefix })
    const after = replica({ encryptionKey: [newer, oldKey], keyPrefix })
    const stranger = replica({ encryptionKey: newKey(), keyPrefix })
    await before.set('k', entry('from-old-replica'))
    expect((await after.get('k'))?.token.value).toBe('from-old-replica')
    await after.set('k', entry('from-new-replica'))
    expect((await after.get('k'))?.token.value).toBe('from-new-replica')
    expect((await before.get('k'))?.token.value).toBe('from-old-replica')
    // A replica with other keys sees nothing (its names differ), never a wrong token.
    expect(await stranger.get('k')).toBeUndefined()
  })

  it('gives the lock to one owner and releases it only for that owner (compare-and-delete)', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    const a = replica({ encryptionKey: key, keyPrefix })
    const b = replica({ encryptionKey: key, keyPrefix })
    expect(await a.lock('k', 'owner-a', 10_000)).toEqual({ acquired: true })
    const taken = await b.lock('k', 'owner-b', 10_000)
    expect(taken.acquired).toBe(false)
    if (!taken.acquired) {
      expect(taken.expiresInMs).toBeGreaterThan(0)
      expect(taken.expiresInMs).toBeLessThanOrEqual(10_000)
    }
    expect(await b.unlock('k', 'owner-b')).toBe(false)
    expect((await b.lock('k', 'owner-b', 10_000)).acquired).toBe(false)
    expect(await a.unlock('k', 'owner-a')).toBe(true)
    expect((await b.lock('k', 'owner-b', 10_000)).acquired).toBe(true)
  })

  it('ends a crashed holder’s lock by its expiry', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    const crashed = replica({ encryptionKey: key, keyPrefix })
    const b = replica({ encryptionKey: key, keyPrefix })
    expect((await crashed.lock('k', 'gone', 30)).acquired).toBe(true)
    await crashed.close()
    await until(async () => (await b.lock('k', 'owner-b', 10_000)).acquired)
  })

  it('set with the owner writes and releases in one step', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    const a = replica({ encryptionKey: key, keyPrefix })
    const b = replica({ encryptionKey: key, keyPrefix })
    await a.lock('k', 'owner-a', 10_000)
    await a.set('k', entry('tok'), { owner: 'owner-a' })
    expect((await b.lock('k', 'owner-b', 10_000)).acquired).toBe(true)
    // A set by someone who no longer owns the lock leaves the new holder's lock alone.
    await a.set('k', entry('tok-2'), { owner: 'owner-a' })
    expect((await a.lock('k', 'owner-a', 10_000)).acquired).toBe(false)
  })

  it('wakes a waiting replica when another writes or releases', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    const a = replica({ encryptionKey: key, keyPrefix })
    const b = replica({ encryptionKey: key, keyPrefix })
    await subscribed(db, keyPrefix, 2)
    const onSet = b.waitFor('k', 10_000)
    await a.set('k', entry('tok'))
    expect(await onSet).toBe(true)
    await a.lock('k', 'owner-a', 10_000)
    const onUnlock = b.waitFor('k', 10_000)
    const otherKey = b.waitFor('other', 50)
    await a.unlock('k', 'owner-a')
    expect(await onUnlock).toBe(true)
    expect(await otherKey).toBe(false)
  })

  it('invalidates compare-and-swap: one of many concurrent 401s drops the token, every replica hears it once', async () => {
    const key = newKey()
    const keyPrefix = uniquePrefix()
    const fleet = [1, 2, 3].map(() => replica({ encryptionKey: key, keyPrefix }))
    await subscribed(db, keyPrefix, 3)
    const heard = fleet.map(() => [] as TokenInvalidation[])
    for (const [i, store] of fleet.entries()) store.onInvalidate((n) => heard[i]!.push(n))
    await fleet[0]!.set('k', entry('rejected-token'))
    expect(await fleet[1]!.invalidate('k', 'some-other-token')).toBe(false)
    expect((await fleet[2]!.get('k'))?.token.value).toBe('rejected-token')
    const results = await Promise.all(fleet.map((store) => store.invalidate('k', 'rejected-token')))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(await fleet[0]!.get('k')).toBeUndefined()
    await until(() => heard.every((list) => list.length >= 1))
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const list of heard) {
      expect(list).toHaveLength(1)
      expect(list[0]!.key).toBe('k')
      expect(list[0]!.matches('rejected-token')).toBe(true)
      expect(list[0]!.matches('a-newer-token')).toBe(false)
    }
  })

  it('works for the least-privilege ACL user of docs/scaling.md', async () => {
    const keyPrefix = uniquePrefix()
    // The ACL line as docs/scaling.md gives it, with this test's prefix.
    const line = readFileSync(new URL('../../../docs/scaling.md', import.meta.url), 'utf8').match(
      /`ACL SETUSER gateway ([^`]+)`/,
    )?.[1]
    expect(line).toBeDefined()
    const rules = line!.replaceAll('gateway-prod:', keyPrefix).replace('>password', '>acl-test-pw').split(' ')
    await db.sendCommand(['ACL', 'SETUSER', 'gateway', ...rules])
    const key = newKey()
    const url = `redis://gateway:acl-test-pw@127.0.0.1:${server.port}`
    const a = replica({ url, encryptionKey: key, keyPrefix })
    const b = replica({ url, encryptionKey: key, keyPrefix })
    await subscribed(db, keyPrefix, 2)
    const heard: TokenInvalidation[] = []
    b.onInvalidate((n) => heard.push(n))
    expect((await a.lock('k', 'owner-a', 10_000)).acquired).toBe(true)
    expect((await b.lock('k', 'owner-b', 10_000)).acquired).toBe(false)
    const woken = b.waitFor('k', 10_000)
    await a.set('k', entry('acl-token'), { owner: 'owner-a' })
    expect(await woken).toBe(true)
    expect((await b.get('k'))?.token.value).toBe('acl-token')
    expect(await b.unlock('k', 'owner-b')).toBe(false)
    expect(await b.invalidate('k', 'acl-token')).toBe(true)
    await until(() => heard.length === 1)
  })

  it('works with a node-redis client passed in, and leaves it open on close', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {})
    await client.connect()
    try {
      const store = new RedisTokenStore({ client, encryptionKey: newKey(), keyPrefix: uniquePrefix() })
      await store.set('k', entry('tok'))
      expect((await store.get('k'))?.token.value).toBe('tok')
      await store.close()
      expect(client.isReady).toBe(true)
      expect(await client.ping()).toBe('PONG')
    } finally {
      client.destroy()
    }
  })

  it('fails with ERR_REDIS_CLOSED after close, and pending waits end', async () => {
    const store = new RedisTokenStore({ url: server.url, encryptionKey: newKey() })
    const waiting = store.waitFor('k', 60_000)
    await store.close()
    expect(await waiting).toBe(false)
    await expect(store.get('k')).rejects.toMatchObject({ code: 'ERR_REDIS_CLOSED' })
  })

  it('shows no key or password through util.inspect or JSON', () => {
    const key = newKey()
    const store = new RedisTokenStore({ url: 'redis://:hunter2-password@127.0.0.1:1', encryptionKey: key })
    stores.push(store)
    const shown = `${inspect(store, { depth: 10, showHidden: true })}${JSON.stringify(store)}`
    expect(shown).not.toContain(key)
    expect(shown).not.toContain('hunter2')
  })

  it('rejects bad options with a TypeError naming the option', () => {
    const key = newKey()
    const make = (options: Record<string, unknown>) => () =>
      new RedisTokenStore({ url: server.url, encryptionKey: key, ...options } as never)
    expect(make({ encryptionKey: 'c2hvcnQ=' })).toThrow(/"encryptionKey" must decode to 32 bytes/)
    expect(make({ encryptionKey: new Uint8Array(16) })).toThrow(/"encryptionKey" must be 32 bytes/)
    expect(make({ encryptionKey: [key, 'not base64!'] })).toThrow(/"encryptionKey\[1\]"/)
    expect(make({ encryptionKey: [] })).toThrow(/"encryptionKey"/)
    expect(make({ client: {} })).toThrow(/exactly one of "url" or "client"/)
    expect(make({ url: 'http://127.0.0.1:6379' })).toThrow(/"url"/)
    expect(make({ url: 'redis://:pw@redis.example.com:6379' })).toThrow(/allowInsecureTransport/)
    expect(make({ keyPrefix: 'a{b}' })).toThrow(/"keyPrefix"/)
    expect(make({ timeoutMs: 0 })).toThrow(/"timeoutMs"/)
    expect(() => new RedisTokenStore({ client: {} as never, encryptionKey: key })).toThrow(/"client"/)
  })

  it('accepts a password over plain redis:// to another host when allowed, and over rediss://', async () => {
    const key = newKey()
    for (const url of ['rediss://:pw@redis.example.com:6380', 'redis://:pw@redis.example.com:6379']) {
      const store = new RedisTokenStore({ url, encryptionKey: key, allowInsecureTransport: true })
      await store.close()
    }
  })
})
