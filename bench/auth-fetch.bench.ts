/**
 * Auth fetch hot path: `npm run bench -- auth-fetch` (builds the packages, then
 * `npx tsx bench/auth-fetch.bench.ts`).
 *
 * With a cached token the wrapper should do no I/O, only header work. A loopback `node:http`
 * server (in a child process, so the client's CPU time is its own) answers a small JSON body. In
 * the same run, in interleaved rounds (order alternating, so load drift hits all alike):
 *   raw                   globalThis.fetch with authorization, cookie, content-type, accept by hand;
 *   raw fetch in context  the same inside withUserContext (the context's own cost);
 *   auth                  createAuthFetch with a warm ClientCredentialsTokenProvider (its token came
 *                         from the same server's /token) and a cookie filter, inside withUserContext.
 * Sequential requests, then CONCURRENCY in flight: latency mean/p50/p99, client CPU per request,
 * and the median over rounds of each variant's time over raw's. Then paired rounds: auth fetch
 * and raw fetch, both in context, in short alternating blocks, with record headers and shaped
 * like the SDK's requests (a fresh `Headers` each); the median of auth/raw per round is the
 * hot-path figure (goal: at most 1.03). BENCH_PAIRS, BENCH_PAIR_BLOCK tune it. Last, the wrapper and its parts
 * without I/O (a fetch that answers at once), in µs per call, and the ratio they imply.
 * Bounded: about 40 s on a 2-core machine, 55 s at most. BENCH_ROUNDS, BENCH_SEQ, BENCH_CONC tune it.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus, loadavg } from 'node:os'
import type * as AuthCore from '../packages/auth-core/src/index.js'
import type * as McpTransport from '../packages/mcp-transport/src/index.js'
import {
  ALLOWED_COOKIES,
  BODY,
  built,
  canPin,
  drain,
  FORWARDED_COOKIE,
  pairedSides,
  pinSelf,
  SDK_HEADERS,
  startJsonServer,
  TOKEN,
  USER_COOKIE,
  warmAuthFetch,
} from './support/loopback.js'

// The built packages, as users run them (`npm run bench` builds them first).
const core = await built<typeof AuthCore>('auth-core')
const transport = await built<typeof McpTransport>('mcp-transport')
const { createCookieFilter } = core
const { createAuthFetch, withUserContext } = transport

// On Linux with two cores or more, this process runs on core 0 and the server on core 1, so they
// do not take turns on one core. BENCH_PIN=0: not pinned.
const pinned = canPin() && pinSelf(0)

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 16)
const SEQ = Number(process.env.BENCH_SEQ ?? 200) // sequential requests per round and variant
const CONCURRENCY = Number(process.env.BENCH_CONC ?? 16)
const CONC_PER_WORKER = Math.max(1, Math.round(SEQ / CONCURRENCY) * 2)
const DEADLINE = performance.now() + 55_000

// The server runs in a child process, so the client's CPU time (process.cpuUsage) is the
// client's alone: on a shared machine that is steadier than wall time.
const server = await startJsonServer({ core: pinned ? 1 : undefined })
const base = server.base
const mcpUrl = `${base}/mcp`

const { tokenProvider, authFetch } = await warmAuthFetch(core, transport, base)

const sdkHeaders = SDK_HEADERS
type Variant = { name: string; once: () => Promise<void> }

const raw: Variant = {
  name: 'raw fetch',
  once: async () =>
    drain(
      await globalThis.fetch(mcpUrl, {
        method: 'POST',
        headers: { ...sdkHeaders, authorization: `Bearer ${TOKEN}`, cookie: FORWARDED_COOKIE },
        body: BODY,
      }),
    ),
}
// Raw fetch run inside withUserContext, as auth's is: separates the context's cost from the wrapper's.
const rawInContext: Variant = {
  name: 'raw fetch in context',
  once: () => withUserContext({ cookie: USER_COOKIE }, raw.once),
}
const auth: Variant = {
  name: 'auth fetch',
  once: () =>
    withUserContext({ cookie: USER_COOKIE }, async () =>
      drain(await authFetch(mcpUrl, { method: 'POST', headers: sdkHeaders, body: BODY })),
    ),
}

// Both must put the same headers on the wire, or the comparison means nothing.
{
  const seen: Record<string, string | undefined>[] = []
  const probe = createServer((req, res) => {
    seen.push({ authorization: req.headers.authorization, cookie: req.headers.cookie })
    req.resume()
    res.end('{}')
  })
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/mcp`
  const f = createAuthFetch({ serverUrl: url, tokenProvider, cookies: { allow: ALLOWED_COOKIES } })
  await withUserContext({ cookie: USER_COOKIE }, async () =>
    (await f(url, { method: 'POST', body: BODY })).text(),
  )
  probe.closeAllConnections()
  probe.close()
  const expected = { authorization: `Bearer ${TOKEN}`, cookie: FORWARDED_COOKIE }
  if (JSON.stringify(seen[0]) !== JSON.stringify(expected))
    throw new Error(`headers differ: ${JSON.stringify(seen)}`)
}

async function sequential(v: Variant, n: number, into: number[]): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await v.once()
    into.push(performance.now() - t)
  }
  return performance.now() - start
}

async function concurrent(v: Variant, workers: number, each: number, into: number[]): Promise<number> {
  const start = performance.now()
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < each; i++) {
        const t = performance.now()
        await v.once()
        into.push(performance.now() - t)
      }
    }),
  )
  return performance.now() - start
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b)
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return { n: sorted.length, mean, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) }
}
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`.padStart(10)

interface Mode {
  name: string
  run: (v: Variant, into: number[]) => Promise<number>
  requests: number
}
const modes: Mode[] = [
  { name: 'sequential', run: (v, into) => sequential(v, SEQ, into), requests: SEQ },
  {
    name: `${CONCURRENCY} concurrent`,
    run: (v, into) => concurrent(v, CONCURRENCY, CONC_PER_WORKER, into),
    requests: CONCURRENCY * CONC_PER_WORKER,
  },
]

// Warm up JIT, sockets and the token cache.
const variants = [raw, rawInContext, auth]
for (let i = 0; i < 2; i++) for (const v of variants) for (const m of modes) await m.run(v, [])

const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}
console.log(
  `node ${process.version}, ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; loopback http, keep-alive, server in a child process` +
    (pinned ? '; this process on core 0, the server on core 1' : '; not pinned to cores') +
    '; the built packages',
)
let rawCpuPerRequest = Number.NaN // µs, sequential
for (const mode of modes) {
  const latencies = new Map<Variant, number[]>(variants.map((v) => [v, []]))
  const cpu = new Map<Variant, number>(variants.map((v) => [v, 0]))
  // Per round, each variant's wall and CPU time over raw's in the same round.
  const wallRatios = new Map<Variant, number[]>(variants.map((v) => [v, []]))
  const cpuRatios = new Map<Variant, number[]>(variants.map((v) => [v, []]))
  let rounds = 0
  for (let r = 0; r < ROUNDS && performance.now() < DEADLINE; r++, rounds++) {
    // Alternate the order, so no variant always runs on a warmer (or busier) machine.
    const order = r % 2 === 0 ? variants : [...variants].reverse()
    const wall = new Map<Variant, number>()
    const used = new Map<Variant, number>()
    for (const v of order) {
      const c = cpuMs()
      wall.set(v, await mode.run(v, latencies.get(v)!))
      used.set(v, cpuMs() - c)
      cpu.set(v, cpu.get(v)! + used.get(v)!)
    }
    for (const v of variants) {
      wallRatios.get(v)!.push(wall.get(v)! / wall.get(raw)!)
      cpuRatios.get(v)!.push(used.get(v)! / used.get(raw)!)
    }
  }
  const requests = rounds * mode.requests
  if (mode === modes[0]) rawCpuPerRequest = (cpu.get(raw)! / requests) * 1000
  const base = stats(latencies.get(raw)!)
  console.log(`\n${mode.name}: ${rounds} rounds x ${mode.requests} requests per variant`)
  console.log(
    `${''.padEnd(20)} ${'mean'.padStart(10)} ${'p50'.padStart(10)} ${'p99'.padStart(10)} ${'client CPU'.padStart(10)}` +
      `   ratio to raw: mean  p50   p99  | round wall  CPU`,
  )
  for (const v of variants) {
    const s = stats(latencies.get(v)!)
    console.log(
      `${v.name.padEnd(20)} ${us(s.mean)} ${us(s.p50)} ${us(s.p99)} ${us(cpu.get(v)! / requests)}` +
        `   ${[s.mean / base.mean, s.p50 / base.p50, s.p99 / base.p99].map((x) => x.toFixed(3)).join(' ')}` +
        ` | ${median(wallRatios.get(v)!).toFixed(3)} ${median(cpuRatios.get(v)!).toFixed(3)}`,
    )
  }
}

// Paired rounds, the figure the issue tracks: raw fetch and auth fetch, both inside
// withUserContext, in short blocks of PAIR_BLOCK sequential requests (ABBA, then BAAB), so a
// load change hits both halves of a pair alike; per round auth/raw of wall and of client CPU.
// Twice: with record headers (as above), and shaped like the SDK's requests, whose transports
// pass a fresh `Headers` to fetch on every request (Streamable HTTP `_commonHeaders()`), so that
// the raw side pays for a `Headers` too.
{
  const PAIR_ROUNDS = Number(process.env.BENCH_PAIRS ?? 160)
  const PAIR_BLOCK = Number(process.env.BENCH_PAIR_BLOCK ?? 25)
  const sides = pairedSides(mcpUrl, authFetch, withUserContext)
  const sdkRaw: Variant = { name: 'raw fetch, SDK-shaped', once: sides.sdk.raw }
  const sdkAuth: Variant = { name: 'auth fetch, SDK-shaped', once: sides.sdk.auth }
  for (const [a, b] of [
    [auth, rawInContext],
    [sdkAuth, sdkRaw],
  ] as const) {
    for (let i = 0; i < 2; i++) for (const v of [a, b]) await sequential(v, PAIR_BLOCK, [])
    const wall: number[] = []
    const cpu: number[] = []
    for (let r = 0; r < PAIR_ROUNDS && performance.now() < DEADLINE; r++) {
      // ABBA, then BAAB: each side runs once right after itself and once after the other (with
      // AB, BA, … the first block of a round always follows its own kind, a bias of up to 2 %).
      const order = r % 2 === 0 ? [b, a, a, b] : [a, b, b, a]
      const w = new Map<Variant, number>([
        [a, 0],
        [b, 0],
      ])
      const c = new Map<Variant, number>([
        [a, 0],
        [b, 0],
      ])
      for (const v of order) {
        const c0 = cpuMs()
        w.set(v, w.get(v)! + (await sequential(v, PAIR_BLOCK, [])))
        c.set(v, c.get(v)! + cpuMs() - c0)
      }
      wall.push(w.get(a)! / w.get(b)!)
      cpu.push(c.get(a)! / c.get(b)!)
    }
    const q = (xs: number[], p: number) =>
      quantile(
        [...xs].sort((x, y) => x - y),
        p,
      ).toFixed(3)
    console.log(
      `\npaired rounds, ${a.name} / ${b.name}, both in context (${wall.length} rounds of 4 blocks, ABBA/BAAB, x ${PAIR_BLOCK} requests):` +
        `\n  wall: median ${q(wall, 0.5)} (quartiles ${q(wall, 0.25)}–${q(wall, 0.75)})` +
        `\n  CPU:  median ${q(cpu, 0.5)} (quartiles ${q(cpu, 0.25)}–${q(cpu, 0.75)})`,
    )
  }
}

// The wrapper's own cost: no socket, a fetch that answers at once with a shared response.
{
  const answer = new Response(null, { status: 200 })
  const instant = async (_url: string | URL | Request, _init?: RequestInit) => answer
  const wrapped = createAuthFetch({
    serverUrl: mcpUrl,
    tokenProvider,
    cookies: { allow: ALLOWED_COOKIES },
    fetch: instant,
  })
  const cookieFilter = createCookieFilter({ allow: ALLOWED_COOKIES })
  const wire = { ...sdkHeaders, authorization: `Bearer ${TOKEN}`, cookie: FORWARDED_COOKIE }
  const wireHeaders = new Headers(wire)
  const cases: [string, () => Promise<unknown>][] = [
    [
      'bare: instant fetch, headers by hand',
      () =>
        instant(mcpUrl, {
          method: 'POST',
          headers: { ...sdkHeaders, authorization: `Bearer ${TOKEN}`, cookie: FORWARDED_COOKIE },
          body: BODY,
        }),
    ],
    ['tokenProvider.getToken() (cache hit)', () => tokenProvider.getToken()],
    ['cookie filter (5 cookies, 2 allowed)', async () => cookieFilter(USER_COOKIE)],
    ['new Headers(4-entry record)', async () => new Headers(wire)],
    // What fetch itself does first with the headers it is given: a Headers is cheaper than a record.
    [
      'new Request(…, record headers)',
      async () => new Request(mcpUrl, { method: 'POST', headers: wire, body: BODY }),
    ],
    [
      'new Request(…, Headers)',
      async () => new Request(mcpUrl, { method: 'POST', headers: wireHeaders, body: BODY }),
    ],
    [
      'withUserContext(instant fetch)',
      () =>
        withUserContext({ cookie: USER_COOKIE }, () =>
          instant(mcpUrl, {
            method: 'POST',
            headers: { ...sdkHeaders, authorization: `Bearer ${TOKEN}`, cookie: FORWARDED_COOKIE },
            body: BODY,
          }),
        ),
    ],
    [
      'auth fetch → instant fetch',
      () =>
        withUserContext({ cookie: USER_COOKIE }, () =>
          wrapped(mcpUrl, { method: 'POST', headers: sdkHeaders, body: BODY }),
        ),
    ],
  ]
  const perCall = new Map<string, number[]>(cases.map(([name]) => [name, []]))
  for (let r = 0; r < 5; r++) {
    for (const [name, run] of cases) {
      const n = 10_000
      const start = performance.now()
      for (let i = 0; i < n; i++) await run()
      perCall.get(name)!.push(((performance.now() - start) / n) * 1000)
    }
  }
  console.log('\nwithout I/O (median of 5 rounds x 10,000 calls)')
  for (const [name] of cases)
    console.log(`${name.padEnd(40)} ${median(perCall.get(name)!).toFixed(2).padStart(7)} µs/call`)
  // The wrapper's own work over the raw request's, measured in this process: a load-independent
  // estimate of the per-request ratio (both scale with the machine).
  const extra =
    median(perCall.get('auth fetch → instant fetch')!) -
    median(perCall.get('withUserContext(instant fetch)')!)
  console.log(
    `\nwrapper work ${extra.toFixed(1)} µs per request over raw fetch in the same context; raw request ${rawCpuPerRequest.toFixed(0)} µs client CPU` +
      ` → estimated ratio ${(1 + extra / rawCpuPerRequest).toFixed(3)}x`,
  )
}

server.stop()
