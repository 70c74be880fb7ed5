import { type FetchLike, type ServerOrigin, toUrlString } from './request.js'

/**
 * The property every auth fetch carries: the fetch it delegates to. Whoever resolves a fetch at
 * call time (an auth fetch that uses `globalThis.fetch`, auth-core's token provider) unwraps
 * marked fetches, so `globalThis.fetch = createAuthFetch(…)` never makes a fetch call itself.
 */
export const UNDERLYING_FETCH: unique symbol = Symbol.for('mcp-oauth2.underlyingFetch')

type Marked = FetchLike & { [UNDERLYING_FETCH]?: unknown }

/** Follows the marks down to a fetch that is not an auth fetch; `undefined` if there is none. */
export function unwrapFetch(fetch: unknown): FetchLike | undefined {
  let current = fetch
  // Bounded: a hand-made cycle of marks must not hang.
  for (let depth = 0; depth < 32; depth++) {
    if (typeof current !== 'function') return undefined
    const under = (current as Marked)[UNDERLYING_FETCH]
    if (under === undefined) return current as FetchLike
    current = under
  }
  return undefined
}

/** `globalThis.fetch` at call time (so msw and other late patches apply), never an auth fetch. */
export function globalFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const fetch = unwrapFetch(globalThis.fetch)
  if (fetch === undefined) {
    return Promise.reject(new TypeError('globalThis.fetch is an auth fetch with no fetch underneath'))
  }
  return fetch(input, init)
}

/** Options of {@link underlyingFetch}. */
export interface UnderlyingFetchOptions {
  readonly server: ServerOrigin
  /** The fetch to call; `undefined`: {@link globalFetch}. */
  readonly fetch: FetchLike | undefined
  /** The MCP server's own TLS settings, for its origin only. */
  readonly tls: FetchLike | undefined
}

/**
 * The bottom of the pipeline: the MCP server's origin over its TLS fetch when it has one, every
 * other origin (the authorization server, redirect targets) over the plain fetch, so a client
 * certificate or a custom CA configured for the server is used for the server alone.
 */
export function underlyingFetch({ server, fetch, tls }: UnderlyingFetchOptions): FetchLike {
  const plain = fetch ?? globalFetch
  if (tls === undefined) return plain
  return function routeTls(input, init) {
    return server.has(toUrlString(input)) ? tls(input, init) : plain(input, init)
  }
}

/** What an auth fetch delegates to, for its mark: the given fetch, else today's global one. */
export function delegate(fetch: FetchLike | undefined): FetchLike | undefined {
  return fetch ?? unwrapFetch(globalThis.fetch)
}
