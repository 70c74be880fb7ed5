import { channel, tracingChannel } from 'node:diagnostics_channel'
import type { Attributes, Span } from '@opentelemetry/api'
import { safeUrl, serverAttributes } from './attributes.js'
import * as semconv from './semconv.js'
import type { SpanMark, Telemetry } from './telemetry.js'

// auth-core's diagnostics channels (its TOKEN_REQUEST_CHANNEL and TOKEN_CACHE_CHANNEL): the
// names are the contract, so this leaf file does not import the public constants.
const TOKEN_REQUEST_CHANNEL = 'mcp-oauth2:token-request'
const TOKEN_CACHE_CHANNEL = 'mcp-oauth2:token-cache'

/** What auth-core puts on a token request's context (see its `TokenRequestContext`). */
interface TokenRequestContext {
  grant: string
  endpoint: string
  scopes: readonly string[]
  reason: string
  attempts?: number
  outcome?: 'ok' | 'error'
  code?: string
  status?: number
  /** The OAuth `error` of a refusal (`invalid_client`). */
  oauthError?: string
  /** Set by the tracing channel: the error it failed with (never recorded: only its code). */
  error?: unknown
}

interface TokenCacheMessage {
  grant: string
  result: 'hit' | 'miss' | 'shared'
  scopes: readonly string[]
}

interface Pending {
  readonly span: Span
  readonly owner: Owner
  readonly started: number
}

interface Owner {
  readonly telemetry: Telemetry
  readonly attributes: Attributes
  readonly span: Span | undefined
}

const watchers = new Set<Telemetry>()
const pending = new WeakMap<object, Pending>()
let subscribed = false

/**
 * How often, while telemetry watches, whether any of it records is looked at again (a provider
 * registered later is found within this time), ms.
 */
export const RECORDING_RECHECK_MS = 1000
/** Whether the cache channel is subscribed: only while some telemetry records. */
let lookupsSubscribed = false
let recheck: ReturnType<typeof setInterval> | undefined

/** `client_credentials`, `token-exchange` (of `urn:ietf:params:oauth:grant-type:token-exchange`), … */
function shortGrant(grant: string): string {
  const at = grant.lastIndexOf(':')
  return at === -1 ? grant : grant.slice(at + 1)
}

/**
 * Who reports a token request or lookup: the telemetry whose span is active (it marked the
 * context), else the first one on the global providers (a request outside our spans: a
 * background refresh, your own call of a provider), else nobody.
 */
function owner(): Owner | undefined {
  for (const telemetry of watchers) {
    const mark: SpanMark | undefined = telemetry.activeMark()
    if (mark && watchers.has(mark.telemetry)) return mark
    break
  }
  for (const telemetry of watchers) {
    if (telemetry.global) return { telemetry, attributes: {}, span: undefined }
  }
  return undefined
}

function guarded<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args)
    } catch {
      // An observer must never break a token request (diagnostics_channel rethrows on next tick).
    }
  }
}

function start(message: unknown): void {
  const ctx = message as TokenRequestContext
  const who = owner()
  if (!who) return
  const { telemetry } = who
  const { api } = telemetry
  let endpoint: URL | undefined
  try {
    endpoint = new URL(ctx.endpoint)
  } catch {
    endpoint = undefined
  }
  const span = telemetry.tracer.startSpan(
    `oauth2.token ${shortGrant(ctx.grant)}`,
    {
      kind: api.SpanKind.CLIENT,
      attributes: {
        [semconv.ATTR_HTTP_REQUEST_METHOD]: 'POST',
        [semconv.ATTR_URL_FULL]: safeUrl(ctx.endpoint),
        ...(endpoint ? serverAttributes(endpoint) : {}),
        [semconv.ATTR_TOKEN_GRANT_TYPE]: ctx.grant,
        [semconv.ATTR_TOKEN_REASON]: ctx.reason,
        [semconv.ATTR_TOKEN_SCOPES]: [...ctx.scopes],
        [semconv.ATTR_TOKEN_CACHE]: 'miss',
        ...who.attributes,
      },
    },
    api.context.active(),
  )
  pending.set(ctx, { span, owner: who, started: performance.now() })
}

function end(message: unknown): void {
  const ctx = message as TokenRequestContext
  const entry = pending.get(ctx)
  if (!entry) return
  pending.delete(ctx)
  const { span, owner: who, started } = entry
  const { telemetry } = who
  const failed = ctx.outcome === 'error' || (ctx.outcome === undefined && ctx.error !== undefined)
  const errorType = failed ? (ctx.code ?? '_OTHER') : undefined
  if (ctx.attempts !== undefined) {
    span.setAttribute(semconv.ATTR_TOKEN_ATTEMPTS, ctx.attempts)
    if (ctx.attempts > 1) span.setAttribute(semconv.ATTR_HTTP_REQUEST_RESEND_COUNT, ctx.attempts - 1)
  }
  span.setAttribute(semconv.ATTR_TOKEN_OUTCOME, failed ? 'error' : 'ok')
  if (ctx.status !== undefined) span.setAttribute(semconv.ATTR_HTTP_RESPONSE_STATUS_CODE, ctx.status)
  // The OAuth `error` code of a refusal (`invalid_client`): a registered word, not a value.
  if (typeof ctx.oauthError === 'string' && /^[\x20-\x7e]{1,64}$/.test(ctx.oauthError))
    span.setAttribute(semconv.ATTR_OAUTH_ERROR, ctx.oauthError)
  if (errorType) telemetry.fail(span, errorType)
  span.end()
  const attributes: Attributes = {
    [semconv.ATTR_TOKEN_GRANT_TYPE]: ctx.grant,
    [semconv.ATTR_TOKEN_OUTCOME]: failed ? 'error' : 'ok',
    ...(errorType ? { [semconv.ATTR_ERROR_TYPE]: errorType } : {}),
    ...who.attributes,
  }
  const metrics = telemetry.metrics
  metrics.tokenRequests.add(1, attributes)
  metrics.tokenDuration.record((performance.now() - started) / 1000, attributes)
}

function lookup(message: unknown): void {
  const { grant, result } = message as TokenCacheMessage
  const who = owner()
  if (!who) return
  who.span?.setAttribute(semconv.ATTR_TOKEN_CACHE, result)
  const metrics = who.telemetry.metrics
  // Every cache hit comes here: nothing more to do while no meter provider records.
  if (!metrics.recording) return
  metrics.cacheLookups.add(1, {
    [semconv.ATTR_TOKEN_CACHE]: result,
    [semconv.ATTR_TOKEN_GRANT_TYPE]: grant,
    ...who.attributes,
  })
}

/**
 * Reports auth-core's token requests (spans `oauth2.token <grant>`, metrics) and cache lookups
 * (metrics, and `mcp_oauth2.token.cache` on the active span of ours) for `telemetry`. The
 * channels are subscribed once per process, when the first telemetry is made.
 */
export function watchTokenChannels(telemetry: Telemetry): void {
  watchers.add(telemetry)
  if (!subscribed) {
    subscribed = true
    tracingChannel(TOKEN_REQUEST_CHANNEL).subscribe({
      start: guarded(start),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: guarded(end),
      error: () => {},
    })
  }
  updateLookups()
}

/** Stops reporting for `telemetry` (the manager or auth fetch that made it is closed). */
export function unwatchTokenChannels(telemetry: Telemetry): void {
  watchers.delete(telemetry)
  updateLookups()
}

const onLookup = guarded(lookup)

/**
 * Refreshes every watcher's view of the global providers (`Telemetry.refresh`). Every cache hit
 * publishes on the cache channel while someone subscribes to it, so it is subscribed only while
 * some telemetry records: with `@opentelemetry/api` installed but no SDK
 * registered (the default), a hit costs no message and no handler. Looked at again every
 * {@link RECORDING_RECHECK_MS} while anyone watches (an unref'd timer, gone with the last watcher).
 */
function updateLookups(): void {
  // Every watcher is refreshed, not only up to the first that records: each keeps its own view
  // of the propagator.
  let wanted = false
  for (const telemetry of watchers) {
    let records: boolean
    try {
      records = telemetry.refresh()
    } catch {
      records = true // a provider that throws when asked: report, as before
    }
    wanted ||= records
  }
  if (wanted !== lookupsSubscribed) {
    lookupsSubscribed = wanted
    if (wanted) channel(TOKEN_CACHE_CHANNEL).subscribe(onLookup)
    else channel(TOKEN_CACHE_CHANNEL).unsubscribe(onLookup)
  }
  if (watchers.size > 0 && recheck === undefined) {
    recheck = setInterval(updateLookups, RECORDING_RECHECK_MS)
    recheck.unref?.()
  } else if (watchers.size === 0 && recheck !== undefined) {
    clearInterval(recheck)
    recheck = undefined
  }
}
