import { LruCache } from './internal/lru.js'
import type {
  SharedTokenEntry,
  TokenInvalidation,
  TokenStore,
  TokenStoreLockResult,
  TokenStoreOperationOptions,
  TokenStoreSetOptions,
} from './internal/token-store-types.js'
import { scopeKey } from './scope.js'

export type {
  SharedToken,
  SharedTokenEntry,
  TokenInvalidation,
  TokenStore,
  TokenStoreLockResult,
  TokenStoreOperationOptions,
  TokenStoreSetOptions,
} from './internal/token-store-types.js'

/** What identifies a credential and a grant: the input of {@link tokenCacheKey}. */
export interface TokenCacheKeyInput {
  /** The token endpoint the token comes from (normalised as a URL). */
  tokenEndpoint: string | URL
  /** The OAuth `client_id`. */
  clientId: string
  /**
   * The credential: the client secret, the private key (PEM, bytes or a JWK), or, for a key that
   * cannot be exported, a stable identifier of it. Only its SHA-256 digest enters the key, so a
   * rotated secret gives a new key and never serves a token obtained with the old one.
   */
  credential: string | Uint8Array | Readonly<Record<string, unknown>>
  /** The client authentication method, e.g. `client_secret_basic`. */
  authMethod: string
  /** Requested scopes; order and duplicates do not matter. */
  scopes?: readonly string[] | undefined
  /** RFC 8707 `resource` indicator(s); order does not matter. */
  resource?: string | readonly string[] | undefined
  /** The `audience` parameter. */
  audience?: string | undefined
  /**
   * The grant type.
   * @default 'client_credentials'
   */
  grantType?: string | undefined
  /**
   * Other form parameters that change the token (extra parameters, a subject's identity for
   * per-user grants); order does not matter.
   */
  params?: Readonly<Record<string, string>> | undefined
}

const encoder = new TextEncoder()

async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  let hex = ''
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/** JSON with object keys sorted, so that a JWK hashes the same whatever its key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key]
    return sorted
  })
}

function credentialBytes(credential: TokenCacheKeyInput['credential']): Uint8Array {
  if (typeof credential === 'string') {
    if (credential === '') throw new TypeError('"credential" must not be empty')
    return encoder.encode(`s:${credential}`)
  }
  if (credential instanceof Uint8Array) {
    if (credential.length === 0) throw new TypeError('"credential" must not be empty')
    const bytes = new Uint8Array(credential.length + 2)
    bytes.set(encoder.encode('b:'))
    bytes.set(credential, 2)
    return bytes
  }
  if (typeof credential === 'object' && credential !== null)
    return encoder.encode(`j:${canonicalJson(credential)}`)
  throw new TypeError('"credential" must be a string, bytes or a JWK')
}

/**
 * The cache key of a token: the SHA-256 (hex) of everything that identifies the credential and the
 * grant (token endpoint, client id, a digest of the secret or key, authentication method, scopes,
 * resource, audience, grant type, other parameters). Two providers share tokens through a
 * {@link TokenStore} exactly when their keys are equal; a rotated secret or key gives a new key.
 *
 * The key holds no secret in a readable form, but it is a plain digest: a store that writes keys
 * where others can read them (Redis) should hash them again with a key of its own, as
 * `RedisTokenStore` does.
 *
 * @example
 * ```ts
 * const key = await tokenCacheKey({
 *   tokenEndpoint: 'https://auth.example.com/oauth2/token',
 *   clientId: 'gateway',
 *   credential: process.env.CLIENT_SECRET!,
 *   authMethod: 'client_secret_basic',
 *   scopes: ['mcp:read'],
 * })
 * ```
 */
export async function tokenCacheKey(input: TokenCacheKeyInput): Promise<string> {
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object')
  const { clientId, authMethod } = input
  if (typeof clientId !== 'string' || clientId === '')
    throw new TypeError('"clientId" must be a non-empty string')
  if (typeof authMethod !== 'string' || authMethod === '')
    throw new TypeError('"authMethod" must be a non-empty string')
  let endpoint: string
  try {
    endpoint = new URL(input.tokenEndpoint).href
  } catch {
    throw new TypeError('"tokenEndpoint" must be a URL')
  }
  const resource = input.resource === undefined ? [] : [input.resource].flat()
  const params = Object.entries(input.params ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  for (const [name, value] of params) {
    if (typeof value !== 'string') throw new TypeError(`"params.${name}" must be a string`)
  }
  const identity = [
    'mcp-oauth2-kit/token-cache-key/v1',
    input.grantType ?? 'client_credentials',
    endpoint,
    clientId,
    await sha256Hex(credentialBytes(input.credential)),
    authMethod,
    scopeKey(input.scopes ?? []),
    [...new Set(resource)].sort(),
    input.audience ?? null,
    params,
  ]
  return sha256Hex(JSON.stringify(identity))
}

/** Options of {@link InMemoryTokenStore}. */
export interface InMemoryTokenStoreOptions {
  /**
   * Cache keys kept at most; the least recently used goes first.
   * @default 1000
   */
  maxEntries?: number | undefined
  /**
   * Clock, epoch milliseconds (expiry of entries and locks).
   * @default Date.now
   */
  now?: (() => number) | undefined
}

interface Lock {
  owner: string
  until: number
}

/**
 * A {@link TokenStore} in this process's memory: the default of every token provider. It behaves
 * like the per-process cache (nothing leaves the process, nothing is shared with other replicas);
 * providers in one process that are given the same instance share tokens, locks and
 * invalidations.
 *
 * @example
 * ```ts
 * const store = new InMemoryTokenStore()
 * // two providers for the same client in one process share one token
 * // new ClientCredentialsTokenProvider({ ...options, store })
 * ```
 */
export class InMemoryTokenStore implements TokenStore {
  readonly #entries: LruCache<string, SharedTokenEntry>
  readonly #locks = new Map<string, Lock>()
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #listeners = new Set<(notice: TokenInvalidation) => void>()
  readonly #now: () => number

  constructor(options: InMemoryTokenStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    const maxEntries = options.maxEntries ?? 1000
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new TypeError('"maxEntries" option must be a positive integer')
    const now = options.now ?? Date.now
    if (typeof now !== 'function') throw new TypeError('"now" option must be a function')
    this.#entries = new LruCache(maxEntries)
    this.#now = now
  }

  async get(key: string, _options?: TokenStoreOperationOptions): Promise<SharedTokenEntry | undefined> {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (this.#now() >= entry.token.expiresAt) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }

  async set(key: string, entry: SharedTokenEntry, options?: TokenStoreSetOptions): Promise<void> {
    if (this.#now() < entry.token.expiresAt) this.#entries.set(key, entry)
    if (options?.owner !== undefined) this.#release(key, options.owner)
    this.#wake(key)
  }

  async lock(
    key: string,
    owner: string,
    ttlMs: number,
    _options?: TokenStoreOperationOptions,
  ): Promise<TokenStoreLockResult> {
    const now = this.#now()
    const held = this.#locks.get(key)
    if (held !== undefined && now < held.until) return { acquired: false, expiresInMs: held.until - now }
    this.#locks.set(key, { owner, until: now + ttlMs })
    return { acquired: true }
  }

  async unlock(key: string, owner: string, _options?: TokenStoreOperationOptions): Promise<boolean> {
    const released = this.#release(key, owner)
    this.#wake(key)
    return released
  }

  waitFor(key: string, timeoutMs: number, options?: TokenStoreOperationOptions): Promise<boolean> {
    const signal = options?.signal
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      let waiters = this.#waiters.get(key)
      if (waiters === undefined) {
        waiters = new Set()
        this.#waiters.set(key, waiters)
      }
      const set = waiters
      const done = (notified: boolean) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        set.delete(wake)
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key)
        resolve(notified)
      }
      const wake = () => done(true)
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs))
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(wake)
    })
  }

  async invalidate(key: string, rejected: string, _options?: TokenStoreOperationOptions): Promise<boolean> {
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token.value !== rejected) return false
    this.#entries.delete(key)
    const notice: TokenInvalidation = { key, matches: (value) => value === rejected }
    for (const listener of [...this.#listeners]) {
      try {
        listener(notice)
      } catch {}
    }
    return true
  }

  onInvalidate(listener: (notice: TokenInvalidation) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  #release(key: string, owner: string): boolean {
    const held = this.#locks.get(key)
    if (held === undefined || held.owner !== owner) return false
    this.#locks.delete(key)
    return true
  }

  #wake(key: string): void {
    const waiters = this.#waiters.get(key)
    if (waiters === undefined) return
    for (const wake of [...waiters]) wake()
  }
}
