/**
 * The auth fetch with OpenTelemetry on vs off: `npm run bench -- auth-fetch-otel` (the built
 * packages; builds them first).
 *
 * `off again` (off against off) shows the noise of the pairing on this machine.
 * Every side is the same auth fetch (warm ClientCredentialsTokenProvider, cookie filter, inside
 * withUserContext, SDK-shaped requests) against a loopback `node:http` server in a child process:
 *   off            `telemetry: false`: no tracing step, as without `@opentelemetry/api`;
 *   on             the real SDK 3 (a TracerProvider with a BatchSpanProcessor and an exporter that
 *                  drops everything, a MeterProvider, the async-hooks context manager and the W3C
 *                  propagator registered), the defaults: trace context of the active span, metrics;
 *   on, in a span  the same inside an active span (as under the manager's `tools/call` span):
 *                  every request carries `traceparent`;
 *   on, httpSpans  `httpSpans: true`: an HTTP client span per request as well.
 * Paired rounds (order alternating) of BENCH_PAIR_BLOCK sequential requests each; per round the
 * ratio to off of wall time and of client CPU time; the medians are the figures (goal: ≤ 1.02).
 * Then each in µs per call without I/O (a fetch that answers at once): the absolute cost.
 * Bounded: about 45 s on a 2-core machine. BENCH_PAIRS, BENCH_PAIR_BLOCK tune it.
 */
import { cpus, loadavg } from 'node:os'
import type * as AuthCore from '../packages/auth-core/src/index.js'
import type * as McpTransport from '../packages/mcp-transport/src/index.js'
import {
  AsyncLocalStorageContextManager,
  BatchSpanProcessor,
  context,
  MeterProvider,
  propagation,
  TracerProvider,
  W3CTraceContextPropagator,
} from '../packages/mcp-transport/test/support/otel-sdk.js'
import { ALLOWED_COOKIES, BODY, built, REPLY, startJsonServer } from './support/loopback.js'

// The built packages, as users run them (`npm run bench` builds them first).
const { ClientCredentialsTokenProvider } = await built<typeof AuthCore>('auth-core')
const { createAuthFetch, withUserContext } = await built<typeof McpTransport>('mcp-transport')

const PAIRS = Number(process.env.BENCH_PAIRS ?? 120)
const BLOCK = Number(process.env.BENCH_PAIR_BLOCK ?? 40)
const DEADLINE = performance.now() + 50_000
const server = await startJsonServer()
const base = server.base
const mcpUrl = `${base}/mcp`

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
let exported = 0
const dropAll = {
  export(spans: unknown[], done: (result: { code: number }) => void) {
    exported += spans.length
    done({ code: 0 })
  },
  shutdown: async () => {},
}
const tracerProvider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: dropAll })] })
const meterProvider = new MeterProvider()

const tokenProvider = new ClientCredentialsTokenProvider({
  tokenUrl: `${base}/token`,
  clientId: 'bench-client',
  clientSecret: 'bench-secret',
})
await tokenProvider.getToken()
const common = { serverUrl: mcpUrl, tokenProvider, cookies: { allow: ALLOWED_COOKIES } }
const COOKIE = 'session_id=abc123; user_id=u-42; _ga=GA1.2.3; theme=dark; tracking=xyz'
const sdkHeaders = () =>
  new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' })
const tracer = tracerProvider.getTracer('bench')

interface Variant {
  readonly name: string
  /** Runs `fn` as this variant's caller would (inside a span or not). */
  readonly around: (fn: () => Promise<void>) => Promise<void>
  readonly make: (
    fetch?: (url: string | URL | Request, init?: RequestInit) => Promise<Response>,
  ) => ReturnType<typeof createAuthFetch>
}
const plain = (fn: () => Promise<void>) => fn()
const inSpan = (fn: () => Promise<void>) =>
  tracer.startActiveSpan('caller', async (span) => {
    try {
      await fn()
    } finally {
      span.end()
    }
  })
const off: Variant = {
  name: 'off',
  around: plain,
  make: (fetch) => createAuthFetch({ ...common, fetch, telemetry: false }),
}
const variants: Variant[] = [
  // A/A control: another auth fetch with telemetry off, to show the noise floor of the pairing.
  {
    name: 'off again',
    around: plain,
    make: (fetch) => createAuthFetch({ ...common, fetch, telemetry: false }),
  },
  {
    name: 'on',
    around: plain,
    make: (fetch) => createAuthFetch({ ...common, fetch, telemetry: { tracerProvider, meterProvider } }),
  },
  {
    name: 'on, in a span',
    around: inSpan,
    make: (fetch) => createAuthFetch({ ...common, fetch, telemetry: { tracerProvider, meterProvider } }),
  },
  {
    name: 'on, httpSpans',
    around: inSpan,
    make: (fetch) =>
      createAuthFetch({ ...common, fetch, telemetry: { tracerProvider, meterProvider, httpSpans: true } }),
  },
]

type Fetch = ReturnType<typeof createAuthFetch>
async function once(fetch: Fetch): Promise<void> {
  const response = await fetch(mcpUrl, { method: 'POST', headers: sdkHeaders(), body: BODY })
  if (response.status !== 200) throw new Error(`status ${response.status}`)
  await response.text()
}
const block = (variant: Variant, fetch: Fetch, n = BLOCK) =>
  withUserContext({ cookie: COOKIE }, () =>
    variant.around(async () => {
      for (let i = 0; i < n; i++) await once(fetch)
    }),
  )
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

console.log(
  `node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; ` + `loopback http, keep-alive, server in a child process; ${BLOCK} requests per block`,
)
const offFetch = off.make()
for (const variant of variants) {
  const fetch = variant.make()
  for (let i = 0; i < 5; i++) {
    await block(off, offFetch)
    await block(variant, fetch)
  }
  const before = await server.traced()
  const wall: number[] = []
  const cpu: number[] = []
  const ms = { on: 0, off: 0 }
  let rounds = 0
  const deadline =
    performance.now() + (DEADLINE - performance.now()) / (variants.length - variants.indexOf(variant) + 1)
  for (let r = 0; r < PAIRS && performance.now() < deadline; r++, rounds++) {
    const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)
    const w = { on: 0, off: 0 }
    const c = { on: 0, off: 0 }
    for (const side of order) {
      const t = performance.now()
      const u = cpuMs()
      await (side === 'on' ? block(variant, fetch) : block(off, offFetch))
      c[side] = cpuMs() - u
      w[side] = performance.now() - t
    }
    wall.push(w.on / w.off)
    cpu.push(c.on / c.off)
    ms.on += w.on
    ms.off += w.off
  }
  const traced = (await server.traced()) - before
  const per = (total: number) => `${((total / (rounds * BLOCK)) * 1000).toFixed(1)} µs`
  console.log(
    `\n${variant.name.padEnd(14)} ${rounds} paired rounds: off ${per(ms.off)}, on ${per(ms.on)} per request (wall); ` +
      `traceparent on ${traced} of ${rounds * BLOCK}`,
  )
  console.log(
    `${''.padEnd(14)} median ratio to off: wall ${median(wall).toFixed(3)}, client CPU ${median(cpu).toFixed(3)}`,
  )
}

// Without I/O: each variant's own cost per call, so the absolute overhead shows.
{
  const instant = async () => new Response(REPLY)
  const N = 10_000
  const time = async (variant: Variant, fetch: Fetch) => {
    const t = performance.now()
    await block(variant, fetch, N)
    return ((performance.now() - t) / N) * 1000
  }
  const offNoIo = off.make(instant)
  const results = new Map<string, number[]>()
  for (let i = 0; i < 5; i++) {
    for (const variant of [off, ...variants]) {
      const fetch = variant === off ? offNoIo : variant.make(instant)
      const list = results.get(variant.name) ?? []
      list.push(await time(variant, fetch))
      results.set(variant.name, list)
    }
  }
  const offUs = median(results.get('off') ?? [])
  console.log(`\nwithout I/O (median of 5 x ${N}), µs per call:`)
  for (const [name, list] of results) {
    const us = median(list)
    console.log(
      `  ${name.padEnd(14)} ${us.toFixed(2)}${name === 'off' ? '' : ` (+${(us - offUs).toFixed(2)})`}`,
    )
  }
}
await tracerProvider.forceFlush()
console.log(`spans exported (and dropped): ${exported}`)
await tracerProvider.shutdown()
await meterProvider.shutdown()
server.stop()
