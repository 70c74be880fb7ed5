// A stand-in for the provider wiring that is not there yet: a TokenProvider that keeps the token
// in memory (the hot path never touches the store), refreshes through fetchShared (fleet-wide
// single-flight, falling back to its own request) inside its own per-process single-flight, and
// drops a rejected token across the fleet. Once ClientCredentialsTokenProvider takes a `store`,
// this whole file is `new ClientCredentialsTokenProvider({ ...options, store })`.
import type {
  AccessToken,
  ClientCredentialsTokenProvider,
  SharedTokenEntry,
  TokenProvider,
  TokenStore,
} from '@mcp-oauth2/auth-core'
import {
  fetchShared,
  invalidateShared,
  type SharedTokenEvent,
  type SharedTokenOptions,
} from '../../../auth-core/src/internal/shared-token.js'

export interface SharedProviderOptions extends Omit<SharedTokenOptions, 'rejected'> {
  /** Refresh this long before expiry (clamped to half the lifetime), ms. @default 60000 */
  refreshSkewMs?: number
}

interface Local {
  entry: SharedTokenEntry
  recheckAt: number | undefined
}

export class SharedTokenProvider implements TokenProvider {
  readonly #inner: ClientCredentialsTokenProvider
  readonly #store: TokenStore
  readonly #key: string
  readonly #options: SharedProviderOptions
  readonly #now: () => number
  #local: Local | undefined
  #flight: Promise<AccessToken> | undefined
  #rejected: string | undefined
  /** Token requests this provider made to the authorization server. */
  requests = 0
  readonly events: SharedTokenEvent[] = []
  readonly #stop: () => void

  constructor(
    inner: ClientCredentialsTokenProvider,
    store: TokenStore,
    key: string,
    options: SharedProviderOptions = {},
  ) {
    this.#inner = inner
    this.#store = store
    this.#key = key
    this.#now = options.now ?? Date.now
    const onEvent = options.onEvent
    this.#options = {
      ...options,
      onEvent: (event) => {
        this.events.push(event)
        onEvent?.(event)
      },
    }
    // One 401 anywhere drops that token here too (a newer token survives).
    this.#stop = store.onInvalidate((notice) => {
      const local = this.#local
      if (notice.key === key && local !== undefined && notice.matches(local.entry.token.value))
        this.#local = undefined
    })
  }

  getToken(): Promise<AccessToken> {
    const local = this.#local
    const now = this.#now()
    if (local !== undefined && now < local.entry.token.expiresAt) {
      if (now < local.entry.refreshAt) return Promise.resolve(local.entry.token)
      if (local.recheckAt !== undefined && now < local.recheckAt) return Promise.resolve(local.entry.token)
    }
    this.#flight ??= this.#refresh(local).finally(() => {
      this.#flight = undefined
    })
    return this.#flight
  }

  invalidate(rejected?: string): void {
    const local = this.#local
    if (rejected === undefined) {
      this.#local = undefined
      return
    }
    if (local?.entry.token.value !== rejected) return
    this.#local = undefined
    this.#rejected = rejected
    void invalidateShared(this.#store, this.#key, rejected, this.#options)
  }

  close(): void {
    this.#stop()
  }

  async #refresh(local: Local | undefined): Promise<AccessToken> {
    try {
      const result = await fetchShared(this.#store, this.#key, () => this.#fetch(), {
        ...this.#options,
        rejected: this.#rejected,
      })
      this.#local = { entry: result.entry, recheckAt: result.recheckAt }
      return result.entry.token
    } catch (error) {
      // A failed refresh while the old token is valid keeps serving it (as the provider does).
      if (local !== undefined && this.#now() < local.entry.token.expiresAt) return local.entry.token
      throw error
    }
  }

  async #fetch(): Promise<SharedTokenEntry> {
    this.requests++
    this.#inner.invalidate()
    const token = await this.#inner.getToken()
    const lifetime = token.expiresAt - this.#now()
    const skew = Math.min(this.#options.refreshSkewMs ?? 60_000, Math.max(0, lifetime) / 2)
    return { token, refreshAt: token.expiresAt - skew }
  }
}
