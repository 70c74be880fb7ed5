import {
  AuthCoreError,
  type CookieFilter,
  type CookieFilterOptions,
  createCookieFilter,
  createHeaderFilter,
  createToolScopePolicy,
  ErrorCode,
  type FetchLike,
  type HeaderFilter,
  type HeaderFilterOptions,
  isLoopbackHost,
  type TokenProvider,
  type ToolScopePolicy,
} from '@mcp-oauth2/auth-core'
import { checkAuthorizationServerUrls } from './internal/fetch/authorization-server-endpoints.js'
import type { AuthRetry } from './internal/fetch/bearer.js'
import { type AuthFetchSettings, buildAuthFetch } from './internal/fetch/compose.js'
import { serverOrigin } from './internal/fetch/request.js'
import { serverAttributes } from './internal/telemetry/attributes.js'
import { createTelemetry } from './internal/telemetry/create-telemetry.js'
import { ATTR_SERVER_NAME } from './internal/telemetry/semconv.js'
import type { Telemetry, TelemetryOptions } from './internal/telemetry/telemetry.js'
import { unwatchTokenChannels } from './internal/telemetry/token-channels.js'
import { createTlsFetch, type TlsOptions } from './tls.js'

/**
 * What an auth fetch tells `onEvent`: the MCP server challenged a request and it was retried
 * once, with a new token (401 `invalid_token`) or a token for more scopes (403
 * `insufficient_scope`, step-up). No token or header value is part of it.
 */
export interface AuthFetchEvent extends AuthRetry {
  readonly type: 'auth_retry'
  /** When, epoch ms (the `now` option). */
  readonly at: number
}

/** Options of {@link createAuthFetch} and {@link authMiddleware}. */
export interface AuthFetchOptions {
  /** The MCP server's URL. Bearer tokens, cookies and user headers go only to its origin. */
  serverUrl: string | URL
  /**
   * Source of the service's bearer token: outside a user context, and inside one without a
   * `subjectToken` or `idToken`. Without one, no `Authorization` is added there. A DPoP-bound
   * token (`tokenType: 'DPoP'`, from a provider with the `dpop` option) is sent as
   * `Authorization: DPoP <token>` with a new proof per request (RFC 9449 §7), the same for
   * `userTokenProvider`'s tokens.
   */
  tokenProvider?: TokenProvider | undefined
  /**
   * Source of the users' tokens: inside `withUserContext({ subjectToken })` (or `{ idToken }`),
   * `userTokenProvider.getToken({ subjectToken, idToken, scopes, signal })` gives the token sent
   * instead of the service token (a `TokenExchangeTokenProvider`, an `IdJagTokenProvider`). A
   * `401` drops that user's token only and retries once; a `403 insufficient_scope` steps up for
   * that user. Without it, a request in a user context with a subject or ID token fails with
   * `ERR_USER_TOKEN_PROVIDER_REQUIRED` and nothing is sent: never the service token instead, and
   * never the user's own token (token passthrough, which the MCP spec forbids).
   * @default none (user contexts with a user's token are refused)
   * @see RFC 8693 §2.1
   */
  userTokenProvider?: TokenProvider | undefined
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
   * The fetch to call. With `tls`, requests to the MCP server's origin use a TLS fetch of their
   * own instead; every other origin uses this one.
   * @default globalThis.fetch, looked up at call time (never an auth fetch: see {@link AuthFetch})
   */
  fetch?: FetchLike | ((url: string | URL, init?: RequestInit) => Promise<Response>) | undefined
  /**
   * TLS settings (custom CAs, client certificate) for the MCP server's origin only; other
   * origins reached through this fetch (redirect targets, the SDK's OAuth requests) get the
   * default TLS settings. The connection pool is released by `close()`.
   */
  tls?: TlsOptions | undefined
  /**
   * Allow credentials (bearer token, cookies, user headers, static headers) over plain `http:`
   * to a server that is not loopback.
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
   * decides. At most 32 step-up scopes are kept (each a valid scope token of at most 256
   * characters); a scope set the authorization server refused is not requested again for 30 s.
   * @default any scope
   */
  stepUpScopes?: readonly string[] | false | undefined
  /**
   * Clock, epoch milliseconds (the step-up pause).
   * @default Date.now
   */
  now?: (() => number) | undefined
  /**
   * OpenTelemetry: W3C trace context to the MCP server's origin only, metrics (401 retries,
   * step-ups, token cache lookups), and with `httpSpans` an HTTP client span per request. On
   * when `@opentelemetry/api` is installed, with the global providers; `false` turns it off.
   * @default the global providers when `@opentelemetry/api` is installed, else off
   */
  telemetry?: TelemetryOptions | false | undefined
  /**
   * Told of each challenge answered with a retry (`auth_retry`). A listener that throws is ignored.
   * @default none
   */
  onEvent?: ((event: AuthFetchEvent) => void) | undefined
  /**
   * Scopes per tool (a `createToolScopePolicy(…)` or its map), for requests that name their tool
   * in the `Mcp-Name` header (MCP 2026-07-28 clients send it on `tools/call`): such a request
   * gets a token with the tool's required scopes up front, and a step-up for it is kept for that
   * tool only. The body is never parsed for it; requests without the header are unaffected.
   * @default none
   */
  toolScopes?: ToolScopePolicy | Readonly<Record<string, readonly string[]>> | undefined
  /**
   * URLs of the authorization server's endpoints on the MCP server's origin, known up front
   * (its token endpoint, `/jwks`, `/register`, …): requests to them (same origin and path, any
   * query) are the authorization server's and get nothing of ours, no bearer token, DPoP proof,
   * cookie, user or static header, nor trace context. The endpoints named by the metadata
   * documents (RFC 8414, OpenID Connect Discovery, RFC 9728 `authorization_servers`) that the
   * MCP server's origin serves through this fetch are recognised without it, from then on; so are
   * metadata paths under `/.well-known/` and form-encoded requests. URLs on other origins get
   * nothing of ours anyway and are ignored. The MCP server's own URL is refused (`TypeError`).
   * @default none (only what the origin's metadata names)
   * @see RFC 8414 §2, RFC 9728 §2
   */
  authorizationServerUrls?: readonly string[] | undefined
}

/** What the manager gives the auth fetch of one of its servers (not public API). */
export interface ServerAuthFetchExtras {
  /** The manager's telemetry (shared by its servers), or `undefined` when off. */
  readonly telemetry: Telemetry | undefined
  /** The server's name in the manager, on spans and metrics. */
  readonly serverName: string
}

/**
 * What {@link createAuthFetch} returns: a fetch that can release the connections it owns. It
 * carries the property `Symbol.for('mcp-oauth2.underlyingFetch')`, whose value is the fetch it
 * delegates to (the `fetch` it was given, or `globalThis.fetch` as it was at creation). Code that
 * looks `globalThis.fetch` up at call time follows it (this package and auth-core do), so
 * `globalThis.fetch = createAuthFetch(…)` never calls itself.
 */
export interface AuthFetch extends FetchLike {
  /**
   * Releases what this auth fetch owns: the TLS connection pool of `tls` (after in-flight
   * requests end). Without `tls` it owns nothing and resolves at once. Idempotent.
   */
  close(): Promise<void>
}

function resolve(
  options: AuthFetchOptions,
  next: FetchLike | undefined,
  withTls: boolean,
  extras?: ServerAuthFetchExtras,
): AuthFetchSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  let server: URL
  try {
    server = new URL(options.serverUrl)
  } catch {
    throw new TypeError('"serverUrl" must be an absolute URL')
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:')
    throw new TypeError('"serverUrl" must be http(s)')
  const maxRedirects = options.maxRedirects ?? 20
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0)
    throw new TypeError('"maxRedirects" must be a non-negative integer')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" must be a function')
  const staticHeaders = Object.entries(options.staticHeaders ?? {}).map(([k, v]) => {
    if (typeof v !== 'string' || /[\r\n\0]/.test(v))
      throw new TypeError(`"staticHeaders.${k}" must be a string without control characters`)
    return [k.toLowerCase(), v] as const
  })
  for (const name of ['tokenProvider', 'userTokenProvider'] as const) {
    const provider = options[name]
    if (
      provider !== undefined &&
      (typeof provider !== 'object' ||
        provider === null ||
        typeof provider.getToken !== 'function' ||
        typeof provider.invalidate !== 'function')
    )
      throw new TypeError(`"${name}" must be a TokenProvider (getToken and invalidate)`)
  }
  // Every credential we add, not only the bearer token: plain http exposes cookies, user headers
  // (one renamed to `authorization` above all) and static headers (API keys) just as well.
  const credentials = [
    options.tokenProvider !== undefined && 'a bearer token',
    options.userTokenProvider !== undefined && "users' tokens",
    options.cookies !== undefined && 'user cookies',
    options.headers !== undefined && 'user headers',
    staticHeaders.length > 0 && 'static headers',
  ].filter((c): c is string => c !== false)
  if (
    server.protocol === 'http:' &&
    credentials.length > 0 &&
    options.allowInsecureHttp !== true &&
    !isLoopbackHost(server.hostname)
  ) {
    throw new AuthCoreError(
      ErrorCode.InsecureHttp,
      `refusing to send ${credentials.join(', ')} over plain http to ${server.origin}: use https, or set allowInsecureHttp`,
    )
  }
  const onEvent = options.onEvent
  if (onEvent !== undefined && typeof onEvent !== 'function')
    throw new TypeError('"onEvent" must be a function')
  const cookies = options.cookies
  const headers = options.headers
  const own = extras === undefined
  const telemetry = own ? createTelemetry(options.telemetry) : extras.telemetry
  const authorizationServerUrls = checkAuthorizationServerUrls(options.authorizationServerUrls, server)
  return {
    server: serverOrigin(server),
    serverUrl: server,
    authorizationServerUrls,
    tokenProvider: options.tokenProvider,
    userTokenProvider: options.userTokenProvider,
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
    maxRedirects,
    stepUp:
      options.stepUpScopes === false
        ? false
        : options.stepUpScopes === undefined
          ? 'any'
          : new Set(options.stepUpScopes),
    now,
    fetch: next ?? (options.fetch as FetchLike | undefined),
    tls: withTls && options.tls ? createTlsFetch(options.tls) : undefined,
    telemetry,
    telemetryAttributes: {
      ...serverAttributes(server),
      ...(extras ? { [ATTR_SERVER_NAME]: extras.serverName } : {}),
    },
    onRetry: onEvent && ((retry) => onEvent({ type: 'auth_retry', ...retry })),
    release: own && telemetry ? () => unwatchTokenChannels(telemetry) : undefined,
    toolScopes:
      options.toolScopes === undefined
        ? undefined
        : typeof (options.toolScopes as ToolScopePolicy).requiredScopesFor === 'function'
          ? (options.toolScopes as ToolScopePolicy)
          : createToolScopePolicy(options.toolScopes as Readonly<Record<string, readonly string[]>>),
  }
}

/**
 * A fetch for MCP SDK transports that adds the service's bearer token (inside
 * `withUserContext({ subjectToken })` or `({ idToken })`: that user's token from
 * `userTokenProvider` instead) and the current user's allowed cookies and headers to the MCP
 * server's requests, and nothing to any other: not to
 * other origins, not to the authorization server on the same origin (metadata under
 * `/.well-known/`, form-encoded token requests, the endpoints its metadata names or
 * `authorizationServerUrls` lists), not to any hop of a redirect chain once it left
 * the server. It is marked with what it delegates to, so `globalThis.fetch = createAuthFetch(…)`
 * works. Call `close()` when done if it has `tls`.
 *
 * A DPoP-bound token goes as `Authorization: DPoP <token>` with a `DPoP` proof per request made
 * with `token.dpopKey` (`htm`, `htu` without query, `iat`, a fresh `jti`, `ath`, the server's
 * nonce once it sent one); a `401 use_dpop_nonce` challenge is answered by one retry with a new
 * proof (the token is kept), and a `DPoP-Nonce` on any answer is remembered for the server's
 * origin. Proofs go to the MCP server's origin only, like the token.
 *
 * @example
 * ```ts
 * import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
 * import type { TokenProvider } from '@mcp-oauth2/auth-core'
 * declare const tokenProvider: TokenProvider // e.g. a ClientCredentialsTokenProvider
 * const serverUrl = 'https://crm.example.com/mcp'
 * const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
 *   fetch: createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['session_id'] } }),
 * })
 * ```
 * @see RFC 6750 §2.1, §3.1, RFC 9449 §7, §9
 */
export function createAuthFetch(options: AuthFetchOptions): AuthFetch {
  return buildAuthFetch(resolve(options, undefined, true))
}

/**
 * {@link createAuthFetch} without its fast lane: every request through the whole pipeline. The
 * tests send the same requests through both and compare what reached the wire. (Not public API.)
 */
export function createPipelineAuthFetch(options: AuthFetchOptions): AuthFetch {
  return buildAuthFetch({ ...resolve(options, undefined, true), fastLane: false })
}

/** The auth fetch of one of the manager's servers: its telemetry and name from the manager. (Not public API.) */
export function createServerAuthFetch(options: AuthFetchOptions, extras: ServerAuthFetchExtras): AuthFetch {
  return buildAuthFetch(resolve(options, undefined, true, extras))
}

/**
 * The auth fetch as SDK middleware (`(next) => fetch`), composable with the SDK's
 * `applyMiddlewares`. `next` replaces `options.fetch`.
 *
 * @example
 * ```ts
 * import { applyMiddlewares } from '@modelcontextprotocol/sdk/client/middleware.js'
 * import type { TokenProvider } from '@mcp-oauth2/auth-core'
 * declare const tokenProvider: TokenProvider
 * const serverUrl = 'https://crm.example.com/mcp'
 * const fetch = applyMiddlewares(authMiddleware({ serverUrl, tokenProvider }))(globalThis.fetch)
 * ```
 */
export function authMiddleware(
  options: AuthFetchOptions,
): (next: (url: string | URL, init?: RequestInit) => Promise<Response>) => AuthFetch {
  if (options.tls)
    throw new TypeError('"tls" cannot be used with authMiddleware: give the TLS fetch as `next`')
  const base = resolve(options, undefined, false)
  // `next` is the SDK's FetchLike (no Request input); the SDK's transports only ever pass a URL.
  return function applyAuth(next): AuthFetch {
    if (typeof next !== 'function') throw new TypeError('"next" must be a fetch function')
    return buildAuthFetch({ ...base, fetch: next as FetchLike })
  }
}
