/**
 * The token providers' side of the diagnostics channels (see ../diagnostics.ts): published the
 * way undici does, on Node's `diagnostics_channel` looked up at run time (no `node:` import, so
 * the root entry stays runtime-agnostic), free when nobody subscribes, absent where
 * `diagnostics_channel` does not exist.
 *
 * `mcp-oauth2:token-request` is a `TracingChannel`: `start` fires synchronously in the caller's
 * async context when a provider sends a request to the authorization server (an observer can
 * parent a span on the active one), `asyncEnd` when it settled, `error` when it failed.
 */

/** The TracingChannel name of token requests. */
export const TOKEN_REQUEST_CHANNEL = 'mcp-oauth2:token-request'

/** The channel name of token-cache lookups (a plain channel: one message per `getToken`). */
export const TOKEN_CACHE_CHANNEL = 'mcp-oauth2:token-cache'

/** The context of one token request, filled in as it runs (no secret or token values). */
export interface TokenRequestContext {
  /** The OAuth grant: `client_credentials`, `urn:ietf:params:oauth:grant-type:token-exchange`, … */
  grant: string
  /** The token endpoint, without query or fragment. */
  endpoint: string
  /** The scopes asked for. */
  scopes: readonly string[]
  /** Why the request was made. */
  reason: 'cold' | 'expired' | 'refresh' | 'step_up' | 'invalidated'
  /** Set when it settled: how many HTTP attempts it took. */
  attempts?: number
  /** Set when it settled. */
  outcome?: 'ok' | 'error'
  /** Our error code when it failed (`ERR_OAUTH_ERROR_RESPONSE`, `ERR_TIMEOUT`, …). */
  code?: string
  /** The HTTP status of the last attempt, when there was a response. */
  status?: number
  /** The OAuth `error` of a failed request (`invalid_client`, …). */
  oauthError?: string
  /**
   * Set by the tracing channel when the request failed: the error it failed with (typed, without
   * secrets). The successful result is never published (`result` stays unset).
   */
  error?: unknown
  /** Set by the tracing channel on success; the providers resolve the traced call to nothing. */
  result?: unknown
}

/** One token-cache lookup. */
export interface TokenCacheMessage {
  grant: string
  /** `hit`: served from memory; `miss`: a request follows (or is joined); `shared`: read from the token store. */
  result: 'hit' | 'miss' | 'shared'
  scopes: readonly string[]
}

interface ChannelLike {
  readonly hasSubscribers: boolean
  publish(message: unknown): void
}

interface TracingChannelLike {
  readonly hasSubscribers: boolean
  tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>
}

interface DiagnosticsChannelModule {
  channel(name: string): ChannelLike
  tracingChannel(name: string): TracingChannelLike
}

function loadModule(): DiagnosticsChannelModule | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return proc?.getBuiltinModule?.('node:diagnostics_channel') as DiagnosticsChannelModule | undefined
  } catch {
    return undefined
  }
}

const dc = loadModule()
const requests = dc?.tracingChannel(TOKEN_REQUEST_CHANNEL)
const cache = dc?.channel(TOKEN_CACHE_CHANNEL)

/**
 * Runs `request` as one traced token request: subscribers see `start` now and `asyncEnd` (or
 * `error`) when it settles. Without subscribers it only calls `request`.
 *
 * @example
 * const token = await traceTokenRequest({ grant: 'client_credentials', endpoint, scopes, reason: 'cold' }, () => send())
 */
export function traceTokenRequest<T>(context: TokenRequestContext, request: () => Promise<T>): Promise<T> {
  if (!requests?.hasSubscribers) return request()
  return requests.tracePromise(request, context)
}

/**
 * Whether anybody listens to cache lookups: the hot path asks this first, so that without a
 * subscriber it allocates nothing.
 */
export function tokenCacheObserved(): boolean {
  return cache?.hasSubscribers === true
}

/**
 * Publishes one cache lookup when somebody listens; nothing is allocated otherwise (build the
 * message in the callback).
 *
 * @example
 * publishTokenCache(() => ({ grant: 'client_credentials', result: 'hit', scopes }))
 */
export function publishTokenCache(message: () => TokenCacheMessage): void {
  if (cache?.hasSubscribers) cache.publish(message())
}
