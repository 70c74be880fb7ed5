// A fleet of gateways at token expiry: 4 gateway processes, 300 concurrent tool calls each, fired
// together right after their token expired, against the testkit's loopback authorization and MCP
// servers. Three runs in one go:
//   1. per-process cache (ClientCredentialsTokenProvider as it is): one token request per process;
//   2. one shared RedisTokenStore (a real redis-server on loopback): one token request for the fleet;
//   3. the same with redis-server killed (SIGKILL) mid-burst: no failed call, at most one token
//      request per process.
// Each gateway also times getToken on a cache hit, in rounds that alternate the plain provider and
// the store-backed one in the same process (hits are local: the store is not touched).
//
//   npx tsx bench/fleet.bench.ts            (BENCH_GATEWAYS=4 BENCH_CALLS=300 BENCH_HITS=20000)
//
// The store-backed gateway is `new ClientCredentialsTokenProvider({ ...options, store })`; token
// requests are counted by the authorization server (parent), store warnings through `onEvent`.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { ClientCredentialsTokenProvider, type TokenProviderEvent } from '@mcp-oauth2/auth-core'
import { createAuthFetch } from '@mcp-oauth2/mcp-transport'
import { RedisTokenStore } from '@mcp-oauth2/redis'
import { startMockServers } from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startRedisServer } from '../scripts/redis-server.mjs'

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 4)
const CALLS = Number(process.env.BENCH_CALLS ?? 300)
const HITS = Number(process.env.BENCH_HITS ?? 20_000)
const TTL_SECONDS = Number(process.env.BENCH_TTL_SECONDS ?? 20) // longer than a burst takes on 2 cores

type Mode = 'per-process' | 'redis' | 'redis-killed'

interface BurstReport {
  type: 'burst'
  failed: number
  tokenRequests: number
  events: string[]
  wallMs: number
}

interface HitReport {
  type: 'hits'
  plain: { p50: number; p99: number }
  shared: { p50: number; p99: number } | undefined
}

type ChildMessage = { type: 'ready' } | { type: 'started' } | BurstReport | HitReport

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

// ---------------------------------------------------------------------------------------------
// The gateway process
// ---------------------------------------------------------------------------------------------
async function gateway() {
  const send = (message: ChildMessage) => process.send?.(message)
  const mode = process.env.FLEET_MODE as Mode
  const mcpUrl = process.env.FLEET_MCP_URL!
  const tokenUrl = process.env.FLEET_TOKEN_URL!
  const options = {
    tokenUrl,
    clientId: 'test-client',
    clientSecret: 'test-secret',
    scope: ['mcp:read', 'customer:read'],
    refreshSkewSeconds: 0, // refresh at expiry: the burst finds every cache expired
  }
  // This process's token requests (HTTP attempts to the token endpoint of the store-backed provider).
  let tokenCalls = 0
  const countingFetch = (url: string | URL | Request, init?: RequestInit) => {
    if (String(url) === tokenUrl) tokenCalls++
    return globalThis.fetch(url, init)
  }
  const plain = new ClientCredentialsTokenProvider(options)
  let shared: ClientCredentialsTokenProvider | undefined
  let store: RedisTokenStore | undefined
  const events: TokenProviderEvent[] = []
  if (mode !== 'per-process') {
    store = new RedisTokenStore({
      url: process.env.FLEET_REDIS_URL!,
      encryptionKey: process.env.FLEET_KEY!,
      keyPrefix: process.env.FLEET_PREFIX!,
    })
    shared = new ClientCredentialsTokenProvider({
      ...options,
      fetch: countingFetch,
      store,
      storeOptions: { operationTimeoutMs: 1_000, retryStoreAfterMs: 60_000 },
      onEvent: (event) => events.push(event),
    })
  }
  const tokenProvider = shared ?? plain
  const client = new Client({ name: 'fleet-bench', version: '1.0.0' })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), {
      fetch: createAuthFetch({ serverUrl: mcpUrl, tokenProvider }),
    }),
  )
  await client.listTools()
  if (shared) await plain.getToken() // the in-process baseline for the hit timings
  send({ type: 'ready' })

  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  const callsBefore = tokenCalls
  const started = performance.now()
  const calls = Array.from({ length: CALLS }, (_, i) =>
    client.callTool({ name: 'get_customer_info', arguments: { customer_id: `c-${i}` } }),
  )
  send({ type: 'started' })
  const results = await Promise.allSettled(calls)
  const wallMs = performance.now() - started
  send({
    type: 'burst',
    failed: results.filter((r) => r.status === 'rejected' || r.value.isError).length,
    // The fleet's total is counted by the authorization server (parent); this is this process's.
    tokenRequests: shared ? tokenCalls - callsBefore : Number.NaN,
    events: events.map((e) => e.type),
    wallMs,
  })

  // Cache hits, once the parent has counted the burst's token requests: alternate rounds of the
  // plain provider and the store-backed one (both warm first: the plain one's token has expired).
  await new Promise<void>((resolve) => process.once('message', () => resolve()))
  await plain.getToken()
  await shared?.getToken()
  const timings = { plain: [] as number[], shared: [] as number[] }
  const rounds = 20
  for (let round = 0; round < rounds; round++) {
    for (const [name, provider] of [
      ['plain', plain],
      ['shared', shared],
    ] as const) {
      if (!provider) continue
      for (let i = 0; i < HITS / rounds; i++) {
        const t0 = process.hrtime.bigint()
        await provider.getToken()
        timings[name].push(Number(process.hrtime.bigint() - t0))
      }
    }
  }
  const summary = (list: number[]) => {
    const sorted = list.sort((a, b) => a - b)
    return { p50: percentile(sorted, 50) / 1000, p99: percentile(sorted, 99) / 1000 }
  }
  send({ type: 'hits', plain: summary(timings.plain), shared: shared ? summary(timings.shared) : undefined })
  await client.close().catch(() => {})
  await store?.close()
  process.exit(0)
}

// ---------------------------------------------------------------------------------------------
// The parent: servers, processes, the table
// ---------------------------------------------------------------------------------------------
interface Outcome {
  mode: Mode
  tokenRequests: number
  maxPerProcess: number | undefined
  unauthorized: number
  failed: number
  warnings: number
  wallMs: number
  hits: HitReport[]
}

async function run(
  mode: Mode,
  servers: Awaited<ReturnType<typeof startMockServers>>,
  redis: Awaited<ReturnType<typeof startRedisServer>>,
): Promise<Outcome> {
  const env = {
    ...process.env,
    FLEET_MODE: mode,
    FLEET_MCP_URL: servers.mcp.url,
    FLEET_TOKEN_URL: servers.oauth.tokenEndpoint,
    FLEET_REDIS_URL: redis.url,
    FLEET_KEY: randomBytes(32).toString('base64'),
    FLEET_PREFIX: `bench-${mode}-${Date.now()}:`,
  }
  const file = fileURLToPath(import.meta.url)
  const children: ChildProcess[] = []
  const inbox: ChildMessage[][] = []
  const waiters: (() => void)[] = []
  const notify = () => {
    for (const w of waiters.splice(0)) w()
  }
  const waitFor = async (type: ChildMessage['type'], count: number) => {
    const deadline = Date.now() + 60_000
    while (inbox.filter((list) => list.some((m) => m.type === type)).length < count) {
      if (Date.now() > deadline) throw new Error(`${mode}: timed out waiting for "${type}" from the gateways`)
      await new Promise<void>((resolve) => {
        waiters.push(resolve)
        setTimeout(resolve, 250)
      })
    }
  }
  for (let i = 0; i < GATEWAYS; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', file, '--gateway'], {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const messages: ChildMessage[] = []
    inbox.push(messages)
    child.on('message', (message: ChildMessage) => {
      messages.push(message)
      notify()
    })
    child.on('exit', (code) => {
      if (code !== 0) console.error(`[fleet] gateway ${i} exited ${code}`)
      notify()
    })
    children.push(child)
  }
  await waitFor('ready', GATEWAYS)
  // Every gateway holds a token now; let them all expire.
  await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 300))
  const tokensBefore = servers.oauth.server.tokenRequests.length
  const requestsBefore = servers.mcp.server.requests.length
  for (const child of children) child.send('go')
  if (mode === 'redis-killed') {
    await waitFor('started', 1)
    redis.signal('SIGKILL')
  }
  await waitFor('burst', GATEWAYS)
  const tokenRequests = servers.oauth.server.tokenRequests.length - tokensBefore
  const unauthorized = servers.mcp.server.requests
    .slice(requestsBefore)
    .filter((r) => r.status === 401).length
  for (const child of children) child.send('hits')
  await waitFor('hits', GATEWAYS)
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => (child.exitCode !== null ? resolve(0) : child.once('exit', resolve))),
    ),
  )
  const bursts = inbox.map((list) => list.find((m): m is BurstReport => m.type === 'burst')!)
  return {
    mode,
    tokenRequests,
    maxPerProcess: mode === 'per-process' ? undefined : Math.max(...bursts.map((b) => b.tokenRequests)),
    unauthorized,
    failed: bursts.reduce((sum, b) => sum + b.failed, 0),
    warnings: bursts.reduce(
      (sum, b) => sum + b.events.filter((e) => e === 'token_store_unavailable').length,
      0,
    ),
    wallMs: Math.max(...bursts.map((b) => b.wallMs)),
    hits: inbox.map((list) => list.find((m): m is HitReport => m.type === 'hits')!),
  }
}

async function main() {
  const servers = await startMockServers({ tokenTtlSeconds: TTL_SECONDS })
  const redis = await startRedisServer()
  const outcomes: Outcome[] = []
  try {
    for (const mode of ['per-process', 'redis', 'redis-killed'] as const) {
      if (!redis.running) await redis.restart()
      servers.oauth.server.reset()
      servers.mcp.server.reset()
      outcomes.push(await run(mode, servers, redis))
    }
  } finally {
    await redis.stop()
    await servers.close()
  }
  const label: Record<Mode, string> = {
    'per-process': 'per-process cache (no store)',
    redis: 'RedisTokenStore',
    'redis-killed': 'RedisTokenStore, redis-server killed mid-burst',
  }
  console.log(
    `\n${GATEWAYS} gateway processes × ${CALLS} concurrent tool calls right after a ${TTL_SECONDS} s token expired (Node ${process.version})\n`,
  )
  console.log(
    '| run | token requests | most by one process | 401s | failed calls | store warnings | burst wall time |',
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const o of outcomes) {
    console.log(
      `| ${label[o.mode]} | ${o.tokenRequests} | ${o.maxPerProcess ?? '1 each'} | ${o.unauthorized} | ${o.failed} | ${o.warnings} | ${Math.round(o.wallMs)} ms |`,
    )
  }
  const median = (values: number[]) =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
  const shared = outcomes.find((o) => o.mode === 'redis')!.hits
  console.log(
    `\ngetToken on a cache hit, µs (median over the ${GATEWAYS} gateways; ${HITS} calls each, alternating rounds)\n`,
  )
  console.log('| provider | p50 | p99 |')
  console.log('| --- | ---: | ---: |')
  console.log(
    `| in-memory (ClientCredentialsTokenProvider) | ${median(shared.map((h) => h.plain.p50)).toFixed(2)} | ${median(shared.map((h) => h.plain.p99)).toFixed(2)} |`,
  )
  console.log(
    `| with RedisTokenStore (local hit) | ${median(shared.map((h) => h.shared!.p50)).toFixed(2)} | ${median(shared.map((h) => h.shared!.p99)).toFixed(2)} |`,
  )
}

if (process.argv.includes('--gateway')) await gateway()
else await main()
