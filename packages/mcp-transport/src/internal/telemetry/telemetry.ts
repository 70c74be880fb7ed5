import type {
  Attributes,
  Context,
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  Span,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api'
import { type LoadModule, loadOtelApi, type OtelApi } from './otel-api.js'
import * as semconv from './semconv.js'

/** The name and version our tracer and meter report (the instrumentation scope). */
export const SCOPE_NAME = '@mcp-oauth2/mcp-transport'
export const SCOPE_VERSION = '0.1.0'

/**
 * OpenTelemetry settings of the manager and the auth fetch (`telemetry`). Spans and metrics are
 * on whenever `@opentelemetry/api` is installed (an optional peer); without it nothing is
 * loaded. `false` turns them off.
 */
export interface TelemetryOptions {
  /**
   * The tracer provider (an SDK `TracerProvider`, or anything with `getTracer`).
   * @default the global one (`trace.setGlobalTracerProvider`), looked up at each span
   */
  tracerProvider?: { getTracer(name: string, version?: string): unknown } | undefined
  /**
   * The meter provider (an SDK `MeterProvider`, or anything with `getMeter`).
   * @default the global one (`metrics.setGlobalMeterProvider`)
   */
  meterProvider?: { getMeter(name: string, version?: string): unknown } | undefined
  /**
   * Send W3C trace context (`traceparent`, `tracestate`, through the global propagator) on
   * requests to the MCP server's origin. Never to any other origin, and not to the
   * authorization server unless `propagateToAuthorizationServer`.
   * @default true
   */
  propagateTraceContext?: boolean | undefined
  /**
   * Also send trace context on the token requests of the token providers `fromConfig` builds.
   * @default false
   */
  propagateToAuthorizationServer?: boolean | undefined
  /**
   * Also an HTTP client span per request to the MCP server, under the MCP span (`tools/call …`,
   * `initialize`, `tools/list`), for applications that do not trace fetch with an HTTP
   * instrumentation already. Costs about 10 µs per request with the SDK recording.
   * @default false
   */
  httpSpans?: boolean | undefined
}

/** What our spans leave in the context for the token channels: who is asking, and the span. */
export interface SpanMark {
  readonly telemetry: Telemetry
  /** Per-server metric attributes (`mcp_oauth2.server.name`, `server.address`). */
  readonly attributes: Attributes
  /** The span a token-cache lookup belongs to. */
  readonly span: Span | undefined
}

interface Instruments {
  readonly provider: unknown
  /**
   * Whether the meter records anything: `false` for the API's no-op meter (no meter provider
   * registered), so that hot paths can skip building attributes for nothing.
   */
  readonly recording: boolean
  readonly operationDuration: Histogram
  readonly tokenRequests: Counter
  readonly tokenDuration: Histogram
  readonly cacheLookups: Counter
  readonly unauthorizedRetries: Counter
  readonly stepUps: Counter
  readonly scopeDenials: Counter
  readonly rateLimited: Counter
  readonly storeOutages: Counter
}

const noopTracerProviders = new WeakMap<OtelApi, unknown>()

/** The API's no-op tracer provider: what a proxy delegates to while no provider is registered. */
function noopTracerProvider(api: OtelApi): unknown {
  let noop = noopTracerProviders.get(api)
  if (noop === undefined) {
    noop = new api.ProxyTracerProvider().getDelegate()
    noopTracerProviders.set(api, noop)
  }
  return noop
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`"telemetry.${name}" must be a boolean`)
  return value
}

/**
 * Tracing and metrics over `@opentelemetry/api`: the tracer, the instruments (made again when
 * the global meter provider changes, since the metrics API has no proxy), and the context key
 * our spans mark. One per manager (shared by its servers' auth fetches) or per auth fetch.
 */
export class Telemetry {
  readonly api: OtelApi
  readonly propagate: boolean
  readonly propagateToAuthorizationServer: boolean
  readonly httpSpans: boolean
  readonly #tracerProvider: TracerProvider | undefined
  readonly #meterProvider: MeterProvider | undefined
  #tracer: { readonly provider: unknown; readonly tracer: Tracer } | undefined
  #instruments: Instruments | undefined
  #propagatorSets = true

  /**
   * The telemetry for `options`, or `undefined` when it is off (`false`) or
   * `@opentelemetry/api` is not installed. Bad options throw a `TypeError` naming them. (Use
   * `createTelemetry`, which also reports the token channels.)
   */
  static resolve(options: TelemetryOptions | false | undefined, load?: LoadModule): Telemetry | undefined {
    if (options === false) return undefined
    if (options !== undefined && (typeof options !== 'object' || options === null))
      throw new TypeError('"telemetry" must be an object or false')
    const resolved = options ?? {}
    if (
      resolved.tracerProvider !== undefined &&
      typeof (resolved.tracerProvider as { getTracer?: unknown })?.getTracer !== 'function'
    )
      throw new TypeError('"telemetry.tracerProvider" must have getTracer()')
    if (
      resolved.meterProvider !== undefined &&
      typeof (resolved.meterProvider as { getMeter?: unknown })?.getMeter !== 'function'
    )
      throw new TypeError('"telemetry.meterProvider" must have getMeter()')
    const api = loadOtelApi(load)
    if (api === null) return undefined
    return new Telemetry(api, resolved)
  }

  private constructor(api: OtelApi, options: TelemetryOptions) {
    this.api = api
    this.propagate = booleanOption(options.propagateTraceContext, 'propagateTraceContext', true)
    this.propagateToAuthorizationServer = booleanOption(
      options.propagateToAuthorizationServer,
      'propagateToAuthorizationServer',
      false,
    )
    this.httpSpans = booleanOption(options.httpSpans, 'httpSpans', false)
    this.#tracerProvider = options.tracerProvider as TracerProvider | undefined
    this.#meterProvider = options.meterProvider as MeterProvider | undefined
  }

  /** Whether the spans and metrics go to the global providers (then it reports token requests made outside our spans). */
  get global(): boolean {
    return this.#tracerProvider === undefined
  }

  /**
   * Our tracer: the given provider's, or the global provider's, looked up again when the global
   * one changes (a copy of the API loaded elsewhere registers its own proxy, which ours would not
   * follow).
   */
  get tracer(): Tracer {
    const provider = this.#tracerProvider ?? this.api.trace.getTracerProvider()
    if (this.#tracer?.provider !== provider)
      this.#tracer = { provider, tracer: provider.getTracer(SCOPE_NAME, SCOPE_VERSION) }
    return this.#tracer.tracer
  }

  /**
   * Whether the global propagator sets any header (`fields()`; the API's no-op propagator, there
   * while none is registered, names none), as of the last {@link Telemetry.refresh}: while it
   * sets none, MCP requests skip the inject call.
   */
  get propagatorSets(): boolean {
    return this.#propagatorSets
  }

  /**
   * Looks again at the global propagator ({@link Telemetry.propagatorSets}) and answers
   * {@link Telemetry.recording}. Called when the telemetry is made and then about once a second
   * while it is in use (see `watchTokenChannels`), never per request.
   */
  refresh(): boolean {
    try {
      this.#propagatorSets = this.api.propagation.fields().length > 0
    } catch {
      this.#propagatorSets = true // a propagator that fails to say: inject, as before
    }
    return this.recording
  }

  /**
   * Whether anything this telemetry reports is recorded: a provider was given, or a global meter
   * or tracer provider is registered (the API's no-op ones record nothing). Cheap, but not free:
   * looked at now and then, not per request.
   */
  get recording(): boolean {
    if (this.#tracerProvider !== undefined || this.#meterProvider !== undefined) return true
    if (this.metrics.recording) return true
    const provider = this.api.trace.getTracerProvider() as TracerProvider & { getDelegate?(): unknown }
    return (provider.getDelegate?.() ?? provider) !== noopTracerProvider(this.api)
  }

  /** The instruments, made from the current meter provider. */
  get metrics(): Instruments {
    const provider = this.#meterProvider ?? this.api.metrics.getMeterProvider()
    if (this.#instruments?.provider === provider) return this.#instruments
    const meter: Meter = provider.getMeter(SCOPE_NAME, SCOPE_VERSION)
    const seconds = (name: string, description: string, buckets: readonly number[]) =>
      meter.createHistogram(name, {
        description,
        unit: 's',
        advice: { explicitBucketBoundaries: [...buckets] },
      })
    this.#instruments = {
      provider,
      recording: meter !== this.api.createNoopMeter(),
      operationDuration: seconds(
        semconv.METRIC_MCP_CLIENT_OPERATION_DURATION,
        'Duration of MCP requests (tool calls), as the client sees them',
        semconv.MCP_DURATION_BUCKETS,
      ),
      tokenRequests: meter.createCounter(semconv.METRIC_TOKEN_REQUESTS, {
        description: 'Token requests sent to the authorization server',
        unit: '{request}',
      }),
      tokenDuration: seconds(
        semconv.METRIC_TOKEN_DURATION,
        'Duration of token requests, retries included',
        semconv.HTTP_DURATION_BUCKETS,
      ),
      cacheLookups: meter.createCounter(semconv.METRIC_TOKEN_CACHE_LOOKUPS, {
        description: 'Token lookups by result: hit (in memory), miss (a request), shared (the token store)',
        unit: '{lookup}',
      }),
      unauthorizedRetries: meter.createCounter(semconv.METRIC_UNAUTHORIZED_RETRIES, {
        description: 'MCP requests answered 401 and retried once with a new token',
        unit: '{retry}',
      }),
      stepUps: meter.createCounter(semconv.METRIC_STEP_UPS, {
        description: 'MCP requests answered 403 insufficient_scope and retried with more scopes',
        unit: '{retry}',
      }),
      scopeDenials: meter.createCounter(semconv.METRIC_SCOPE_DENIALS, {
        description: 'Tool calls the pre-flight scope check refused',
        unit: '{call}',
      }),
      rateLimited: meter.createCounter(semconv.METRIC_RATE_LIMITED, {
        description: 'Tool calls a rate limit refused',
        unit: '{call}',
      }),
      storeOutages: meter.createCounter(semconv.METRIC_STORE_OUTAGES, {
        description: 'Times a shared store (Redis) stopped answering',
        unit: '{outage}',
      }),
    }
    return this.#instruments
  }

  /** `context` with our mark. */
  mark(context: Context, mark: Omit<SpanMark, 'telemetry'>): Context {
    return context.setValue(MARK, { telemetry: this, ...mark } satisfies SpanMark)
  }

  /** The mark of the active context, if one of our spans set it. */
  activeMark(): SpanMark | undefined {
    return this.api.context.active().getValue(MARK) as SpanMark | undefined
  }

  /** Counts what the manager's events tell: scope denials, rate-limit refusals, store outages. */
  observe(event: {
    readonly type: string
    readonly server?: string | undefined
    readonly reason?: string
    readonly scope?: string
    readonly store?: string
    readonly state?: string
  }): void {
    const server = event.server === undefined ? {} : { [semconv.ATTR_SERVER_NAME]: event.server }
    switch (event.type) {
      case 'denied':
        this.metrics.scopeDenials.add(1, { ...server, [semconv.ATTR_DENIAL_REASON]: event.reason ?? '' })
        break
      case 'rate_limited':
        this.metrics.rateLimited.add(1, { ...server, [semconv.ATTR_RATE_LIMIT_SCOPE]: event.scope ?? '' })
        break
      case 'store':
        if (event.state === 'unavailable')
          this.metrics.storeOutages.add(1, { [semconv.ATTR_STORE]: event.store ?? '' })
        break
    }
  }

  /** Counts a 401 retry or a step-up, and marks the active span of ours. */
  authRetried(
    retry: { readonly reason: 'invalid_token' | 'insufficient_scope' },
    attributes: Attributes,
  ): void {
    const metrics = this.metrics
    if (retry.reason === 'invalid_token') metrics.unauthorizedRetries.add(1, attributes)
    else metrics.stepUps.add(1, attributes)
    const span = this.activeMark()?.span
    span?.setAttribute(semconv.ATTR_AUTH_RETRY, retry.reason)
    span?.setAttribute(semconv.ATTR_HTTP_REQUEST_RESEND_COUNT, 1)
  }

  /** Sets `error.type` and the error status (the description is the code: never a message that could carry data). */
  fail(span: Span, errorType: string): void {
    span.setAttribute(semconv.ATTR_ERROR_TYPE, errorType)
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: errorType })
  }
}

// Shared by every copy of this module in a process (the key must be the same object).
const MARK = Symbol.for('mcp-oauth2.telemetry.mark')
