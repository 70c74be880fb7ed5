import type { AccessToken, CookieFilter } from '@mcp-oauth2/auth-core'
import type { Telemetry } from '../telemetry/telemetry.js'
import { currentUserContext } from '../user-context-store.js'
import type { AuthorizationServerEndpoints } from './authorization-server-endpoints.js'
import { type ServiceBearer, userCredential } from './bearer.js'
import { type HeaderCopy, setOnCopy } from './lane-headers.js'
import type { FollowRedirects } from './redirects.js'
import { type FetchLike, isAuthorizationServerRequest, isRedirect, type ServerOrigin } from './request.js'
import { RequestHeaders } from './request-headers.js'
import { noteSentCredential } from './sent-credentials.js'
import { setStaticHeaders } from './static-headers.js'
import { injectTraceContext } from './tracing.js'

/** Options of {@link fastLane}. */
export interface FastLaneOptions {
  readonly server: ServerOrigin
  readonly endpoints: AuthorizationServerEndpoints
  /** The OpenTelemetry of the auth fetch (trace context only: with `httpSpans` there is no lane). */
  readonly telemetry: Telemetry | undefined
  /** Static headers, lower-case names. */
  readonly staticHeaders: ReadonlyArray<readonly [string, string]>
  readonly cookieFilter: CookieFilter | undefined
  /** The bearer step's service token and its answer to challenges. */
  readonly service: ServiceBearer
  /** The redirects step's follower, for a redirect answer. */
  readonly follow: FollowRedirects
  /** The fetch underneath (the MCP server's TLS fetch for its origin). */
  readonly bottom: FetchLike
  /** The whole pipeline: every request the lane does not take goes there, untouched. */
  readonly pipeline: FetchLike
}

/**
 * The common MCP request in one step: a JSON message to the MCP server's URL space, with a
 * `follow` redirect mode, from the service (no user token in the context), whose token the
 * bearer step has in memory as a bearer token. It adds what the pipeline's steps add, in their
 * order (trace context and static headers with the steps' own functions, then the user's allowed
 * cookies and the bearer token, which replace the caller's under any spelling), to its own copy
 * of the caller's headers, and sends it in the same turn. Its answer is the pipeline's: a 401 or
 * 403 goes to the bearer step's own challenge handling, a redirect to the redirects step's
 * follower.
 *
 * Everything else goes to the whole pipeline untouched: a `Request` input, another origin, a
 * request for the authorization server (metadata, its endpoints, a body that is not JSON text),
 * a metadata document being read, another redirect mode, a user token, no token in memory, a
 * DPoP-bound token, an aborted signal. The lane is not made at all with header passthrough or
 * HTTP spans (see `buildAuthFetch`). It exists because each step of the pipeline costs a few
 * microseconds that a request a hundred times as long still notices (the performance guide has
 * the figures); the tests check it sends what the pipeline sends, request for request.
 */
export function fastLane(options: FastLaneOptions): FetchLike {
  const { server, endpoints, telemetry, staticHeaders, cookieFilter, service, follow, bottom, pipeline } =
    options
  const prefix = `${server.origin}/`
  // The last URL found not to be the authorization server's, and how many endpoints were known
  // then: an MCP client sends to one URL, so the check runs again only when either changes (a
  // JSON body never makes a request the authorization server's, only its URL does).
  let laneUrl: string | undefined
  let laneEndpoints = 0
  // The `Authorization` value of the last token sent (by the token's value: a provider may hand
  // out a new object for the same token): the service token serves requests for an hour, and one
  // string per token, not per request, reaches the fetch underneath, already flat.
  let authorizedValue: string | undefined
  let authorization = ''

  /**
   * The answer to a request the lane sent, when it is not the common one: a 401 or 403 to the
   * bearer step's challenge handling, a redirect to the redirects step's follower.
   */
  function uncommon(
    answer: Response,
    url: string,
    init: RequestInit | undefined,
    headers: HeaderCopy,
    sentToken: AccessToken,
  ): Response | Promise<Response> {
    const status = answer.status
    // As the pipeline has it: the caller's init in manual mode for the redirect follower, ours
    // (with the headers sent) for the bearer step.
    const manual: RequestInit = { ...init, redirect: 'manual' }
    if (status !== 401 && status !== 403) return follow(answer, url, manual)
    return service
      .answer(url, { ...manual, headers: RequestHeaders.from(headers) }, answer, sentToken)
      .then((final) => (isRedirect(final.status) ? follow(final, url, manual) : final))
  }

  return function laneOrPipeline(input, init) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined
    if (url === undefined) return pipeline(input, init)
    const body = init?.body
    // JSON text: an MCP message, never form-encoded (the authorization server's requests are).
    if (typeof body !== 'string' || (body.charCodeAt(0) !== 0x7b && body.charCodeAt(0) !== 0x5b))
      return pipeline(input, init)
    const mode = init?.redirect
    if ((mode !== undefined && mode !== 'follow') || init?.signal?.aborted === true)
      return pipeline(input, init)
    if (endpoints.pendingFor(url) !== undefined) return pipeline(input, init)
    const given = init?.headers
    if (url !== laneUrl || endpoints.size !== laneEndpoints) {
      if (
        !url.startsWith(prefix) ||
        isAuthorizationServerRequest(url, body, RequestHeaders.from(given), endpoints)
      )
        return pipeline(input, init)
      laneUrl = url
      laneEndpoints = endpoints.size
    }
    const context = currentUserContext()
    if (userCredential(context) !== undefined) return pipeline(input, init)

    // Our own copy of the caller's headers for the fetch underneath (a request that turns out not
    // to be the lane's goes to the pipeline with the caller's headers). Without static headers, a
    // plain record is copied as it is, undici lower-casing, trimming and combining its names as a
    // `Headers` would, and a `Headers` of this realm (what the SDK's transports pass) by undici's
    // own copy, the trace context set on the copy; with them, the steps work on the pipeline's
    // `RequestHeaders`, which becomes a record.
    const bySteps = staticHeaders.length > 0
    let headers: HeaderCopy
    let copied = true
    if (!bySteps && given instanceof Headers) headers = new Headers(given)
    else if (
      !bySteps &&
      typeof given === 'object' &&
      given !== null &&
      typeof (given as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
    ) {
      // A spread keeps an own `__proto__` an own property.
      headers = { ...(given as Record<string, string>) }
    } else {
      copied = false
      const steps = RequestHeaders.from(given)
      if (telemetry !== undefined) injectTraceContext(telemetry, steps)
      if (staticHeaders.length > 0) setStaticHeaders(steps, staticHeaders)
      headers = steps.toRecord() // ours from here on: `steps` is not used again
    }
    const replacesCookie = cookieFilter !== undefined && context !== undefined
    let token: ReturnType<ServiceBearer['cachedToken']>
    try {
      token = service.cachedToken(headers, init?.signal)
    } catch {
      token = undefined // the pipeline asks again, and fails as it fails
    }
    if (token === undefined) return pipeline(input, init)
    const sentToken = token
    noteSentCredential(sentToken.value)
    if (sentToken.value !== authorizedValue) {
      authorization = `Bearer ${sentToken.value}`
      authorizedValue = sentToken.value
    }

    let response: Promise<Response>
    try {
      // The steps' additions in their order, each replacing the caller's under any spelling. A
      // value a `Headers` copy refuses is this call's rejection, as the fetch underneath rejects
      // one in a record.
      if (copied && telemetry !== undefined) injectTraceContext(telemetry, headers)
      if (replacesCookie) setOnCopy(headers, 'cookie', cookieFilter(context.cookie))
      setOnCopy(headers, 'authorization', authorization)
      response = bottom(url, { ...init, redirect: 'manual', headers })
    } catch (error) {
      return Promise.reject(error)
    }
    // A small callback for the common answer; the rest in `uncommon`.
    return response.then((answer) =>
      isCommon(answer.status) ? answer : uncommon(answer, url, init, headers, sentToken),
    )
  }
}

/** Not a 401, a 403 or a redirect: the answer goes to the caller as it is. */
function isCommon(status: number): boolean {
  return status !== 401 && status !== 403 && !isRedirect(status)
}
