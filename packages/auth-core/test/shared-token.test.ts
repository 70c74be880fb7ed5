import { describe, expect, it } from 'vitest'
import { InMemoryTokenStore, type SharedTokenEntry } from '../src/index.js'
import { fetchShared, invalidateShared, type SharedTokenEvent } from '../src/internal/shared-token.js'
import { SwitchableStore } from './support/switchable-store.js'

function entry(value: string, expiresAt: number, refreshAt = expiresAt - 1_000): SharedTokenEntry {
  return { token: { value, tokenType: 'Bearer', expiresAt, scopes: [] }, refreshAt }
}

/** Counts token requests and hands out tok-1, tok-2, … valid for a minute. */
function authorizationServer(now: () => number = Date.now) {
  const server = {
    requests: 0,
    fail: 0,
    async fetch(): Promise<SharedTokenEntry> {
      server.requests++
      await new Promise((resolve) => setTimeout(resolve, 5))
      if (server.fail > 0) {
        server.fail--
        throw new Error('token endpoint down')
      }
      return entry(`tok-${server.requests}`, now() + 60_000)
    },
  }
  return server
}

describe('fetchShared', () => {
  it('makes one token request for many replicas at once; every replica gets that token', async () => {
    const store = new InMemoryTokenStore()
    const as = authorizationServer()
    const results = await Promise.all(
      Array.from({ length: 8 }, () => fetchShared(store, 'k', () => as.fetch())),
    )
    expect(as.requests).toBe(1)
    expect(new Set(results.map((r) => r.entry.token.value))).toEqual(new Set(['tok-1']))
    expect(results.filter((r) => r.source === 'fetched')).toHaveLength(1)
    expect(results.filter((r) => r.source === 'store')).toHaveLength(7)
  })

  it('serves a fresh stored token without a request', async () => {
    const store = new InMemoryTokenStore()
    await store.set('k', entry('stored', Date.now() + 60_000))
    const as = authorizationServer()
    const result = await fetchShared(store, 'k', () => as.fetch())
    expect(result).toMatchObject({ source: 'store', entry: { token: { value: 'stored' } } })
    expect(as.requests).toBe(0)
  })

  it('refreshes a token in its refresh window, and the other replicas keep the valid one meanwhile', async () => {
    const now = 10_000
    const store = new InMemoryTokenStore({ now: () => now })
    await store.set('k', entry('old', now + 30_000, now - 1))
    await store.lock('k', 'someone-else', 5_000)
    const as = authorizationServer(() => now)
    const waiting = await fetchShared(store, 'k', () => as.fetch(), { now: () => now })
    expect(waiting).toMatchObject({ source: 'store', entry: { token: { value: 'old' } } })
    expect(waiting.recheckAt).toBe(now + 1_000)
    expect(as.requests).toBe(0)
    await store.unlock('k', 'someone-else')
    const holder = await fetchShared(store, 'k', () => as.fetch(), { now: () => now })
    expect(holder).toMatchObject({ source: 'fetched', entry: { token: { value: 'tok-1' } } })
  })

  it('takes over when the lock holder crashed: its lock expires by itself', async () => {
    const store = new InMemoryTokenStore()
    await store.lock('k', 'crashed-replica', 80)
    const as = authorizationServer()
    const result = await fetchShared(store, 'k', () => as.fetch(), { pollMs: 20 })
    expect(result.source).toBe('fetched')
    expect(as.requests).toBe(1)
  })

  it('passes the holder’s token-request error on, and a waiter tries next', async () => {
    const store = new InMemoryTokenStore()
    const as = authorizationServer()
    as.fail = 1
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => fetchShared(store, 'k', () => as.fetch())),
    )
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1)
    expect(as.requests).toBe(2)
    const values = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.entry.token.value] : []))
    expect(new Set(values)).toEqual(new Set(['tok-2']))
  })

  it('treats a stored token equal to `rejected` as absent', async () => {
    const store = new InMemoryTokenStore()
    await store.set('k', entry('bad', Date.now() + 60_000))
    const as = authorizationServer()
    const result = await fetchShared(store, 'k', () => as.fetch(), { rejected: 'bad' })
    expect(result).toMatchObject({ source: 'fetched', entry: { token: { value: 'tok-1' } } })
  })

  it('fetches on its own after waitMs when the holder takes too long', async () => {
    const store = new InMemoryTokenStore()
    await store.lock('k', 'slow-replica', 60_000)
    const as = authorizationServer()
    const result = await fetchShared(store, 'k', () => as.fetch(), { waitMs: 50, pollMs: 10 })
    expect(result.source).toBe('local')
    expect(as.requests).toBe(1)
  })

  it('returns the fetched token when writing it to the store fails', async () => {
    const store = new SwitchableStore()
    const as = authorizationServer()
    const events: SharedTokenEvent[] = []
    const result = await fetchShared(
      store,
      'k',
      async () => {
        const fetched = await as.fetch()
        store.mode = 'down'
        return fetched
      },
      { onEvent: (e) => events.push(e) },
    )
    expect(result).toMatchObject({ source: 'fetched', entry: { token: { value: 'tok-1' } } })
    expect(events).toEqual([{ type: 'token_store_unavailable', operation: 'set', code: 'ERR_TEST_DOWN' }])
  })

  it('falls back to its own request when the store fails: one event per outage, one on recovery', async () => {
    let now = 0
    const store = new SwitchableStore({ now: () => now })
    const as = authorizationServer(() => now)
    const events: SharedTokenEvent[] = []
    const options = {
      now: () => now,
      onEvent: (e: SharedTokenEvent) => events.push(e),
      retryStoreAfterMs: 5_000,
    }
    store.mode = 'down'
    const first = await fetchShared(store, 'a', () => as.fetch(), options)
    expect(first.source).toBe('local')
    // During the outage the store is skipped: no call until a probe is due.
    const callsBefore = store.calls
    for (const key of ['b', 'c', 'd']) {
      expect((await fetchShared(store, key, () => as.fetch(), options)).source).toBe('local')
    }
    expect(store.calls).toBe(callsBefore)
    now = 5_000 // a probe is due; the store is still down
    expect((await fetchShared(store, 'e', () => as.fetch(), options)).source).toBe('local')
    expect(store.calls).toBe(callsBefore + 1)
    store.mode = 'up'
    now = 10_000
    expect((await fetchShared(store, 'f', () => as.fetch(), options)).source).toBe('fetched')
    expect(events).toEqual([
      { type: 'token_store_unavailable', operation: 'get', code: 'ERR_TEST_DOWN' },
      { type: 'token_store_recovered', outageMs: 10_000 },
    ])
  })

  it('bounds a store operation that never answers by operationTimeoutMs', async () => {
    const store = new SwitchableStore()
    store.mode = 'hang'
    const as = authorizationServer()
    const events: SharedTokenEvent[] = []
    const result = await fetchShared(store, 'k', () => as.fetch(), {
      operationTimeoutMs: 30,
      onEvent: (e) => events.push(e),
    })
    expect(result.source).toBe('local')
    expect(events).toEqual([
      { type: 'token_store_unavailable', operation: 'get', code: 'ERR_TOKEN_STORE_TIMEOUT' },
    ])
  })

  it('keeps one outage per store across callers with different listeners', async () => {
    const store = new SwitchableStore()
    store.mode = 'down'
    const seen: string[] = []
    const as = authorizationServer()
    await fetchShared(store, 'a', () => as.fetch(), { onEvent: (e) => seen.push(`one:${e.type}`) })
    await fetchShared(store, 'b', () => as.fetch(), { onEvent: (e) => seen.push(`two:${e.type}`) })
    expect(seen).toEqual(['one:token_store_unavailable'])
  })

  it('rejects bad options with a TypeError naming the option', async () => {
    const store = new InMemoryTokenStore()
    const fetch = () => Promise.resolve(entry('x', Date.now() + 1_000))
    await expect(fetchShared(store, 'k', fetch, { lockTtlMs: 0 })).rejects.toThrow(/"lockTtlMs"/)
    await expect(fetchShared(store, 'k', fetch, { waitMs: Number.NaN })).rejects.toThrow(/"waitMs"/)
    await expect(fetchShared(store, 'k', fetch, { now: 1 as never })).rejects.toThrow(/"now"/)
  })
})

describe('invalidateShared', () => {
  it('drops the rejected token from the store once and tells the fleet', async () => {
    const store = new InMemoryTokenStore()
    const notices: boolean[] = []
    store.onInvalidate((n) => notices.push(n.matches('tok')))
    await store.set('k', entry('tok', Date.now() + 60_000))
    const results = await Promise.all([1, 2, 3].map(() => invalidateShared(store, 'k', 'tok')))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(notices).toEqual([true])
  })

  it('resolves false, never rejects, when the store fails', async () => {
    const store = new SwitchableStore()
    store.mode = 'down'
    const events: SharedTokenEvent[] = []
    expect(await invalidateShared(store, 'k', 'tok', { onEvent: (e) => events.push(e) })).toBe(false)
    expect(events).toHaveLength(1)
  })
})
