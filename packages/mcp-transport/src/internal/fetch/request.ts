/**
 * What every step of the auth fetch pipeline shares: the fetch and middleware shapes, URL and
 * origin tests, body replayability, and the markers one step leaves for a later one.
 */
import type { AccessToken, FetchLike } from '@mcp-oauth2/auth-core'
import type { AuthorizationServerEndpoints } from './authorization-server-endpoints.js'
import type { RequestHeaders } from './request-headers.js'

export type { FetchLike }

/** One step of the pipeline, in the MCP SDK's middleware shape. */
export type Middleware = (next: FetchLike) => FetchLike

/**
 * Set on a redirect hop's init once the chain has left the MCP server (its origin, or its
 * MCP requests): nothing of ours is added to that hop or any later one, wherever it goes.
 */
export const LEFT_SERVER: unique symbol = Symbol('mcp-oauth2.leftServer')

/**
 * Set by user passthrough when the user's own credential (a header renamed to `authorization`)
 * is on the request: the bearer step then neither replaces it nor retries with the service token.
 */
export const USER_AUTHORIZATION: unique symbol = Symbol('mcp-oauth2.userAuthorization')

/**
 * Set by the bearer step when the token it sent is DPoP-bound (`Authorization: DPoP`): the DPoP
 * step then adds a proof made with the token's key (`AccessToken.dpopKey`).
 */
export const DPOP_TOKEN: unique symbol = Symbol('mcp-oauth2.dpopToken')

/** A request init that may carry the pipeline's markers. */
export type PipelineInit = RequestInit & {
  [LEFT_SERVER]?: true
  [USER_AUTHORIZATION]?: true
  [DPOP_TOKEN]?: AccessToken
}

/** A request on its way to the MCP server: an absolute URL, and headers the pipeline owns. */
export type ServerInit = Omit<PipelineInit, 'headers'> & { headers: RequestHeaders }

/** What reading a request's headers takes: a `Headers` or the pipeline's {@link RequestHeaders}. */
export interface HeaderReader {
  get(name: string): string | null
}

/** The fetch shape of the steps that only ever see requests for the MCP server. */
export type ServerFetch = (url: string, init: ServerInit) => Promise<Response>

/** A step of the MCP server's branch, in the `(next) => fetch` shape. */
export type ServerMiddleware = (next: ServerFetch) => ServerFetch

/** Whether `status` is a redirect fetch follows (301, 302, 303, 307, 308). */
export function isRedirect(status: number): boolean {
  return (status >= 301 && status <= 303) || status === 307 || status === 308
}

export function toUrlString(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
}

/** A `Request` input as an init (the caller's `init` wins field by field, as in `fetch`). */
export function requestInit(request: Request, init: RequestInit | undefined): RequestInit {
  return {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: request.redirect,
    signal: request.signal,
    ...({ duplex: 'half' } as object),
    ...init,
  }
}

/** Whether a body can be sent again (a retry, a redirect): anything but a stream. */
export function isReplayable(body: BodyInit | null | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData
  )
}

/** Drops a response we do not hand on, so its connection is freed. */
export function discard(response: Response): void {
  void response.body?.cancel().catch(() => {})
}

/** The MCP server's origin, with a fast test for URLs. */
export interface ServerOrigin {
  /** `https://host:port` */
  readonly origin: string
  /** Whether `url` (absolute) has this origin. */
  has(url: string): boolean
}

export function serverOrigin(server: URL): ServerOrigin {
  const origin = server.origin
  const prefix = `${origin}/`
  return {
    origin,
    has(url: string): boolean {
      // Fast path: "origin/" as a prefix fixes scheme, host and port.
      if (url.startsWith(prefix)) return true
      try {
        return new URL(url).origin === origin
      } catch {
        return false
      }
    },
  }
}

const FORM = 'application/x-www-form-urlencoded'

/**
 * Whether a request to the MCP server's origin is one for its authorization server instead:
 * metadata under `/.well-known/` (RFC 8414 §3, RFC 9728 §3, OpenID Connect Discovery), one of
 * the authorization server's endpoints (given up front, or named by its metadata: JWKS, dynamic
 * client registration, userinfo, …, whatever their shape), or a form-encoded POST, which is what
 * the token endpoint (RFC 6749 §4.4.2), revocation (RFC 7009), introspection (RFC 7662) and
 * pushed authorization requests (RFC 9126) take. MCP messages are JSON, so no MCP request is
 * form-encoded. The SDK sends such requests through the transport's fetch.
 */
export function isAuthorizationServerRequest(
  url: string,
  body: unknown,
  headers: HeaderReader,
  endpoints?: AuthorizationServerEndpoints | undefined,
): boolean {
  const wellKnown = url.indexOf('/.well-known/')
  if (wellKnown !== -1) {
    const query = url.indexOf('?')
    if (query === -1 || wellKnown < query) return true
  }
  // Nothing while none is known; then a comparison with the MCP server's URL and a Set lookup.
  if (endpoints?.has(url) === true) return true
  if (body === undefined || body === null) return false
  if (typeof body === 'string') {
    // A JSON text (every MCP message) is never form-encoded: no header lookup on the hot path.
    const first = body.charCodeAt(0)
    if (first === 0x7b || first === 0x5b) return false
  } else if (body instanceof URLSearchParams) return true
  const type = headers.get('content-type')
  return type?.toLowerCase().startsWith(FORM) === true
}
