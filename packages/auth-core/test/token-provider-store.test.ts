// ClientCredentialsTokenProvider with a `store`: several providers sharing one InMemoryTokenStore
// stand for several replicas (the same code path as RedisTokenStore, which packages/redis tests
// against a real redis-server). Token requests go to an msw token endpoint.
import { inspect } from 'node:util'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ClientCredentialsTokenProvider,
  type ClientCredentialsTokenProviderOptions,
  DpopKey,
  InMemoryTokenStore,
  type TokenProviderEvent,
  type TokenStoreOperationOptions,
  tokenCacheKey,
} from '../src/index.js'
import { SwitchableStore } from './support/switchable-store.js'

const TOKEN_URL = 'https://as.example.test/oauth2/token'
const SECRET = 'store-test-secret-7f3a'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

function tokenEndpoint(options: { delayMs?: number; expiresIn?: number } = {}) {
  const seen: URLSearchParams[] = []
  server.use(
    http.post(TOKEN_URL, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      seen.push(body)
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
      return HttpResponse.json({
        access_token: `token-${seen.length}`,
        token_type: request.headers.has('dpop') ? 'DPoP' : 'Bearer',
        expires_in: options.expiresIn ?? 3600,
      })
    }),
  )
  return seen
}

/** A real in-memory store that counts every operation made on it. */
class CountingStore extends SwitchableStore {
  operations: string[] = []

  override get(key: string, options?: TokenStoreOperationOptions) {
    this.operations.push('get')
    return super.get(key, options)
  }

  override lock(key: string, owner: string, ttlMs: number, options?: TokenStoreOperationOptions) {
    this.operations.push('lock')
    return super.lock(key, owner, ttlMs, options)
  }

  override unlock(key: string, owner: string, options?: TokenStoreOperationOptions) {
    this.operations.push('unlock')
    return super.unlock(key, owner, options)
  }

  override waitFor(key: string, timeoutMs: number, options?: TokenStoreOperationOptions) {
    this.operations.push('waitFor')
    return super.waitFor(key, timeoutMs, options)
  }
}

function replica(store: InMemoryTokenStore, extra: Partial<ClientCredentialsTokenProviderOptions> = {}) {
  const events: TokenProviderEvent[] = []
  const provider = new ClientCredentialsTokenProvider({
    tokenUrl: TOKEN_URL,
    clientId: 'gateway',
    clientSecret: SECRET,
    scope: 'mcp:read',
    retry: { limit: 0 },
    store,
    onEvent: (event) => events.push(event),
    ...extra,
  })
  return Object.assign(provider, { events })
}

async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('ClientCredentialsTokenProvider with a store', () => {
  it('makes one token request for 3 replicas × 20 concurrent cold callers', async () => {
    const seen = tokenEndpoint({ delayMs: 20 })
    const store = new InMemoryTokenStore()
    const replicas = [replica(store), replica(store), replica(store)]
    const tokens = await Promise.all(replicas.flatMap((r) => Array.from({ length: 20 }, () => r.getToken())))
    expect(seen).toHaveLength(1)
    expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['token-1']))
  })

  it('stores the token under tokenCacheKey of its endpoint, client, credential, method and scopes', async () => {
    tokenEndpoint()
    const store = new InMemoryTokenStore()
    await replica(store).getToken()
    const key = await tokenCacheKey({
      tokenEndpoint: TOKEN_URL,
      clientId: 'gateway',
      credential: SECRET,
      authMethod: 'client_secret_basic',
      scopes: ['mcp:read'],
    })
    expect((await store.get(key))?.token.value).toBe('token-1')
  })

  it('serves cache hits without a single store operation', async () => {
    tokenEndpoint()
    const store = new CountingStore()
    const provider = replica(store)
    await provider.getToken()
    const after = store.operations.length
    expect(after).toBeGreaterThan(0)
    for (let i = 0; i < 1000; i++) await provider.getToken()
    expect(store.operations.length).toBe(after)
  })

  it('invalidates compare-and-swap here and across the fleet; the other replica drops it once', async () => {
    const seen = tokenEndpoint()
    const store = new InMemoryTokenStore()
    const [a, b] = [replica(store), replica(store)]
    const first = await a.getToken()
    expect((await b.getToken()).value).toBe(first.value)
    a.invalidate('some-other-token') // not ours: nothing happens
    expect((await a.getToken()).value).toBe(first.value)
    expect(seen).toHaveLength(1)

    let noticed = 0
    store.onInvalidate(() => noticed++)
    a.invalidate(first.value)
    // B saw no 401, but the fleet's notice drops its copy (B's listener runs before this one).
    await until(() => noticed === 1)
    const next = await b.getToken()
    expect(next.value).toBe('token-2')
    expect((await a.getToken()).value).toBe('token-2')
    // A second 401 for the old token (a late response) changes nothing.
    b.invalidate(first.value)
    expect((await b.getToken()).value).toBe('token-2')
    expect(seen).toHaveLength(2)
    expect(noticed).toBe(1)
  })

  it('keeps a token refreshed meanwhile when a late notice for the old one arrives', async () => {
    const seen = tokenEndpoint()
    const store = new InMemoryTokenStore()
    const [a, b] = [replica(store), replica(store)]
    const first = await a.getToken()
    await b.getToken()
    b.invalidate(first.value)
    const fresh = await b.getToken()
    expect(fresh.value).toBe('token-2')
    // A notice about `first` must not drop `fresh` anywhere.
    a.invalidate(first.value)
    expect((await b.getToken()).value).toBe('token-2')
    expect((await a.getToken()).value).toBe('token-2')
    expect(seen).toHaveLength(2)
  })

  it('never reads a stored token again that it saw rejected', async () => {
    const seen = tokenEndpoint()
    const store = new InMemoryTokenStore()
    const a = replica(store)
    const first = await a.getToken()
    a.invalidate(first.value)
    expect((await a.getToken()).value).not.toBe(first.value)
    expect(seen).toHaveLength(2)
  })

  it('falls back to its own request when the store fails: one event per outage, no secret in it', async () => {
    const seen = tokenEndpoint()
    const store = new CountingStore()
    store.mode = 'down'
    const a = replica(store, { storeOptions: { retryStoreAfterMs: 60_000 } })
    const token = await a.getToken()
    expect(token.value).toBe('token-1')
    a.invalidate(token.value)
    expect((await a.getToken()).value).toBe('token-2')
    expect(a.events).toEqual([{ type: 'token_store_unavailable', operation: 'get', code: 'ERR_TEST_DOWN' }])
    expect(inspect(a.events, { depth: 5 })).not.toContain(SECRET)
    expect(seen).toHaveLength(2)
  })

  it('bounds a store that never answers by storeOptions.operationTimeoutMs', async () => {
    tokenEndpoint()
    const store = new CountingStore()
    store.mode = 'hang'
    const a = replica(store, { storeOptions: { operationTimeoutMs: 30 } })
    expect((await a.getToken()).value).toBe('token-1')
    expect(a.events).toEqual([
      { type: 'token_store_unavailable', operation: 'get', code: 'ERR_TOKEN_STORE_TIMEOUT' },
    ])
  })

  it('shares a DPoP-bound token only between replicas with the same key, each holding that key', async () => {
    const seen = tokenEndpoint()
    const store = new InMemoryTokenStore()
    const key = new DpopKey()
    const [a, b, c] = [
      replica(store, { dpop: key }),
      replica(store, { dpop: key }),
      replica(store, { dpop: true }),
    ]
    const first = await a.getToken()
    const second = await b.getToken()
    expect(first.tokenType).toBe('DPoP')
    expect(second.value).toBe(first.value)
    expect(second.dpopKey).toBe(key)
    const other = await c.getToken()
    expect(other.value).not.toBe(first.value)
    expect(other.dpopKey).toBe(c.dpopKey)
    expect(seen).toHaveLength(2)
  })

  it('rejects bad store settings at construction, naming the option', () => {
    const store = new InMemoryTokenStore()
    expect(() => replica(store, { storeOptions: { waitMs: -1 } })).toThrow(/"storeOptions\.waitMs"/)
    expect(() => replica({} as InMemoryTokenStore)).toThrow(/"store" must be a TokenStore/)
    expect(() => replica(store, { onEvent: 'x' as never })).toThrow(/"onEvent"/)
  })
})
