import type { AuthorizationServerEndpoints } from './authorization-server-endpoints.js'
import {
  discard,
  type FetchLike,
  isAuthorizationServerRequest,
  isRedirect,
  isReplayable,
  LEFT_SERVER,
  type PipelineInit,
  requestInit,
  type ServerOrigin,
  toUrlString,
} from './request.js'

/**
 * Where a composed redirects step keeps the follower of a chain whose first answer came back
 * another way (the fast lane's): `follow(first, url, init)`, with `init` the caller's init in
 * `redirect: 'manual'` mode.
 */
export const FOLLOW_REDIRECTS: unique symbol = Symbol('mcp-oauth2.followRedirects')

/** The follower a composed redirects step keeps under {@link FOLLOW_REDIRECTS}. */
export type FollowRedirects = (first: Response, url: string, init: RequestInit) => Promise<Response>

/** A composed redirects step: a fetch, and its follower. */
export type RedirectingFetch = FetchLike & { readonly [FOLLOW_REDIRECTS]: FollowRedirects }

/** Options of {@link redirects}. */
export interface RedirectsOptions {
  readonly server: ServerOrigin
  /** Hops followed at most. */
  readonly maxRedirects: number
  /** The authorization server's endpoints on the server's origin: a chain from one is not the server's. */
  readonly endpoints?: AuthorizationServerEndpoints | undefined
}

/**
 * Follows redirects itself when the caller's mode is `follow` (`redirect: 'manual'` underneath),
 * so every hop goes through the rest of the pipeline again: a hop to the MCP server gets our
 * credentials afresh, any other gets nothing of ours. Once the chain has left the MCP server,
 * no later hop gets anything of ours, even one back on its origin, and the caller's own
 * `Authorization`, `Cookie` and `Proxy-Authorization` are dropped at the first cross-origin hop
 * (Fetch §4.4). 301/302 turn a POST into a GET, 303 anything but HEAD; a stream body is never
 * replayed (the redirect is returned instead). Other modes go through untouched.
 *
 * @see https://fetch.spec.whatwg.org/#http-redirect-fetch
 */
export function redirects({
  server,
  maxRedirects,
  endpoints,
}: RedirectsOptions): (next: FetchLike) => RedirectingFetch {
  /** Whether the first request of a chain is an MCP request to the server. */
  function toServer(url: string, init: RequestInit): boolean {
    return (
      server.has(url) && !isAuthorizationServerRequest(url, init.body, new Headers(init.headers), endpoints)
    )
  }

  return function followRedirects(next: FetchLike): RedirectingFetch {
    async function follow(first: Response, url: string, init: RequestInit): Promise<Response> {
      let current = url
      let currentInit: PipelineInit = toServer(url, init) ? init : { ...init, [LEFT_SERVER]: true }
      let response = first
      for (let hops = 0; ; hops++) {
        if (!isRedirect(response.status)) return response
        const location = response.headers.get('location')
        if (location === null || hops >= maxRedirects) return response
        let target: string
        try {
          target = new URL(location, current).href
        } catch {
          return response
        }
        const method = (currentInit.method ?? 'GET').toUpperCase()
        const headers = new Headers(currentInit.headers)
        let body = currentInit.body
        let nextMethod = method
        if (
          response.status === 303
            ? method !== 'HEAD'
            : (response.status === 301 || response.status === 302) && method === 'POST'
        ) {
          nextMethod = 'GET'
          body = undefined
          headers.delete('content-type')
          headers.delete('content-length')
        } else if (!isReplayable(body)) {
          return response // a stream body cannot be sent twice
        }
        let left = currentInit[LEFT_SERVER] === true
        if (new URL(current).origin !== new URL(target).origin) {
          // Fetch §4.4 step 13 (and what Node's fetch does): credentials do not cross origins.
          headers.delete('authorization')
          headers.delete('cookie')
          headers.delete('proxy-authorization')
        }
        if (!server.has(target)) left = true
        discard(response)
        current = target
        currentInit = {
          ...currentInit,
          method: nextMethod,
          headers,
          body: body ?? null,
          ...(left ? { [LEFT_SERVER]: true as const } : {}),
        }
        response = await next(current, currentInit)
      }
    }

    const followingRedirects = function followingRedirects(
      input: string | URL | Request,
      init?: RequestInit,
    ): Promise<Response> {
      const mode = init?.redirect ?? (input instanceof Request ? input.redirect : 'follow')
      if (mode !== 'follow') return next(input, init)
      const manual: RequestInit = { ...init, redirect: 'manual' }
      // No extra async frame on the common path: most answers are not redirects.
      return next(input, manual).then((response) => {
        if (!isRedirect(response.status)) return response
        const base = input instanceof Request ? requestInit(input, manual) : manual
        return follow(response, toUrlString(input), base)
      })
    }
    return Object.assign(followingRedirects, { [FOLLOW_REDIRECTS]: follow })
  }
}
