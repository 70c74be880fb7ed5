import type { AccessToken } from '@mcp-oauth2/auth-core'
import {
  AuthCoreError,
  type CookieFilter,
  type CookieFilterOptions,
  createCookieFilter,
  createHeaderFilter,
  ErrorCode,
  type HeaderFilter,
  type HeaderFilterOptions,
  isLoopbackHost,
  type TokenProvider,
} from '@mcp-oauth2/auth-core'
import { bearerChallenge } from './internal/www-authenticate.js'
import { createTlsFetch, type TlsOptions } from './tls.js'
import { getUserContext } from './user-context.js'

/**
 * The fetch shape this package takes and returns: MCP SDK transports call it as `(url, init)`;
 * a `Request` input is accepted too, so it also fits `typeof globalThis.fetch` consumers.
 */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** Options of {@link createAuthFetch} and {@link authMiddleware}. */
export interface AuthFetchOptions {
  /** The MCP server's URL. Bearer tokens, cookies and user headers go only to its origin. */
  serverUrl: string | URL
  /** Source of the service's bearer token. Without one, no `Authorization` is added. */
  tokenProvider?: TokenProvider | undefined
  /**
   * Which of the user's cookies (from {@link withUserContext}) to forward, or a ready filter.
   * Without it, no cookie is forwarded.
   */
  cookies?: CookieFilterOptions | CookieFilter | undefined
  /**
   * Which of the user's headers (from {@link withUserContext}) to forward, or a ready filter.
   * Without it, no user header is forwarded.
   */
  headers?: HeaderFilterOptions | HeaderFilter | undefined
  /** Static headers for every request to the MCP server (never to other origins). */
  staticHeaders?: Readonly<Record<string, string>> | undefined
  /**
   * The fetch to call. When `tls` is set, undici's fetch with a dedicated agent is used instead.
   * @default globalThis.fetch, looked up at call time
   */
  fetch?: FetchLike | ((url: string | URL, init?: RequestInit) => Promise<Response>) | undefined
  /** TLS settings for this server (custom CAs, client certificate). */
  tls?: TlsOptions | undefined
  /**
   * Allow a bearer token over plain `http:` to a server that is not loopback.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined
  /**
   * Redirects followed at most, when the caller's `redirect` mode is `follow`.
   * @default 20
   */
  maxRedirects?: number | undefined
  /**
   * Scopes a 403 `insufficient_scope` challenge may make us request (step-up); `false` turns
   * step-up off. Without a list, any challenged scope is requested and the authorization server
   * decides. A scope set the authorization server refused is not requested again for 30 s.
   * @default any scope
   */
  stepUpScopes?: readonly string[] | false | undefined
}

interface Resolved {
  origin: string
  originSlash: string
  tokenProvider: TokenProvider | undefined
  cookieFilter: CookieFilter | undefined
  headerFilter: HeaderFilter | undefined
  staticHeaders: [string, string][]
  staticNames: readonly string[]
  maxRedirects: number
  stepUp: ReadonlySet<string> | 'any' | false
  next: FetchLike
}

function isReplayable(body: BodyInit | null | undefined): boolean {
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

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308])

/** How long a scope set the authorization server refused is not requested again, ms. */
const STEP_UP_REFUSED_MS = 30_000

function resolve(options: AuthFetchOptions, fetchOverride: FetchLike | undefined): Resolved {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  let server: URL
  try {
    server = new URL(options.serverUrl)
  } catch {
    throw new TypeError('"serverUrl" must be an absolute URL')
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:')
    throw new TypeError('"serverUrl" must be http(s)')
  if (
    server.protocol === 'http:' &&
    options.tokenProvider !== undefined &&
    !options.allowInsecureHttp &&
    !isLoopbackHost(server.hostname)
  ) {
    throw new AuthCoreError(
      ErrorCode.InsecureHttp,
      `refusing to send a bearer token over plain http to ${server.origin}: use https, or set allowInsecureHttp`,
    )
  }
  const cookies = options.cookies
  const headers = options.headers
  const maxRedirects = options.maxRedirects ?? 20
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0)
    throw new TypeError('"maxRedirects" must be a non-negative integer')
  const staticHeaders = Object.entries(options.staticHeaders ?? {}).map(([k, v]) => {
    if (/[\r\n\0]/.test(v)) throw new TypeError(`"staticHeaders.${k}" contains a control character`)
    return [k.toLowerCase(), v] as [string, string]
  })
  let next: FetchLike
  if (fetchOverride) next = fetchOverride
  else if (options.tls) next = createTlsFetch(options.tls)
  else if (options.fetch) next = options.fetch as FetchLike
  else next = (url, init) => globalThis.fetch(url, init)
  return {
    origin: server.origin,
    originSlash: `${server.origin}/`,
    tokenProvider: options.tokenProvider,
    cookieFilter:
      cookies === undefined
        ? undefined
        : typeof cookies === 'function'
          ? cookies
          : createCookieFilter(cookies),
    headerFilter:
      headers === undefined
        ? undefined
        : typeof headers === 'function'
          ? headers
          : createHeaderFilter(headers),
    staticHeaders,
    staticNames: staticHeaders.map(([name]) => name),
    maxRedirects,
    stepUp:
      options.stepUpScopes === false
        ? false
        : options.stepUpScopes === undefined
          ? 'any'
          : new Set(options.stepUpScopes),
    next,
  }
}

function toUrlString(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
}

function sameOrigin(url: string, r: Resolved): boolean {
  // Fast path: "origin/" as a prefix fixes scheme, host and port.
  if (url.startsWith(r.originSlash)) return true
  try {
    return new URL(url).origin === r.origin
  } catch {
    return false
  }
}

function buildAuthFetch(r: Resolved): FetchLike {
  // Scopes added after a 403 insufficient_scope, kept for later requests to this server.
  let stepUpScopes: readonly string[] | undefined
  // Scope sets the authorization server refused, with when we may ask again (epoch ms).
  const refused = new Map<string, number>()

  async function send(
    url: string,
    init: RequestInit,
    headers: Headers,
    scopes: readonly string[] | undefined,
    added: readonly string[],
  ): Promise<{ response: Response; token?: AccessToken }> {
    let token: AccessToken | undefined
    if (r.tokenProvider) {
      token = await r.tokenProvider.getToken({ signal: init.signal ?? undefined, scopes })
      headers.set('authorization', `Bearer ${token.value}`)
    }
    const response = await follow(url, { ...init, headers }, added)
    return { response, ...(token === undefined ? {} : { token }) }
  }

  /**
   * Fetch, following redirects ourselves when asked to, so nothing we added (`added`: static and
   * user header names) and no credentials cross origins.
   */
  function follow(url: string, init: RequestInit, added: readonly string[]): Promise<Response> {
    const mode = init.redirect ?? 'follow'
    if (mode !== 'follow') return r.next(url, init)
    const manual: RequestInit = { ...init, redirect: 'manual' }
    // No extra async frame on the common path: most answers are not redirects, and every promise
    // made inside a user context pays for AsyncLocalStorage on Node 20.
    return r
      .next(url, manual)
      .then((response) =>
        REDIRECT_STATUS.has(response.status) ? followRedirects(url, manual, response, added) : response,
      )
  }

  async function followRedirects(
    url: string,
    init: RequestInit,
    first: Response,
    added: readonly string[],
  ): Promise<Response> {
    let current = url
    let currentInit = init
    for (let hops = 0; ; hops++) {
      const response = hops === 0 ? first : await r.next(current, currentInit)
      if (!REDIRECT_STATUS.has(response.status)) return response
      const location = response.headers.get('location')
      if (location === null) return response
      if (hops >= r.maxRedirects) return response
      const target = new URL(location, current).href
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
      if (!sameOrigin(target, r)) {
        // Fetch §4.4 step 13: credentials do not follow a cross-origin redirect; neither does
        // anything we added for the MCP server (static headers, the user's headers).
        headers.delete('authorization')
        headers.delete('cookie')
        headers.delete('proxy-authorization')
        for (const name of added) headers.delete(name)
      }
      void response.body?.cancel().catch(() => {})
      current = target
      currentInit = { ...currentInit, method: nextMethod, headers, body: body ?? null }
    }
  }

  return async function authFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = input instanceof Request ? input : undefined
    const url = toUrlString(input)
    if (!sameOrigin(url, r)) {
      // Not the MCP server (e.g. the SDK's own discovery or token requests): nothing of ours,
      // and no cookie someone put into shared request options.
      const shared = init?.headers ?? request?.headers
      if (shared) {
        const headers = new Headers(shared)
        if (headers.has('cookie')) {
          headers.delete('cookie')
          return r.next(input, { ...init, headers })
        }
      }
      return r.next(input, init)
    }

    const base: RequestInit = request
      ? {
          method: request.method,
          headers: request.headers,
          body: request.body,
          redirect: request.redirect,
          signal: request.signal,
          ...({ duplex: 'half' } as object),
          ...init,
        }
      : { ...init }
    const headers = new Headers(base.headers)
    for (const [name, value] of r.staticHeaders) headers.set(name, value)
    let added = r.staticNames
    const context = getUserContext()
    if (context) {
      if (r.cookieFilter) {
        const cookie = r.cookieFilter(context.cookie)
        if (cookie === undefined) headers.delete('cookie')
        else headers.set('cookie', cookie)
      }
      if (r.headerFilter)
        // The transport's own headers (content-type, accept, mcp-session-id, …) win: a user
        // header must never steer the protocol, e.g. into another user's session.
        for (const [name, value] of r.headerFilter(context.headers)) {
          if (headers.has(name)) continue
          headers.set(name, value)
          added = [...added, name]
        }
    }
    // A user header renamed to `authorization` (explicitly configured) is the only thing that
    // replaces the service token; such requests are the user's, and not retried with ours.
    if (!r.tokenProvider || (context && r.headerFilter && headers.has('authorization'))) {
      return follow(url, { ...base, headers }, added)
    }
    const tokenProvider = r.tokenProvider
    // fetch copies the headers when called, so the retry below may reuse and overwrite them.
    const first = await send(url, base, headers, stepUpScopes, added)
    const { response, token } = first
    if ((response.status !== 401 && response.status !== 403) || !isReplayable(base.body)) return response
    const challenge = bearerChallenge(response.headers.get('www-authenticate'))
    let scopes = stepUpScopes
    if (response.status === 401) {
      // RFC 6750 §3.1: invalid_token, or no error at all → drop exactly the token we sent, once.
      if (challenge?.error !== undefined && challenge.error !== 'invalid_token') return response
      tokenProvider.invalidate(token?.value)
    } else {
      if (challenge?.error !== 'insufficient_scope' || r.stepUp === false) return response
      const held = new Set(token?.scopes ?? [])
      const needed = (challenge.scope ?? '').split(' ').filter((s) => s !== '' && !held.has(s))
      // Nothing to add, or something we may not ask for: another token would not help.
      if (needed.length === 0) return response
      const allowed = r.stepUp
      if (allowed !== 'any' && needed.some((s) => !allowed.has(s))) return response
      scopes = [...new Set([...(stepUpScopes ?? []), ...needed])]
      const key = [...scopes].sort().join(' ')
      if ((refused.get(key) ?? 0) > Date.now()) return response
    }
    let retry: { response: Response; token?: AccessToken }
    try {
      retry = await send(url, base, new Headers(headers), scopes, added)
    } catch (error) {
      // The authorization server refused the step-up (or is down): the server's answer stands,
      // and the same scope set is not requested again for a while.
      if (response.status === 403) {
        if (refused.size > 256) refused.clear()
        refused.set([...(scopes ?? [])].sort().join(' '), Date.now() + STEP_UP_REFUSED_MS)
        return response
      }
      throw error
    }
    void response.body?.cancel().catch(() => {})
    // Keep the step-up for later calls once it worked; merge, as concurrent 403s may have added others.
    if (scopes !== stepUpScopes && retry.response.ok) {
      stepUpScopes = [...new Set([...(stepUpScopes ?? []), ...(scopes ?? [])])]
    }
    return retry.response
  }
}

/**
 * A fetch for MCP SDK transports that adds the service's bearer token and the current user's
 * allowed cookies and headers to requests to the MCP server's origin, and nothing to any other.
 *
 * @example
 * ```ts
 * const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
 *   fetch: createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['session_id'] } }),
 * })
 * ```
 * @see RFC 6750 §2.1, §3.1
 */
export function createAuthFetch(options: AuthFetchOptions): FetchLike {
  return buildAuthFetch(resolve(options, undefined))
}

/**
 * The auth fetch as SDK middleware (`(next) => fetch`), composable with the SDK's
 * `applyMiddlewares`. `next` replaces `options.fetch`.
 *
 * @example
 * ```ts
 * const fetch = applyMiddlewares(authMiddleware({ serverUrl, tokenProvider }))(globalThis.fetch)
 * ```
 */
export function authMiddleware(
  options: AuthFetchOptions,
): (next: (url: string | URL, init?: RequestInit) => Promise<Response>) => FetchLike {
  if (options.tls)
    throw new TypeError('"tls" cannot be used with authMiddleware: give the TLS fetch as `next`')
  const base = resolve(options, (url, init) => globalThis.fetch(url, init))
  // `next` is the SDK's FetchLike (no Request input); the SDK's transports only ever pass a URL.
  return function applyAuth(next): FetchLike {
    return buildAuthFetch({ ...base, next: next as FetchLike })
  }
}
