import type { CookieFilter, HeaderFilter, TokenProvider, ToolScopePolicy } from '@mcp-oauth2/auth-core'
import type { Attributes } from '@opentelemetry/api'
import type { Telemetry } from '../telemetry/telemetry.js'
import { AuthorizationServerEndpoints } from './authorization-server-endpoints.js'
import { type AuthRetry, type BearerFetch, bearer, SERVICE_BEARER } from './bearer.js'
import { dpop } from './dpop.js'
import { fastLane } from './fast-lane.js'
import { originScope } from './origin-scope.js'
import { FOLLOW_REDIRECTS, redirects } from './redirects.js'
import type { FetchLike, ServerFetch, ServerMiddleware, ServerOrigin } from './request.js'
import { staticHeaders } from './static-headers.js'
import { tracing } from './tracing.js'
import { delegate, UNDERLYING_FETCH, underlyingFetch } from './underlying-fetch.js'
import { userPassthrough } from './user-passthrough.js'

/** The auth fetch's options, checked and resolved (see `createAuthFetch`). */
export interface AuthFetchSettings {
  readonly server: ServerOrigin
  /** The MCP server's URL. */
  readonly serverUrl: URL
  /**
   * The authorization server's URLs known up front (checked): requests to them get nothing of
   * ours, as do those its metadata documents name once they passed through.
   */
  readonly authorizationServerUrls: readonly string[]
  readonly tokenProvider: TokenProvider | undefined
  /** The users' tokens, inside a user context with a subject token or ID token. */
  readonly userTokenProvider: TokenProvider | undefined
  readonly cookieFilter: CookieFilter | undefined
  readonly headerFilter: HeaderFilter | undefined
  readonly staticHeaders: ReadonlyArray<readonly [string, string]>
  readonly maxRedirects: number
  readonly stepUp: ReadonlySet<string> | 'any' | false
  readonly now: () => number
  /** The fetch underneath; `undefined`: `globalThis.fetch` at call time. */
  readonly fetch: FetchLike | undefined
  /** The MCP server's TLS fetch, used for its origin only. */
  readonly tls: (FetchLike & { close(): Promise<void> }) | undefined
  /** OpenTelemetry, when `@opentelemetry/api` is installed and telemetry is not off. */
  readonly telemetry: Telemetry | undefined
  /** The server's attributes on spans and metrics. */
  readonly telemetryAttributes: Attributes
  /** Told of each 401/403 retry (an `auth_retry` event). */
  readonly onRetry: ((retry: AuthRetry & { readonly at: number }) => void) | undefined
  /** Called once by `close()`: releases what was made for this fetch (its own telemetry). */
  readonly release?: (() => void) | undefined
  /** Scopes per tool, for requests that name their tool (`Mcp-Name`). */
  readonly toolScopes?: ToolScopePolicy | undefined
  /**
   * Whether the common MCP request takes the fast lane (`fast-lane.ts`); `false` sends every
   * request through the whole pipeline (the tests compare the two).
   * @default true
   */
  readonly fastLane?: boolean | undefined
}

/** An auth fetch: a fetch, marked with what it delegates to, that can release what it owns. */
export type AuthFetchFunction = FetchLike & {
  readonly [UNDERLYING_FETCH]: FetchLike | undefined
  close(): Promise<void>
}

function composeServer(steps: readonly ServerMiddleware[], next: ServerFetch): ServerFetch {
  return steps.reduceRight((below, step) => step(below), next)
}

/** What the bearer step tells of its retries: the event listener and the metrics, if any. */
function retryObserver(settings: AuthFetchSettings): ((retry: AuthRetry) => void) | undefined {
  const { telemetry, telemetryAttributes, onRetry, now } = settings
  if (!telemetry && !onRetry) return undefined
  return function observeRetry(retry) {
    telemetry?.authRetried(retry, telemetryAttributes)
    try {
      onRetry?.({ ...retry, at: now() })
    } catch {
      // A listener must not break the request.
    }
  }
}

/**
 * The auth fetch, composed in one place, outermost first:
 * redirects → origin scope → (MCP server only: tracing → static headers → user passthrough →
 * bearer → DPoP proofs) → the underlying fetch (the server's TLS settings for its origin only).
 * Each auth fetch keeps the authorization server's endpoints on the MCP server's origin (given
 * up front, and learned from the metadata documents that pass through it), which the origin
 * scope and the redirects step both consult.
 * Steps that have nothing to do (no telemetry, no filters, no static headers) are left out:
 * without `@opentelemetry/api` the pipeline is what it was without it. The bearer step stays
 * even without token providers, to refuse a user context that carries a user's token.
 */
export function buildAuthFetch(settings: AuthFetchSettings): AuthFetchFunction {
  const { server } = settings
  const bottom = underlyingFetch({ server, fetch: settings.fetch, tls: settings.tls })
  // The bottom of the server branch: the pipeline's headers go to the fetch underneath as a record.
  const send: ServerFetch = (url, init) => bottom(url, { ...init, headers: init.headers.toRecord() })
  const steps: ServerMiddleware[] = []
  const telemetry = settings.telemetry
  if (telemetry && (telemetry.propagate || telemetry.httpSpans)) {
    steps.push(tracing({ telemetry, attributes: settings.telemetryAttributes }))
  }
  if (settings.staticHeaders.length > 0) steps.push(staticHeaders(settings.staticHeaders))
  if (settings.cookieFilter || settings.headerFilter) {
    steps.push(userPassthrough({ cookieFilter: settings.cookieFilter, headerFilter: settings.headerFilter }))
  }
  // Always: without a user token provider it refuses user contexts that carry a user's token.
  const belowBearer = settings.tokenProvider || settings.userTokenProvider ? dpop()(send) : send
  const withBearer: BearerFetch = bearer({
    tokenProvider: settings.tokenProvider,
    userTokenProvider: settings.userTokenProvider,
    stepUp: settings.stepUp,
    now: settings.now,
    origin: server.origin,
    onRetry: retryObserver(settings),
    toolScopes: settings.toolScopes,
  })(belowBearer)
  const toServer = composeServer(steps, withBearer)
  const endpoints = new AuthorizationServerEndpoints(settings.serverUrl, settings.authorizationServerUrls)
  const pipeline = redirects({ server, maxRedirects: settings.maxRedirects, endpoints })(
    originScope({ server, toServer, endpoints })(bottom),
  )
  const service = withBearer[SERVICE_BEARER]
  const entry =
    settings.fastLane !== false &&
    service !== undefined &&
    settings.headerFilter === undefined &&
    telemetry?.httpSpans !== true
      ? fastLane({
          server,
          endpoints,
          telemetry,
          staticHeaders: settings.staticHeaders,
          cookieFilter: settings.cookieFilter,
          service,
          follow: pipeline[FOLLOW_REDIRECTS],
          bottom,
          pipeline,
        })
      : pipeline
  const tls = settings.tls
  const release = settings.release
  // The lane is made for this auth fetch alone: it is the auth fetch itself (one call less).
  const authFetch = (
    entry !== pipeline
      ? entry
      : function authFetch(input: string | URL | Request, init?: RequestInit) {
          return pipeline(input, init)
        }
  ) as AuthFetchFunction
  Object.defineProperty(authFetch, UNDERLYING_FETCH, { value: delegate(settings.fetch) })
  Object.defineProperty(authFetch, 'close', {
    value: function close(): Promise<void> {
      release?.()
      return tls ? tls.close() : Promise.resolve()
    },
  })
  return authFetch
}
