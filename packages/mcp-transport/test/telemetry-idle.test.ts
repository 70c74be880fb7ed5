// OpenTelemetry installed but not set up (no SDK registered, no providers given): the auth fetch
// does no telemetry work per request (no token-cache messages, no inject call), and picks up a
// meter provider and a propagator registered later, within about a second.
import { channel } from 'node:diagnostics_channel'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ClientCredentialsTokenProvider, TOKEN_CACHE_CHANNEL } from '@mcp-oauth2/auth-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAuthFetch } from '../src/auth-fetch.js'
import { RECORDING_RECHECK_MS } from '../src/internal/telemetry/token-channels.js'
import {
  AsyncLocalStorageContextManager,
  context,
  MeterProvider,
  metrics,
  propagation,
  TracerProvider,
  trace,
  W3CTraceContextPropagator,
} from './support/otel-sdk.js'

const traceparents: (string | undefined)[] = []
let server: Server
let base = ''
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url !== '/token') traceparents.push(req.headers.traceparent as string | undefined)
      res.setHeader('content-type', 'application/json')
      res.end(
        req.url === '/token'
          ? JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 3600 })
          : '{}',
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterEach(() => {
  metrics.disable()
  propagation.disable()
  context.disable()
  trace.disable()
  traceparents.length = 0
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** Until the recheck timer has run at least once more than now (it runs every RECORDING_RECHECK_MS). */
async function untilSubscribed(): Promise<void> {
  const started = Date.now()
  while (!channel(TOKEN_CACHE_CHANNEL).hasSubscribers && Date.now() - started < RECORDING_RECHECK_MS * 3)
    await new Promise((resolve) => setTimeout(resolve, 50))
}

/** A token provider against the test server. */
function tokenProvider(): ClientCredentialsTokenProvider {
  return new ClientCredentialsTokenProvider({ tokenUrl: `${base}/token`, clientId: 'c', clientSecret: 's' })
}

/** One MCP request through `fetch`, read to the end. */
function post(fetch: (url: string, init: RequestInit) => Promise<Response>): Promise<string> {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  }).then((r) => r.text())
}

describe('telemetry with no SDK registered', () => {
  it('subscribes to nothing per request, and starts reporting once a provider and a propagator are registered', async () => {
    const fetch = createAuthFetch({ serverUrl: `${base}/mcp`, tokenProvider: tokenProvider() })
    const send = () => post(fetch)
    await send()
    await send()
    // The API's no-op providers record nothing: no cache-hit message, no inject.
    expect(channel(TOKEN_CACHE_CHANNEL).hasSubscribers).toBe(false)
    expect(traceparents).toEqual([undefined, undefined])

    // An application that sets up OpenTelemetry after making its fetch.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    const meterProvider = new MeterProvider()
    metrics.setGlobalMeterProvider(meterProvider)
    const tracerProvider = new TracerProvider()
    trace.setGlobalTracerProvider(tracerProvider)
    // Found by the timer, without anyone asking.
    await untilSubscribed()
    expect(channel(TOKEN_CACHE_CHANNEL).hasSubscribers).toBe(true)
    const span = trace.getTracer('test').startSpan('call')
    await context.with(trace.setSpan(context.active(), span), send)
    span.end()
    expect(traceparents[2]).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-01$`))

    // Closed: nothing watches any more, nothing is subscribed.
    await fetch.close()
    expect(channel(TOKEN_CACHE_CHANNEL).hasSubscribers).toBe(false)
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
  })

  it('looks again at every auth fetch, not only up to the first that records: a later propagator reaches them all', async () => {
    const provider = tokenProvider()
    const first = createAuthFetch({ serverUrl: `${base}/mcp`, tokenProvider: provider })
    const second = createAuthFetch({ serverUrl: `${base}/mcp`, tokenProvider: provider })
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    const tracerProvider = new TracerProvider()
    trace.setGlobalTracerProvider(tracerProvider)
    await untilSubscribed()
    await new Promise((resolve) => setTimeout(resolve, RECORDING_RECHECK_MS + 100))
    const span = trace.getTracer('test').startSpan('call')
    await context.with(trace.setSpan(context.active(), span), async () => {
      for (const fetch of [first, second]) await post(fetch)
    })
    span.end()
    expect(traceparents).toHaveLength(2)
    for (const sent of traceparents) expect(sent).toMatch(new RegExp(`^00-${span.spanContext().traceId}-`))
    await first.close()
    await second.close()
    await tracerProvider.shutdown()
  })
})
