// The real OpenTelemetry SDK (3.x) with in-memory exporters, for the telemetry tests: a tracer
// provider and a meter provider passed to the code under test (no global providers), plus the
// global context manager and W3C propagator, which the API needs for active spans and inject().
import { channel } from 'node:diagnostics_channel'
import {
  type AccessToken,
  ClientCredentialsTokenProvider,
  type ClientCredentialsTokenProviderOptions,
  type GetTokenOptions,
  TOKEN_CACHE_CHANNEL,
  type TokenProvider,
} from '@mcp-oauth2/auth-core'
import { context, propagation } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { publishTokenCache, traceTokenRequest } from '../../../auth-core/src/internal/diagnostics.js'

class PullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** One data point, flattened. */
export interface Point {
  readonly name: string
  readonly attributes: Record<string, unknown>
  /** A counter's sum, or a histogram's count. */
  readonly value: number
}

export interface Otel {
  readonly exporter: InMemorySpanExporter
  readonly tracerProvider: TracerProvider
  readonly meterProvider: MeterProvider
  spans(): ReadableSpan[]
  points(): Promise<Point[]>
  /** The sum of `name`'s points whose attributes contain `match`. */
  sum(name: string, match?: Record<string, unknown>): Promise<number>
  shutdown(): Promise<void>
}

export function startOtel(): Otel {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  const reader = new PullReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const points = async (): Promise<Point[]> => {
    const { resourceMetrics } = await reader.collect()
    const out: Point[] = []
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const dp of metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]) {
          const value =
            typeof dp.value === 'number' ? dp.value : ((dp.value as { count?: number }).count ?? 0)
          out.push({ name: metric.descriptor.name, attributes: dp.attributes, value })
        }
      }
    }
    return out
  }
  return {
    exporter,
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    points,
    async sum(name, match = {}) {
      return (await points())
        .filter((p) => p.name === name && Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        .reduce((total, p) => total + p.value, 0)
    },
    async shutdown() {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
      context.disable()
      propagation.disable()
    },
  }
}

/** Whether auth-core's token providers already publish their cache lookups. */
async function providersPublish(options: ClientCredentialsTokenProviderOptions): Promise<boolean> {
  let seen = false
  const listener = () => {
    seen = true
  }
  channel(TOKEN_CACHE_CHANNEL).subscribe(listener)
  try {
    await new ClientCredentialsTokenProvider(options).getToken()
  } finally {
    channel(TOKEN_CACHE_CHANNEL).unsubscribe(listener)
  }
  return seen
}

/**
 * A client-credentials provider that publishes on auth-core's diagnostics channels. Once
 * auth-core's providers publish themselves, it is that provider as it is; until then, it wraps
 * one and publishes as they will, with auth-core's own publishing functions.
 */
export async function publishingProvider(
  options: ClientCredentialsTokenProviderOptions,
): Promise<TokenProvider> {
  const inner = new ClientCredentialsTokenProvider(options)
  if (await providersPublish(options)) return inner
  let cached: AccessToken | undefined
  return {
    async getToken(getOptions?: GetTokenOptions): Promise<AccessToken> {
      const scopes = [...(getOptions?.scopes ?? options.scope ?? [])]
      const wanted = getOptions?.scopes
      if (cached && cached.expiresAt > Date.now() + 60_000 && wanted === undefined) {
        const hit = cached
        publishTokenCache(() => ({ grant: 'client_credentials', result: 'hit', scopes }))
        return hit
      }
      publishTokenCache(() => ({ grant: 'client_credentials', result: 'miss', scopes }))
      const trace = {
        grant: 'client_credentials',
        endpoint: String(options.tokenUrl),
        scopes,
        reason: cached ? ('expired' as const) : ('cold' as const),
      } as Parameters<typeof traceTokenRequest>[0] & { attempts?: number; outcome?: 'ok' | 'error' }
      let token: AccessToken | undefined
      await traceTokenRequest(trace, () =>
        inner.getToken(getOptions).then(
          (t) => {
            token = t
            trace.attempts = 1
            trace.outcome = 'ok'
          },
          (error: unknown) => {
            trace.outcome = 'error'
            throw error
          },
        ),
      )
      if (wanted === undefined) cached = token
      return token as AccessToken
    },
    invalidate(rejected?: string): void {
      if (rejected === undefined || cached?.value === rejected) cached = undefined
      inner.invalidate(rejected)
    },
  }
}
