import type { CookieFilter, HeaderFilter, TokenProvider } from '@mcp-oauth2/auth-core'
import { bearer } from './bearer.js'
import { dpop } from './dpop.js'
import { originScope } from './origin-scope.js'
import { redirects } from './redirects.js'
import type { FetchLike, ServerFetch, ServerMiddleware, ServerOrigin } from './request.js'
import { staticHeaders } from './static-headers.js'
import { delegate, UNDERLYING_FETCH, underlyingFetch } from './underlying-fetch.js'
import { userPassthrough } from './user-passthrough.js'

/** The auth fetch's options, checked and resolved (see `createAuthFetch`). */
export interface AuthFetchSettings {
  readonly server: ServerOrigin
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
}

/** An auth fetch: a fetch, marked with what it delegates to, that can release what it owns. */
export type AuthFetchFunction = FetchLike & {
  readonly [UNDERLYING_FETCH]: FetchLike | undefined
  close(): Promise<void>
}

function composeServer(steps: readonly ServerMiddleware[], last: ServerFetch): ServerFetch {
  return steps.reduceRight((next, step) => step(next), last)
}

/**
 * The auth fetch, composed in one place, outermost first:
 * redirects → origin scope → (MCP server only: static headers → user passthrough → bearer →
 * DPoP proofs) → the underlying fetch (the server's TLS settings for its origin only).
 * Steps that have nothing to do (no filters, no static headers) are left out; the bearer step
 * stays even without token providers, to refuse a user context that carries a user's token.
 */
export function buildAuthFetch(settings: AuthFetchSettings): AuthFetchFunction {
  const { server } = settings
  const bottom = underlyingFetch({ server, fetch: settings.fetch, tls: settings.tls })
  const steps: ServerMiddleware[] = []
  if (settings.staticHeaders.length > 0) steps.push(staticHeaders(settings.staticHeaders))
  if (settings.cookieFilter || settings.headerFilter) {
    steps.push(userPassthrough({ cookieFilter: settings.cookieFilter, headerFilter: settings.headerFilter }))
  }
  // Always: without a user token provider it refuses user contexts that carry a user's token.
  steps.push(
    bearer({
      tokenProvider: settings.tokenProvider,
      userTokenProvider: settings.userTokenProvider,
      stepUp: settings.stepUp,
      now: settings.now,
      origin: server.origin,
    }),
  )
  if (settings.tokenProvider || settings.userTokenProvider) steps.push(dpop())
  const toServer = composeServer(steps, bottom as ServerFetch)
  const pipeline = redirects({ server, maxRedirects: settings.maxRedirects })(
    originScope({ server, toServer })(bottom),
  )
  const tls = settings.tls
  const authFetch = function authFetch(input: string | URL | Request, init?: RequestInit) {
    return pipeline(input, init)
  } as AuthFetchFunction
  Object.defineProperty(authFetch, UNDERLYING_FETCH, { value: delegate(settings.fetch) })
  Object.defineProperty(authFetch, 'close', {
    value: function close(): Promise<void> {
      return tls ? tls.close() : Promise.resolve()
    },
  })
  return authFetch
}
