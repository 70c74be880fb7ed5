/**
 * The fetch seam of this package: the shape of `fetch` it calls, and how it recognises an auth
 * fetch installed as `globalThis.fetch` so that its own requests to the authorization server
 * never go through one.
 */

/**
 * The `fetch` shape this package takes and calls: the WHATWG `fetch` or anything with its
 * signature. Our own requests call it as `(url: string, init)`.
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * The property that marks a wrapping fetch (such as `@mcp-oauth2/mcp-transport`'s auth fetch):
 * its value is the fetch the wrapper delegates to. `Symbol.for('mcp-oauth2.underlyingFetch')`,
 * so copies of the packages agree on it.
 *
 * Users set `globalThis.fetch = createAuthFetch(…)` to reach clients that take no `fetch`
 * (LangChain's `MultiServerMCPClient`). The token provider and the verifier look `fetch` up on
 * `globalThis` at call time, and through this property they call the fetch underneath, so a
 * token request never waits on the auth fetch that is waiting for that very token.
 */
export const UNDERLYING_FETCH: unique symbol = Symbol.for('mcp-oauth2.underlyingFetch')

/** Wrappers followed at most: a longer chain is a configuration loop, not a real stack. */
const MAX_UNWRAP = 16

/**
 * The fetch underneath any wrappers that carry {@link UNDERLYING_FETCH}, followed repeatedly
 * (a wrapper of a wrapper) and stopping at a loop. A fetch without the property is returned as is.
 *
 * @example
 * ```ts
 * const authFetch = Object.assign((url: string | URL | Request, init?: RequestInit) => fetch(url, init), {
 *   [UNDERLYING_FETCH]: fetch,
 * })
 * unwrapFetch(authFetch) === fetch // true
 * ```
 */
export function unwrapFetch(fetch: FetchLike): FetchLike {
  let current = fetch
  for (let i = 0; i < MAX_UNWRAP; i++) {
    const next = (current as { [UNDERLYING_FETCH]?: unknown })[UNDERLYING_FETCH]
    if (typeof next !== 'function' || next === current) break
    current = next as FetchLike
  }
  return current
}
