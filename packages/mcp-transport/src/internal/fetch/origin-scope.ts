import { type AuthorizationServerEndpoints, isMetadataRequest } from './authorization-server-endpoints.js'
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
import { RequestHeaders } from './request-headers.js'

/** Options of {@link originScope}. */
export interface OriginScopeOptions {
  readonly server: ServerOrigin
  /** The branch for the MCP server's own requests (static headers, user data, bearer). */
  readonly toServer: ServerFetch
  /**
   * The authorization server's endpoints on the origin: requests to them take `next`, and
   * metadata documents from the origin teach it more.
   */
  readonly endpoints?: AuthorizationServerEndpoints | undefined
}

/**
 * Routes each request by where it goes: MCP requests to the server's origin take `toServer`,
 * which adds what we add; everything else (other origins, the authorization server's requests on
 * the server's origin, redirect hops after the chain left the server) goes to `next` with
 * nothing of ours, and without a `Cookie` someone put into shared request options. The answers
 * to metadata requests on the server's origin (RFC 8414, OpenID Connect, RFC 9728) teach
 * `endpoints` the authorization server's endpoints, read from a clone of the body.
 *
 * @see https://fetch.spec.whatwg.org/#concept-origin
 */
export function originScope({ server, toServer, endpoints }: OriginScopeOptions): Middleware {
  return function scopeToServer(next: FetchLike): FetchLike {
    /** A request for the authorization server on the MCP server's origin: nothing of ours. */
    function toAuthorizationServer(url: string, response: Promise<Response>): Promise<Response> {
      if (endpoints === undefined || !isMetadataRequest(url)) return response
      return response.then((answer) => {
        endpoints.learnFrom(answer)
        return answer
      })
    }

    function route(url: string, input: string | URL | Request, init: RequestInit | undefined) {
      if (server.has(url)) {
        if ((init as PipelineInit | undefined)?.[LEFT_SERVER] === true) {
          // A hop after the chain left the server, back on its origin: still the server's own
          // answer, so a metadata document teaches the endpoints.
          return toAuthorizationServer(url, withoutCookie(next, input, init))
        }
        const base = input instanceof Request ? requestInit(input, init) : init
        const headers = RequestHeaders.from(base?.headers)
        if (!isAuthorizationServerRequest(url, base?.body, headers, endpoints)) {
          return toServer(url, { ...base, headers })
        }
        if (!headers.has('cookie')) return toAuthorizationServer(url, next(input, init))
        headers.delete('cookie')
        return toAuthorizationServer(url, next(url, { ...base, headers: headers.toRecord() }))
      }
      return withoutCookie(next, input, init)
    }

    return function originScoped(input, init) {
      const url = toUrlString(input)
      // While a metadata document from the origin is being read, a request to the origin (not
      // the MCP server's URL) waits for it, a turn at most: it may be for an endpoint it names.
      const pending = endpoints?.pendingFor(url)
      if (pending !== undefined) return pending.then(() => route(url, input, init))
      return route(url, input, init)
    }
  }
}

/** Sends the request on without a `Cookie` header someone put into shared request options. */
function withoutCookie(
  next: FetchLike,
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<Response> {
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
