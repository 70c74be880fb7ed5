/**
 * Private key sources of `JwtScopeVerifier`: a remote JWKS with its own cache (refetch on unknown
 * `kid`, rate limited; cached keys keep serving while the endpoint is down), a static JWKS, one
 * static public key, and RFC 8414 discovery of `jwks_uri` from an issuer.
 *
 * jose's `createRemoteJWKSet` refetches an unknown `kid` only after `cooldownDuration` counted
 * from the last fetch, and its key lookup cannot tell "endpoint down" from "unknown key"; both
 * matter for a verifier that must fail closed yet survive key rotation, hence this small cache.
 */
import type { JWK } from 'jose'
import { AuthCoreError, DiscoveryError, ErrorCode, InvalidTokenError } from '../errors.js'
import {
  type ImportedKey,
  importJwkFor,
  importPemFor,
  jwkFits,
  type SupportedAlgorithm,
  toImportedKey,
} from './jwt-crypto.js'
import { assertSecureUrl, displayUrl } from './url.js'

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

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
  fetch: () => FetchLike
  now: () => number
  cooldownMs: number
  maxAgeMs: number
  timeoutMs: number
  resourceMetadata: string | undefined
}

function keysUnavailable(url: URL | string, detail: string, cause?: unknown): AuthCoreError {
  return new AuthCoreError(
    ErrorCode.KeysUnavailable,
    `could not obtain the JWKS from ${displayUrl(url)}: ${detail}`,
    cause === undefined ? undefined : { cause },
  )
}

async function getJson(
  fetchFn: FetchLike,
  url: URL,
  timeoutMs: number,
): Promise<{ ok: true; body: unknown } | { ok: false; status?: number; cause?: unknown }> {
  let response: Response
  try {
    response = await fetchFn(url.href, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (cause) {
    return { ok: false, cause }
  }
  if (response.status !== 200) {
    response.body?.cancel().catch(() => {})
    return { ok: false, status: response.status }
  }
  try {
    return { ok: true, body: await response.json() }
  } catch (cause) {
    return { ok: false, status: response.status, cause }
  }
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
    const now = this.#o.now()
    const entries = this.#entries
    if (entries !== undefined && now - this.#fetchedAt < this.#o.maxAgeMs) {
      const found = select(entries, kid, alg)
      if (found.length > 0) return found
    }
    return this.#slowCandidates(kid, alg)
  }

  async #slowCandidates(kid: string | undefined, alg: SupportedAlgorithm): Promise<readonly KeyEntry[]> {
    const cooldown = this.#o.cooldownMs
    const now = this.#o.now()
    // After a failed fetch, wait `cooldown` before the next one: fail fast instead of queueing
    // every request behind a dead endpoint.
    const mayRetry = now - this.#failedAt >= cooldown
    let refreshed = false
    if (this.#inflight) {
      await this.#inflight
      refreshed = true
    } else if (this.#entries === undefined || now - this.#fetchedAt >= this.#o.maxAgeMs) {
      // Nothing cached yet, or stale keys. If the fetch fails, stale keys keep serving.
      if (mayRetry) {
        await this.#refresh()
        refreshed = true
      }
    }
    if (this.#entries === undefined) throw this.#lastError ?? keysUnavailable(this.#o.url, 'not fetched yet')
    let found = select(this.#entries, kid, alg)
    // An unknown kid: the keys may have rotated. One refetch, at most once per cooldown, so a
    // stream of tokens with made-up kids cannot turn into a stream of JWKS requests.
    if (found.length === 0 && !refreshed && mayRetry && now - this.#missFetchAt >= cooldown) {
      this.#missFetchAt = now
      await this.#refresh()
      found = select(this.#entries, kid, alg)
    }
    if (found.length > 0) return found
    // The last attempt failed: the key may exist, we just cannot see it. Fail closed, but say why.
    if (this.#lastError) throw this.#lastError
    throw unknownKey(this.#o.resourceMetadata)
  }

  isCurrent(entry: KeyEntry): boolean {
    return this.#current.has(entry)
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  async #fetch(): Promise<void> {
    const result = await getJson(this.#o.fetch(), this.#o.url, this.#o.timeoutMs)
    if (!result.ok) {
      this.#failedAt = this.#o.now()
      this.#lastError = keysUnavailable(
        this.#o.url,
        result.status === undefined ? 'request failed' : `HTTP ${result.status}`,
        result.cause,
      )
      return
    }
    let fresh: KeyEntry[]
    try {
      fresh = parseJwks(result.body, 'the JWKS response')
    } catch (cause) {
      this.#failedAt = this.#o.now()
      this.#lastError = keysUnavailable(this.#o.url, 'response is not a JWK Set', cause)
      return
    }
    // Keep entries whose key material did not change, so their imported keys and the verified
    // tokens cached against them survive a refetch.
    const previous = new Map<string, KeyEntry>()
    for (const e of this.#entries ?? []) previous.set(e.fingerprint, e)
    const entries = fresh.map((e) => previous.get(e.fingerprint) ?? e)
    this.#entries = entries
    this.#current = new Set(entries)
    this.#fetchedAt = this.#o.now()
    this.#lastError = undefined
  }
}

/** Metadata URLs to try for an issuer: RFC 8414 §3.1, then OpenID Connect Discovery 1.0 §4. */
export function metadataUrls(issuer: URL): URL[] {
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '')
  return [
    new URL(`/.well-known/oauth-authorization-server${path}`, issuer.origin),
    new URL(`${path}/.well-known/openid-configuration`, issuer.origin),
  ]
}

export interface DiscoveredKeyStoreOptions extends Omit<RemoteKeyStoreOptions, 'url'> {
  issuer: string
}

/** `issuer` alone: discover `jwks_uri` from RFC 8414 metadata, then behave as a `RemoteKeyStore`. */
export class DiscoveredKeyStore implements KeyStore {
  readonly #o: DiscoveredKeyStoreOptions
  #store: RemoteKeyStore | undefined
  #discovering: Promise<RemoteKeyStore> | undefined

  constructor(options: DiscoveredKeyStoreOptions) {
    this.#o = options
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
    this.#discovering ??= this.#run().then(
      (store) => {
        this.#store = store
        return store
      },
      (error: unknown) => {
        // Not cached: the next verification tries again.
        this.#discovering = undefined
        throw error
      },
    )
    return this.#discovering
  }

  async #run(): Promise<RemoteKeyStore> {
    const issuer = new URL(this.#o.issuer)
    const urls = metadataUrls(issuer)
    let lastStatus: number | undefined
    let lastCause: unknown
    for (const url of urls) {
      const result = await getJson(this.#o.fetch(), url, this.#o.timeoutMs)
      if (!result.ok) {
        lastStatus = result.status
        lastCause = result.cause
        continue
      }
      const body = result.body as { issuer?: unknown; jwks_uri?: unknown } | null
      const tried = urls.slice(0, urls.indexOf(url) + 1).map((u) => displayUrl(u))
      if (typeof body !== 'object' || body === null || body.issuer !== this.#o.issuer) {
        throw new DiscoveryError(
          ErrorCode.DiscoveryInvalidMetadata,
          `authorization server metadata at ${displayUrl(url)} does not name the issuer ${this.#o.issuer}`,
          { urls: tried },
        )
      }
      if (typeof body.jwks_uri !== 'string') {
        throw new DiscoveryError(
          ErrorCode.DiscoveryInvalidMetadata,
          `authorization server metadata at ${displayUrl(url)} has no "jwks_uri"`,
          { urls: tried },
        )
      }
      let jwksUrl: URL
      try {
        jwksUrl = assertSecureUrl(body.jwks_uri, 'jwks_uri', false)
      } catch (cause) {
        throw new DiscoveryError(
          ErrorCode.DiscoveryInvalidMetadata,
          `authorization server metadata at ${displayUrl(url)} has an unusable "jwks_uri"`,
          { urls: tried, cause },
        )
      }
      return new RemoteKeyStore({ ...this.#o, url: jwksUrl })
    }
    throw new DiscoveryError(
      ErrorCode.DiscoveryFailed,
      `could not discover the authorization server metadata of ${this.#o.issuer}`,
      { urls: urls.map((u) => displayUrl(u)), status: lastStatus, cause: lastCause },
    )
  }
}
