import type { AccessToken, CookieFilter } from '@mcp-oauth2/auth-core'
import type { Telemetry } from '../telemetry/telemetry.js'
import { currentUserContext } from '../user-context-store.js'
import type { AuthorizationServerEndpoints } from './authorization-server-endpoints.js'
import type { ServiceBearer } from './bearer.js'
import type { FollowRedirects } from './redirects.js'
import {
  type FetchLike,
  type HeaderReader,
  isAuthorizationServerRequest,
  REDIRECT_STATUS,
  type ServerOrigin,
} from './request.js'
import { RequestHeaders } from './request-headers.js'
import { noteSentCredential } from './sent-credentials.js'
import { toolOfRequest } from './tool-of-request.js'

/** Options of {@link fastLane}. */
export interface FastLaneOptions {
  readonly server: ServerOrigin
  readonly endpoints: AuthorizationServerEndpoints
  /** The OpenTelemetry of the auth fetch (trace context only: with `httpSpans` there is no lane). */
  readonly telemetry: Telemetry | undefined
  /** Static headers, lower-case names (none named `__proto__`: there is no lane then). */
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
 * Reads a record of lower-case names and clean values as `Headers` would be read (lower-case
 * names only). One for all requests: it is pointed at a record and read in the same turn, by
 * functions that keep nothing of it.
 */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>
const reader: HeaderReader & { headers: Record<string, string> } = {
  headers: NO_HEADERS,
  get(name) {
    return Object.hasOwn(this.headers, name) ? (this.headers[name] as string) : null
  },
}

/** Tab, line feed, carriage return or space (HTTP whitespace, Fetch §2.2). */
function isHttpWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

/**
 * The caller's headers as a fresh record of lower-case names, when that takes one copy: none, a
 * `Headers`, or a plain record whose names are lower case and whose values are strings without
 * outer whitespace. `undefined` for anything else (the pipeline normalises those).
 */
function headerRecord(init: HeadersInit | undefined): Record<string, string> | undefined {
  if (init === undefined) return {}
  if (init instanceof Headers) {
    const record: Record<string, string> = {}
    // Names come in lower case, values normalised.
    init.forEach((value, name) => {
      setHeader(record, name, value)
    })
    return record
  }
  if (Object.getPrototypeOf(init) !== Object.prototype) return undefined
  const record = { ...(init as Record<string, unknown>) }
  for (const name of Object.keys(record)) {
    const value = record[name]
    if (typeof value !== 'string') return undefined
    const last = value.length - 1
    if (last >= 0 && (isHttpWhitespace(value.charCodeAt(0)) || isHttpWhitespace(value.charCodeAt(last))))
      return undefined
    for (let i = 0; i < name.length; i++) {
      const code = name.charCodeAt(i)
      if (code >= 0x41 && code <= 0x5a) return undefined
    }
  }
  return record as Record<string, string>
}

/**
 * `value`, flattened: V8 keeps a concatenated string as a tree until something reads it by
 * index, and undici's header checks read every character; one read here makes it one flat string.
 */
function flat(value: string): string {
  value.charCodeAt(0)
  return value
}

/** Sets a header on a record: `__proto__` (a valid header name) as an own property. */
function setHeader(record: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__')
    Object.defineProperty(record, name, { value, enumerable: true, writable: true, configurable: true })
  else record[name] = value
}

const recordSetter = {
  set(carrier: Record<string, string>, key: string, value: string): void {
    setHeader(carrier, key.toLowerCase(), value)
  },
}

/**
 * The common MCP request in one step: a JSON message to the MCP server's URL space, with a
 * `follow` redirect mode, from the service (no user token in the context), whose token the
 * bearer step has in memory and which is not DPoP-bound. It adds what the pipeline's steps add,
 * in their order (trace context, static headers, the user's allowed cookies, the bearer token),
 * to one record of headers, and sends it in the same turn. Its answer is the pipeline's: a 401
 * or 403 goes to the bearer step's own challenge handling, a redirect to the redirects step's
 * follower.
 *
 * Everything else goes to the whole pipeline untouched: a `Request` input, another origin, a
 * request for the authorization server (metadata, its endpoints, a body that is not JSON text),
 * a metadata document being read, another redirect mode, headers that need normalising, a user
 * token, no token in memory, a DPoP-bound token, an aborted signal. The lane is not made at all
 * with header passthrough, HTTP spans or a static header named `__proto__` (see `buildAuthFetch`).
 * It exists because each step of the pipeline costs a few microseconds that a request a hundred
 * times as long still notices (the performance guide has the figures); the tests check it sends
 * what the pipeline sends, request for request.
 */
export function fastLane(options: FastLaneOptions): FetchLike {
  const { server, endpoints, telemetry, staticHeaders, cookieFilter, service, follow, bottom, pipeline } =
    options
  const prefix = `${server.origin}/`
  let lastToken: AccessToken | undefined
  let lastAuthorization = ''
  return function laneOrPipeline(input, init) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined
    if (url === undefined || !url.startsWith(prefix)) return pipeline(input, init)
    const body = init?.body
    // JSON text: an MCP message, never form-encoded (the authorization server's requests are).
    if (typeof body !== 'string' || (body.charCodeAt(0) !== 0x7b && body.charCodeAt(0) !== 0x5b))
      return pipeline(input, init)
    const mode = init?.redirect
    if ((mode !== undefined && mode !== 'follow') || init?.signal?.aborted === true)
      return pipeline(input, init)
    if (endpoints.pendingFor(url) !== undefined) return pipeline(input, init)
    const headers = headerRecord(init?.headers)
    if (headers === undefined) return pipeline(input, init)
    reader.headers = headers
    const forAuthorizationServer = isAuthorizationServerRequest(url, body, reader, endpoints)
    reader.headers = NO_HEADERS // keeps no request's headers after its turn
    if (forAuthorizationServer) return pipeline(input, init)
    const context = currentUserContext()
    if (context !== undefined && (context.subjectToken !== undefined || context.idToken !== undefined))
      return pipeline(input, init)

    // What the steps above the bearer step add, in their order, to our own copy (a request that
    // turns out not to be the lane's goes to the pipeline with the caller's headers).
    if (telemetry?.propagate === true && telemetry.propagatorSets) {
      const { api } = telemetry
      api.propagation.inject(api.context.active(), headers, recordSetter)
    }
    for (const [name, value] of staticHeaders) headers[name] = value
    if (cookieFilter !== undefined && context !== undefined) {
      const cookie = cookieFilter(context.cookie)
      if (cookie === undefined) delete headers['cookie']
      else headers['cookie'] = flat(cookie)
    }
    // The bearer step's part: the token it has in memory for this request's tool.
    reader.headers = headers
    const tool = toolOfRequest(reader)
    reader.headers = NO_HEADERS
    let token: AccessToken | undefined
    try {
      token = service.cachedToken(tool, init?.signal ?? undefined)
    } catch {
      token = undefined // the pipeline asks again, and fails as it fails
    }
    if (token === undefined || (token.tokenType !== 'Bearer' && token.tokenType.toLowerCase() === 'dpop'))
      return pipeline(input, init)
    noteSentCredential(token.value)
    if (token !== lastToken) {
      lastToken = token
      lastAuthorization = flat(`Bearer ${token.value}`)
    }
    headers['authorization'] = lastAuthorization

    let response: Promise<Response>
    try {
      response = bottom(url, { ...init, redirect: 'manual', headers })
    } catch (error) {
      return Promise.reject(error)
    }
    const sentToken = token
    return response.then((answer) => {
      if (answer.status !== 401 && answer.status !== 403 && !REDIRECT_STATUS.has(answer.status)) return answer
      // As the pipeline has it: the caller's init in manual mode for the redirect follower, ours
      // (with the headers sent) for the bearer step.
      const manual: RequestInit = { ...init, redirect: 'manual' }
      if (answer.status !== 401 && answer.status !== 403) return follow(answer, url, manual)
      const sent = { ...manual, headers: RequestHeaders.from(headers) }
      return service
        .answer(url, sent, answer, sentToken, tool)
        .then((final) => (REDIRECT_STATUS.has(final.status) ? follow(final, url, manual) : final))
    })
  }
}
