// One gateway replica for the shared rate-limit test: a real manager with a limit shared on Redis,
// started as its own process. It connects, says `ready`, waits for `go`, makes its calls for one
// user and sends back what each call got. Run from the repository root: node --import tsx <this file>.

import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { McpServerManager, RateLimitedError, withUserContext } from '@mcp-oauth2/mcp-transport'
import { createClient } from '@redis/client'

const env = process.env
const calls = Number(env.CALLS)
const concurrency = Number(env.CONCURRENCY ?? 8)
const send = (message: unknown) => process.send?.(message)

const redis = createClient({ url: env.REDIS_URL })
redis.on('error', () => {})
await redis.connect()
const manager = new McpServerManager({
  servers: [
    {
      name: 'crm',
      url: env.MCP_URL as string,
      tokenProvider: new ClientCredentialsTokenProvider({
        tokenUrl: env.TOKEN_URL as string,
        clientId: 'test-client',
        clientSecret: 'test-secret',
      }),
    },
  ],
  retry: false,
  rateLimits: {
    user: { limit: Number(env.LIMIT), windowSeconds: 60 },
    redis,
    keyPrefix: env.KEY_PREFIX,
    // A loaded 2-core machine running three replicas: Redis must not be judged down by a slow answer.
    redisTimeoutMs: 5000,
  },
})
await manager.connect()
send({ type: 'ready' })
await new Promise<void>((resolve) => process.once('message', () => resolve()))

type Outcome = { ok: true } | { ok: false; code: string; retryAfterMs: number; scope: string; at: number }
const outcomes: Outcome[] = []
let next = 0
async function worker(): Promise<void> {
  while (next < calls) {
    next++
    try {
      await withUserContext({ userId: env.USER_ID as string }, () =>
        manager.callTool('get_customer_info', { customer_id: 'cust-001' }),
      )
      outcomes.push({ ok: true })
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error
      outcomes.push({
        ok: false,
        code: error.code,
        retryAfterMs: error.retryAfterMs,
        scope: error.scope,
        at: Date.now(),
      })
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker))
send({ type: 'done', outcomes })
await manager.close()
await redis.close()
