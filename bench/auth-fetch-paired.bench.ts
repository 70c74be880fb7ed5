/**
 * The auth fetch's paired figure alone, precisely: `npm run bench -- auth-fetch-paired`.
 *
 * bench/auth-fetch.bench.ts measures much more in one process, and its paired figure moves by
 * about ±1.5 % from run to run. Here each pair runs in a fresh process of its own (the built
 * packages, this process on core 0 and the server on core 1 on Linux), 400 rounds of four blocks
 * of 25 sequential requests (raw, auth, auth, raw; then auth, raw, raw, auth), after 40 warm-up
 * requests each: the median of auth/raw per round. Its precision is about ±1 %: single rounds
 * spread by ±8 %. Pairs: record headers (auth fetch vs raw fetch with
 * the same headers, both in `withUserContext`), SDK-shaped (a fresh `Headers` per request), and
 * the floor: a hand-written wrapper doing only what no auth fetch can skip (read the user context,
 * filter its cookie, take the token from memory, copy the init, look at the status), which says
 * what any wrapper pays on this machine.
 * BENCH_PAIRS (rounds), BENCH_PAIR_BLOCK and BENCH_PAIR_WARMUP (warm-up requests per side, default
 * 40; the lane runs as Maglev code for its first ~10,000 calls) tune it; about 45 s for the three pairs.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type * as AuthCore from '../packages/auth-core/src/index.js'
import type * as McpTransport from '../packages/mcp-transport/src/index.js'
import {
  ALLOWED_COOKIES,
  built,
  canPin,
  pairedSides,
  startJsonServer,
  warmAuthFetch,
} from './support/loopback.js'

const PAIR = process.env.BENCH_PAIR_CHILD
const ROUNDS = Number(process.env.BENCH_PAIRS ?? 400)
const BLOCK = Number(process.env.BENCH_PAIR_BLOCK ?? 25)
const pinned = canPin()

if (PAIR === undefined) {
  // The parent: one child per pair, pinned to core 0 when it can be.
  for (const pair of ['record', 'sdk', 'floor']) {
    const args = [...process.execArgv, fileURLToPath(import.meta.url)]
    const env = { ...process.env, BENCH_PAIR_CHILD: pair }
    const child = pinned
      ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: 'inherit', env })
      : spawn(process.execPath, args, { stdio: 'inherit', env })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    if (code !== 0) process.exit(code ?? 1)
  }
  process.exit(0)
}

const core = await built<typeof AuthCore>('auth-core')
const transport = await built<typeof McpTransport>('mcp-transport')
const { createCookieFilter } = core
const { getUserContext, withUserContext } = transport
const server = await startJsonServer({ core: pinned ? 1 : undefined })
const base = server.base
const mcpUrl = `${base}/mcp`

const { tokenProvider, authFetch } = await warmAuthFetch(core, transport, base)
const cookieFilter = createCookieFilter({ allow: ALLOWED_COOKIES })
/** The floor: only what every auth fetch does, by hand (no checks, no normalisation, no retry). */
function floorFetch(url: string, init: RequestInit): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) }
  const cookie = cookieFilter(getUserContext()?.cookie)
  if (cookie !== undefined) headers['cookie'] = cookie
  headers['authorization'] = `Bearer ${tokenProvider.cachedToken()?.value}`
  return globalThis.fetch(url, { ...init, redirect: 'manual', headers }).then((answer) => answer)
}
const sides = pairedSides(mcpUrl, authFetch, withUserContext)
const { raw, auth } =
  PAIR === 'sdk'
    ? sides.sdk
    : PAIR === 'floor'
      ? pairedSides(mcpUrl, floorFetch, withUserContext).record
      : sides.record

async function block(once: () => Promise<void>): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < BLOCK; i++) await once()
  const c = process.cpuUsage(c0)
  return { wall: performance.now() - t0, cpu: c.user + c.system }
}
for (let i = 0; i < Number(process.env.BENCH_PAIR_WARMUP ?? 40); i++) {
  await raw()
  await auth()
}
const wall: number[] = []
const cpu: number[] = []
const deadline = performance.now() + 60_000
for (let r = 0; r < ROUNDS && performance.now() < deadline; r++) {
  // ABBA, then BAAB: each side runs once right after itself and once right after the other, so
  // the block that follows its own kind (warmer caches) is not always the same side's. With
  // plain alternation (AB, BA, …) the first block of every round follows its own kind, and which
  // side that favours moved the median by up to 2 %.
  const blocks =
    r % 2 === 0
      ? [await block(raw), await block(auth), await block(auth), await block(raw)]
      : [await block(auth), await block(raw), await block(raw), await block(auth)]
  const [b1, a1, a2, b2] = r % 2 === 0 ? blocks : [blocks[1], blocks[0], blocks[3], blocks[2]]
  wall.push((a1!.wall + a2!.wall) / (b1!.wall + b2!.wall))
  cpu.push((a1!.cpu + a2!.cpu) / (b1!.cpu + b2!.cpu))
}
const q = (xs: number[], p: number) =>
  [...xs].sort((x, y) => x - y)[Math.floor(p * (xs.length - 1))]!.toFixed(3)
console.log(
  `${PAIR === 'floor' ? 'floor (a minimal hand-written wrapper)' : 'auth fetch'} / raw fetch, ${PAIR === 'sdk' ? 'SDK-shaped (a fresh Headers)' : 'record headers'}, both in context; node ${process.version}, ` +
    `${pinned ? 'pinned (core 0 / server core 1)' : 'not pinned'}, built packages, ${wall.length} rounds of 4 blocks (ABBA/BAAB) x ${BLOCK}:` +
    `\n  wall: median ${q(wall, 0.5)} (quartiles ${q(wall, 0.25)}–${q(wall, 0.75)})` +
    `\n  CPU:  median ${q(cpu, 0.5)} (quartiles ${q(cpu, 0.25)}–${q(cpu, 0.75)})`,
)
server.stop()
