/**
 * Key sources of `JwtScopeVerifier`: a remote JWKS with its own cache (refetch on unknown `kid`,
 * rate limited; cached keys keep serving while the endpoint is down; refetched in the background
 * once older than its maximum age), a static JWKS, one static public key, and RFC 8414 discovery
 * of `jwks_uri` from an issuer (rate limited too).
 *
 * jose's `createRemoteJWKSet` refetches an unknown `kid` only after `cooldownDuration` counted
 * from the last fetch, and its key lookup cannot tell "endpoint down" from "unknown key"; both
 * matter for a verifier that must fail closed yet survive key rotation, hence this small cache.
 * Every request goes through the package's one resilient fetch (internal/http.ts) and discovery
 * code (internal/discovery.ts), as the token provider's do.
 */
import type { JWK } from 'jose'
import { AuthCoreError, ErrorCode, InvalidTokenError } from '../errors.js'
import { type DiscoveryContext, fetchAuthorizationServerMetadata, metadataEndpoint } from './discovery.js'
import { AttemptTimeoutError, type ResilientFetch, ResponseTooLargeError } from './http.js'
import {
  type ImportedKey,
  importJwkFor,
  importPemFor,
  jwkFits,
  type SupportedAlgorithm,
  toImportedKey,
} from './jwt-crypto.js'
import { displayUrl } from './url.js'

/** One verification key, importing itself lazily once per algorithm. */
export class KeyEntry {
  readonly kid: string | undefined
  readonly #jwk: JWK | undefined
  readonly #pem: string | undefined
  readonly #cryptoKey: CryptoKey | undefined
  readonly #imported = new Map<SupportedAlgorithm, ImportedKey | null>()
  readonly #pending = new Map<SupportedAlgorithm, Promise<ImportedKey | null>>()
  /** A stable identity of the key material (used to keep entries across JWKS refetches). */
  readonly fingerprint: string

  constructor(source: { jwk: JWK } | { pem: string } | { cryptoKey: CryptoKey }) {
    if ('jwk' in source) {
      this.#jwk = source.jwk
      this.kid = typeof source.jwk.kid === 'string' ? source.jwk.kid : undefined
      this.fingerprint = JSON.stringify(source.jwk)
    } else if ('pem' in source) {
      this.#pem = source.pem
      this.fingerprint = source.pem
    } else {
      this.#cryptoKey = source.cryptoKey
      this.fingerprint = ''
    }
  }

  /** Cheap pre-filter: could this key verify `alg`? (A PEM is only known after import.) */
  fits(alg: SupportedAlgorithm): boolean {
    if (this.#jwk) return jwkFits(this.#jwk, alg)
    return true
  }

  /** The key imported for `alg`, or `null` when it cannot serve `alg`. Sync once imported. */
  importFor(alg: SupportedAlgorithm): ImportedKey | null | Promise<ImportedKey | null> {
    const done = this.#imported.get(alg)
    if (done !== undefined) return done
    let pending = this.#pending.get(alg)
    if (!pending) {
      pending = this.#import(alg).then((key) => {
        this.#imported.set(alg, key)
        this.#pending.delete(alg)
        return key
      })
      this.#pending.set(alg, pending)
    }
    return pending
  }

  async #import(alg: SupportedAlgorithm): Promise<ImportedKey | null> {
    if (this.#jwk) return (await importJwkFor(this.#jwk, alg)) ?? null
    if (this.#pem !== undefined) return (await importPemFor(this.#pem, alg)) ?? null
    if (this.#cryptoKey) return toImportedKey(this.#cryptoKey, alg) ?? null
    return null
  }
}

/** Where keys come from. */
export interface KeyStore {
  /**
   * Keys that may have signed a token with this `kid` and `alg`. Throws `InvalidTokenError`
   * (`unknown_key` / `algorithm`) or an `AuthCoreError` with `ErrorCode.KeysUnavailable`.
   */
  candidates(
    kid: string | undefined,
    alg: SupportedAlgorithm,
  ): readonly KeyEntry[] | Promise<readonly KeyEntry[]>
  /** Whether `entry` is still one of the current keys (cached results of removed keys are dropped). */
  isCurrent(entry: KeyEntry): boolean
}

function select(entries: readonly KeyEntry[], kid: string | undefined, alg: SupportedAlgorithm): KeyEntry[] {
  return entries.filter((e) => (kid === undefined || e.kid === kid) && e.fits(alg))
}

function unknownKey(resourceMetadata: string | undefined, cause?: unknown): InvalidTokenError {
  return new InvalidTokenError('no key matches the token "kid" and "alg"', {
    reason: 'unknown_key',
    resourceMetadata,
    cause,
  })
}

/** Validate a JWKS document and turn its public signature keys into entries. */
export function parseJwks(value: unknown, what: string): KeyEntry[] {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new TypeError(`${what} must be a JWK Set ({ keys: [...] })`)
  }
  const entries: KeyEntry[] = []
  for (const key of (value as { keys: unknown[] }).keys) {
    if (typeof key !== 'object' || key === null) continue
    const jwk = key as JWK
    if (typeof jwk.kty !== 'string' || jwk.kty === 'oct') continue
    // Never verify with a private key's public half by accident of configuration, and never
    // keep private material in memory longer than needed: skip keys that carry `d`.
    if ('d' in jwk || 'priv' in jwk) continue
    entries.push(new KeyEntry({ jwk: { ...jwk } }))
  }
  return entries
}

/** Static keys: a JWK Set given in the options. */
export class StaticKeyStore implements KeyStore {
  readonly #entries: readonly KeyEntry[]
  readonly #resourceMetadata: string | undefined

  constructor(entries: readonly KeyEntry[], resourceMetadata: string | undefined) {
    this.#entries = entries
    this.#resourceMetadata = resourceMetadata
  }

  candidates(kid: string | undefined, alg: SupportedAlgorithm): readonly KeyEntry[] {
    const found = select(this.#entries, kid, alg)
    if (found.length === 0) throw unknownKey(this.#resourceMetadata)
    return found
  }

  isCurrent(): boolean {
    return true
  }
}

/** One static public key: the token's `kid` is not consulted. */
export class SingleKeyStore implements KeyStore {
  readonly #entry: KeyEntry
  readonly #resourceMetadata: string | undefined

  constructor(entry: KeyEntry, resourceMetadata: string | undefined) {
    this.#entry = entry
    this.#resourceMetadata = resourceMetadata
  }

  candidates(_kid: string | undefined, alg: SupportedAlgorithm): readonly KeyEntry[] {
    if (!this.#entry.fits(alg)) {
      throw new InvalidTokenError('the token "alg" does not match the configured key', {
        reason: 'algorithm',
        resourceMetadata: this.#resourceMetadata,
      })
    }
    return [this.#entry]
  }

  isCurrent(): boolean {
    return true
  }
}

export interface RemoteKeyStoreOptions {
  url: URL
  fetch: ResilientFetch
  now: () => number
  cooldownMs: number
  maxAgeMs: number
  resourceMetadata: string | undefined
}

function keysUnavailable(url: URL | string, detail: string, cause?: unknown): AuthCoreError {
  return new AuthCoreError(
    ErrorCode.KeysUnavailable,
    `could not obtain the JWKS from ${displayUrl(url)}: ${detail}`,
    cause === undefined ? undefined : { cause },
  )
}

function describe(error: unknown): string {
  if (error instanceof AttemptTimeoutError) return 'timed out'
  if (error instanceof ResponseTooLargeError) return 'response too large'
  return 'request failed'
}

/** A remote JWKS, cached; see the module comment. */
export class RemoteKeyStore implements KeyStore {
  readonly #o: RemoteKeyStoreOptions
  #entries: readonly KeyEntry[] | undefined
  #current = new Set<KeyEntry>()
  #fetchedAt = Number.NEGATIVE_INFINITY
  #failedAt = Number.NEGATIVE_INFINITY
  #missFetchAt = Number.NEGATIVE_INFINITY
  #lastError: AuthCoreError | undefined
  #inflight: Promise<void> | undefined

  constructor(options: RemoteKeyStoreOptions) {
    this.#o = options
  }

  get url(): URL {
    return this.#o.url
  }

  candidates(
    kid: string | undefined,
    alg: SupportedAlgorithm,
  ): readonly KeyEntry[] | Promise<readonly KeyEntry[]> {
    const entries = this.#entries
    if (entries !== undefined) {
      this.#refreshIfStale()
      const found = select(entries, kid, alg)
      // Known key: no wait, even with stale keys and a hung endpoint (the refetch runs meanwhile).
      if (found.length > 0) return found
    }
    return this.#slowCandidates(kid, alg)
  }

  isCurrent(entry: KeyEntry): boolean {
    // A cache hit still starts the refetch of an old JWKS, so a key removed upstream stops
    // verifying within jwksCacheMaxAgeSeconds (plus one fetch) even when every call hits the cache.
    this.#refreshIfStale()
    return this.#current.has(entry)
  }

  /** After a failed fetch, wait `cooldown` before the next one: fail fast instead of queueing. */
  #mayFetch(now: number): boolean {
    return this.#inflight === undefined && now - this.#failedAt >= this.#o.cooldownMs
  }

  #refreshIfStale(): void {
    const now = this.#o.now()
    if (now - this.#fetchedAt >= this.#o.maxAgeMs && this.#mayFetch(now)) void this.#refresh()
  }

  async #slowCandidates(kid: string | undefined, alg: SupportedAlgorithm): Promise<readonly KeyEntry[]> {
    const now = this.#o.now()
    let refreshed = false
    if (this.#inflight) {
      await this.#inflight
      refreshed = true
    } else if (this.#entries === undefined && this.#mayFetch(now)) {
      await this.#refresh()
      refreshed = true
    }
    if (this.#entries === undefined) throw this.#lastError ?? keysUnavailable(this.#o.url, 'not fetched yet')
    let found = select(this.#entries, kid, alg)
    // An unknown kid: the keys may have rotated. One refetch, at most once per cooldown, so a
    // stream of tokens with made-up kids cannot turn into a stream of JWKS requests.
    if (
      found.length === 0 &&
      !refreshed &&
      this.#mayFetch(now) &&
      now - this.#missFetchAt >= this.#o.cooldownMs
    ) {
      this.#missFetchAt = now
      await this.#refresh()
      found = select(this.#entries, kid, alg)
    }
    if (found.length > 0) return found
    // The last attempt failed: the key may exist, we just cannot see it. Fail closed, but say why.
    if (this.#lastError) throw this.#lastError
    throw unknownKey(this.#o.resourceMetadata)
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  #fail(error: AuthCoreError): void {
    this.#failedAt = this.#o.now()
    this.#lastError = error
  }

  async #fetch(): Promise<void> {
    const url = this.#o.url
    let response: Response
    try {
      response = await this.#o.fetch(url.href, { method: 'GET', headers: { accept: 'application/json' } })
    } catch (cause) {
      return this.#fail(keysUnavailable(url, describe(cause), cause))
    }
    if (response.status !== 200) {
      void response.body?.cancel().catch(() => {})
      return this.#fail(keysUnavailable(url, `HTTP ${response.status}`))
    }
    let fresh: KeyEntry[]
    try {
      fresh = parseJwks(await response.json(), 'the JWKS response')
    } catch (cause) {
      return this.#fail(keysUnavailable(url, 'response is not a JWK Set', cause))
    }
    // Keep entries whose key material did not change, so their imported keys and the verified
    // tokens cached against them survive a refetch.
    const previous = new Map<string, KeyEntry>()
    for (const e of this.#entries ?? []) previous.set(e.fingerprint, e)
    const entries = fresh.map((e) => previous.get(e.fingerprint) ?? e)
    this.#entries = entries
    this.#current = new Set(entries)
    this.#fetchedAt = this.#o.now()
    this.#failedAt = Number.NEGATIVE_INFINITY
    this.#lastError = undefined
  }
}

export interface DiscoveredKeyStoreOptions extends Omit<RemoteKeyStoreOptions, 'url'> {
  issuer: string
}

/**
 * `issuer` alone: discover `jwks_uri` from RFC 8414 metadata, then behave as a `RemoteKeyStore`.
 * A failed discovery is remembered for `cooldownMs`: a flood of (forged) tokens while the
 * metadata is unavailable makes one discovery per cooldown, and each of them fails fast.
 */
export class DiscoveredKeyStore implements KeyStore {
  readonly #o: DiscoveredKeyStoreOptions
  readonly #ctx: DiscoveryContext
  #store: RemoteKeyStore | undefined
  #discovering: Promise<RemoteKeyStore> | undefined
  #failedAt = Number.NEGATIVE_INFINITY
  #lastError: unknown

  constructor(options: DiscoveredKeyStoreOptions) {
    this.#o = options
    this.#ctx = { fetch: options.fetch, allowInsecureHttp: false }
  }

  candidates(
    kid: string | undefined,
    alg: SupportedAlgorithm,
  ): readonly KeyEntry[] | Promise<readonly KeyEntry[]> {
    if (this.#store) return this.#store.candidates(kid, alg)
    return this.#discover().then((store) => store.candidates(kid, alg))
  }

  isCurrent(entry: KeyEntry): boolean {
    return this.#store?.isCurrent(entry) ?? false
  }

  #discover(): Promise<RemoteKeyStore> {
    if (this.#discovering) return this.#discovering
    if (this.#o.now() - this.#failedAt < this.#o.cooldownMs) return Promise.reject(this.#lastError)
    this.#discovering = this.#run().then(
      (store) => {
        this.#store = store
        return store
      },
      (error: unknown) => {
        this.#failedAt = this.#o.now()
        this.#lastError = error
        this.#discovering = undefined
        throw error
      },
    )
    return this.#discovering
  }

  async #run(): Promise<RemoteKeyStore> {
    const metadata = await fetchAuthorizationServerMetadata(new URL(this.#o.issuer), this.#ctx)
    const url = metadataEndpoint(metadata, 'jwks_uri', this.#ctx)
    return new RemoteKeyStore({ ...this.#o, url })
  }
}
