/**
 * Tool-call runner overhead: `npx tsx bench/tool-call-runner.bench.ts`.
 *
 * In the same run, in interleaved rounds (order alternating):
 *   by hand   what a gateway writes without the runner: JSON.parse each call's arguments,
 *             Promise.all of manager.callTool, one `{ role: 'tool', tool_call_id, content }` each;
 *   runner    runToolCalls(manager, calls) (concurrency 4, timeouts, events, serialisation).
 * First through a real McpServerManager against the testkit's loopback servers (a batch of 4
 * Chat Completions calls inside withUserContext), then without I/O (a host that answers at
 * once), in µs per call. Bounded: about 20 s on a 2-core machine, 40 s at most.
 * BENCH_ROUNDS and BENCH_BATCHES tune it.
 */
import { cpus, loadavg } from 'node:os'
import { parseConfig } from '../packages/auth-core/src/index.js'
import { McpServerManager } from '../packages/mcp-transport/src/server-manager.js'
import type { ChatCompletionsFunctionToolCall } from '../packages/mcp-transport/src/tool-call-formats.js'
import { runToolCalls, type ToolCallHost } from '../packages/mcp-transport/src/tool-call-runner.js'
import { withUserContext } from '../packages/mcp-transport/src/user-context.js'
import { startMockServers } from '../packages/testkit/src/index.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const BATCHES = Number(process.env.BENCH_BATCHES ?? 40) // batches of 4 calls per round and variant
const DEADLINE = performance.now() + 40_000
const COOKIE = 'session_id=s-bench; user_id=u-bench; theme=dark'

const calls: ChatCompletionsFunctionToolCall[] = [1, 2, 3, 4].map((n) => ({
  id: `call_${n}`,
  type: 'function',
  function: { name: 'get_customer_info', arguments: JSON.stringify({ customer_id: `cust-00${n}` }) },
}))

async function byHand(host: Pick<ToolCallHost, 'callTool'>) {
  return Promise.all(
    calls.map(async (call) => {
      const result = await host.callTool(call.function.name, JSON.parse(call.function.arguments), {})
      const text = (result.content as { text?: string }[]).map((c) => c.text ?? '').join('\n')
      return { role: 'tool' as const, tool_call_id: call.id, content: text }
    }),
  )
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

async function compare(
  label: string,
  unit: 'ms per batch' | 'µs per call',
  host: ToolCallHost,
  batches: number,
) {
  const variants: Record<'by hand' | 'runner', () => Promise<unknown>> = {
    'by hand': () => byHand(host),
    runner: () => runToolCalls(host, calls),
  }
  const times: Record<string, number[]> = { 'by hand': [], runner: [] }
  for (let i = 0; i < 20; i++) for (const run of Object.values(variants)) await run() // warm up
  for (let round = 0; round < ROUNDS && performance.now() < DEADLINE; round++) {
    const order = round % 2 === 0 ? (['by hand', 'runner'] as const) : (['runner', 'by hand'] as const)
    for (const name of order) {
      const start = performance.now()
      for (let i = 0; i < batches; i++) await withUserContext({ cookie: COOKIE }, variants[name])
      const ms = performance.now() - start
      times[name]!.push(unit === 'ms per batch' ? ms / batches : (ms * 1000) / (batches * calls.length))
    }
  }
  const ratios = times['runner']!.map((t, i) => t / (times['by hand']![i] ?? Number.NaN))
  console.log(
    `${label}: by hand ${median(times['by hand']!).toFixed(2)} ${unit}, runner ${median(times['runner']!).toFixed(2)} ${unit}, runner/by hand ${median(ratios).toFixed(3)}x (median of ${ratios.length} rounds)`,
  )
}

console.log(
  `${cpus().length} CPUs, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
const servers = await startMockServers()
const manager = McpServerManager.fromConfig(
  parseConfig(
    {
      mcp_servers: {
        crm: {
          url: servers.mcp.url,
          auth: {
            oauth2: {
              token_url: servers.oauth.tokenEndpoint,
              client_id: 'test-client',
              client_secret: 'test-secret',
              scope: 'customer:read',
            },
            cookie_passthrough: { enabled: true, cookie_names: ['session_id', 'user_id'] },
          },
        },
      },
    },
    { env: {} },
  ),
  { retry: false },
)
try {
  await manager.connect()
  await compare('loopback MCP (4 calls per batch)', 'ms per batch', manager, BATCHES)
  const instant: ToolCallHost = {
    listTools: () => manager.listTools(),
    callTool: async (name) => ({ content: [{ type: 'text', text: `{"tool":"${name}"}` }] }),
  }
  await compare('no I/O', 'µs per call', instant, BATCHES * 50)
} finally {
  await manager.close()
  await servers.close()
}
