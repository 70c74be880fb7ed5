import { describe, expect, it } from 'vitest'
import { InMemoryTokenStore, type SharedTokenEntry, tokenCacheKey } from '../src/index.js'

const base = {
  tokenEndpoint: 'https://auth.example.com/oauth2/token',
  clientId: 'gateway',
  credential: 'secret-1',
  authMethod: 'client_secret_basic',
  scopes: ['mcp:read', 'mcp:write'],
}

function entry(value: string, expiresAt: number, refreshAt = expiresAt - 10): SharedTokenEntry {
  return { token: { value, tokenType: 'Bearer', expiresAt, scopes: ['mcp:read'] }, refreshAt }
}

describe('tokenCacheKey', () => {
  it('is a SHA-256 hex digest that holds no part of the secret', async () => {
    const key = await tokenCacheKey({ ...base, credential: 'a-very-long-client-secret' })
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(key).not.toContain('secret')
  })

  it('changes when the secret rotates, so an old token is never served for a new secret', async () => {
    expect(await tokenCacheKey({ ...base, credential: 'secret-2' })).not.toBe(await tokenCacheKey(base))
  })

  it('changes with every part that identifies the credential or the grant', async () => {
    const key = await tokenCacheKey(base)
    const variants = [
      { tokenEndpoint: 'https://auth.example.com/oauth2/token2' },
      { clientId: 'other' },
      { authMethod: 'client_secret_post' },
      { scopes: ['mcp:read'] },
      { resource: 'https://mcp.example.com/' },
      { audience: 'api' },
      { grantType: 'urn:ietf:params:oauth:grant-type:token-exchange' },
      { params: { subject: 'alice' } },
      { credential: { kty: 'EC', crv: 'P-256', d: 'x' } },
    ]
    const keys = await Promise.all(variants.map((v) => tokenCacheKey({ ...base, ...v })))
    for (const k of keys) expect(k).not.toBe(key)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('ignores the order of scopes, resources, parameters and JWK members', async () => {
    expect(await tokenCacheKey({ ...base, scopes: ['mcp:write', 'mcp:read', 'mcp:read'] })).toBe(
      await tokenCacheKey(base),
    )
    expect(await tokenCacheKey({ ...base, resource: ['https://b/', 'https://a/'] })).toBe(
      await tokenCacheKey({ ...base, resource: ['https://a/', 'https://b/'] }),
    )
    expect(await tokenCacheKey({ ...base, params: { a: '1', b: '2' } })).toBe(
      await tokenCacheKey({ ...base, params: { b: '2', a: '1' } }),
    )
    expect(await tokenCacheKey({ ...base, credential: { kty: 'OKP', d: 'x', x: 'y' } })).toBe(
      await tokenCacheKey({ ...base, credential: { x: 'y', d: 'x', kty: 'OKP' } }),
    )
  })

  it('keeps a secret apart from bytes and a JWK with the same text', async () => {
    const asString = await tokenCacheKey({ ...base, credential: '{"k":"v"}' })
    const asJwk = await tokenCacheKey({ ...base, credential: { k: 'v' } })
    const asBytes = await tokenCacheKey({ ...base, credential: new TextEncoder().encode('{"k":"v"}') })
    expect(new Set([asString, asJwk, asBytes]).size).toBe(3)
  })

  it('rejects bad input with a TypeError naming the field', async () => {
    await expect(tokenCacheKey({ ...base, clientId: '' })).rejects.toThrow(/"clientId"/)
    await expect(tokenCacheKey({ ...base, tokenEndpoint: 'not a url' })).rejects.toThrow(/"tokenEndpoint"/)
    await expect(tokenCacheKey({ ...base, credential: '' })).rejects.toThrow(/"credential"/)
    await expect(tokenCacheKey({ ...base, authMethod: '' })).rejects.toThrow(/"authMethod"/)
  })
})

describe('InMemoryTokenStore', () => {
  it('returns what was set until the token expires', async () => {
    let now = 1_000
    const store = new InMemoryTokenStore({ now: () => now })
    await store.set('k', entry('tok', 2_000))
    expect((await store.get('k'))?.token.value).toBe('tok')
    now = 2_000
    expect(await store.get('k')).toBeUndefined()
  })

  it('does not keep an entry that has already expired', async () => {
    const store = new InMemoryTokenStore({ now: () => 5_000 })
    await store.set('k', entry('tok', 5_000))
    expect(await store.get('k')).toBeUndefined()
  })

  it('keeps at most maxEntries keys, dropping the least recently used', async () => {
    const store = new InMemoryTokenStore({ maxEntries: 2, now: () => 0 })
    await store.set('a', entry('A', 10))
    await store.set('b', entry('B', 10))
    await store.get('a')
    await store.set('c', entry('C', 10))
    expect(await store.get('b')).toBeUndefined()
    expect((await store.get('a'))?.token.value).toBe('A')
  })

  it('gives the lock to one owner until it is released or expires', async () => {
    let now = 0
    const store = new InMemoryTokenStore({ now: () => now })
    expect(await store.lock('k', 'one', 1_000)).toEqual({ acquired: true })
    expect(await store.lock('k', 'two', 1_000)).toEqual({ acquired: false, expiresInMs: 1_000 })
    now = 400
    expect(await store.lock('k', 'two', 1_000)).toEqual({ acquired: false, expiresInMs: 600 })
    now = 1_000
    expect(await store.lock('k', 'two', 1_000)).toEqual({ acquired: true })
  })

  it('releases a lock only for its owner (compare-and-delete)', async () => {
    const store = new InMemoryTokenStore({ now: () => 0 })
    await store.lock('k', 'one', 1_000)
    expect(await store.unlock('k', 'two')).toBe(false)
    expect((await store.lock('k', 'two', 1_000)).acquired).toBe(false)
    expect(await store.unlock('k', 'one')).toBe(true)
    expect((await store.lock('k', 'two', 1_000)).acquired).toBe(true)
  })

  it('set with the owner releases the lock', async () => {
    const store = new InMemoryTokenStore({ now: () => 0 })
    await store.lock('k', 'one', 1_000)
    await store.set('k', entry('tok', 10), { owner: 'one' })
    expect((await store.lock('k', 'two', 1_000)).acquired).toBe(true)
  })

  it('wakes waiters on set and unlock, and not for other keys', async () => {
    const store = new InMemoryTokenStore({ now: () => 0 })
    const onSet = store.waitFor('k', 10_000)
    const other = store.waitFor('other', 20)
    await store.set('k', entry('tok', 10))
    expect(await onSet).toBe(true)
    await store.lock('k', 'one', 1_000)
    const onUnlock = store.waitFor('k', 10_000)
    await store.unlock('k', 'one')
    expect(await onUnlock).toBe(true)
    expect(await other).toBe(false)
  })

  it('ends a wait on abort with false', async () => {
    const store = new InMemoryTokenStore()
    const controller = new AbortController()
    const waiting = store.waitFor('k', 60_000, { signal: controller.signal })
    controller.abort()
    expect(await waiting).toBe(false)
  })

  it('invalidates only the rejected token (compare-and-swap) and notifies once', async () => {
    const store = new InMemoryTokenStore({ now: () => 0 })
    const notices: { key: string; old: boolean; fresh: boolean }[] = []
    store.onInvalidate((n) => notices.push({ key: n.key, old: n.matches('old'), fresh: n.matches('new') }))
    await store.set('k', entry('new', 10))
    expect(await store.invalidate('k', 'old')).toBe(false)
    expect((await store.get('k'))?.token.value).toBe('new')
    await store.set('k', entry('old', 10))
    expect(await store.invalidate('k', 'old')).toBe(true)
    expect(await store.invalidate('k', 'old')).toBe(false)
    expect(await store.get('k')).toBeUndefined()
    expect(notices).toEqual([{ key: 'k', old: true, fresh: false }])
  })

  it('stops notifying a listener that unsubscribed', async () => {
    const store = new InMemoryTokenStore({ now: () => 0 })
    let calls = 0
    const stop = store.onInvalidate(() => calls++)
    stop()
    await store.set('k', entry('tok', 10))
    await store.invalidate('k', 'tok')
    expect(calls).toBe(0)
  })

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => new InMemoryTokenStore({ maxEntries: 0 })).toThrow(/"maxEntries"/)
    expect(() => new InMemoryTokenStore({ now: 5 as never })).toThrow(/"now"/)
  })
})
