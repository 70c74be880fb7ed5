import {
  type FetchLike,
  isAuthorizationServerRequest,
  LEFT_SERVER,
  type Middleware,
  type PipelineInit,
  requestInit,
  type ServerFetch,
  type ServerOrigin,
  toUrlString,
} from './request.js'

/** Options of {@link originScope}. */
export interface OriginScopeOptions {
  readonly server: ServerOrigin
  /** The branch for the MCP server's own requests (static headers, user data, bearer). */
  readonly toServer: ServerFetch
}

/**
 * Routes each request by where it goes: MCP requests to the server's origin take `toServer`,
 * which adds what we add; everything else (other origins, the authorization server's requests on
 * the server's origin, redirect hops after the chain left the server) goes to `next` with
 * nothing of ours, and without a `Cookie` someone put into shared request options.
 *
 * @see https://fetch.spec.whatwg.org/#concept-origin
 */
export function originScope({ server, toServer }: OriginScopeOptions): Middleware {
  return function scopeToServer(next: FetchLike): FetchLike {
    return function originScoped(input, init) {
      const url = toUrlString(input)
      if (server.has(url) && (init as PipelineInit | undefined)?.[LEFT_SERVER] !== true) {
        const base = input instanceof Request ? requestInit(input, init) : init
        const headers = new Headers(base?.headers)
        if (!isAuthorizationServerRequest(url, base?.body, headers)) {
          return toServer(url, { ...base, headers })
        }
        if (!headers.has('cookie')) return next(input, init)
        headers.delete('cookie')
        return next(url, { ...base, headers })
      }
      const shared = init?.headers ?? (input instanceof Request ? input.headers : undefined)
      if (shared) {
        const headers = new Headers(shared)
        if (headers.has('cookie')) {
          headers.delete('cookie')
          return next(input, { ...init, headers })
        }
      }
      return next(input, init)
    }
  }
}
