import { channel, tracingChannel } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { TOKEN_CACHE_CHANNEL, TOKEN_REQUEST_CHANNEL, type TokenRequestContext } from '../src/diagnostics.js'
import { publishTokenCache, traceTokenRequest } from '../src/internal/diagnostics.js'

const context = (): TokenRequestContext => ({
  grant: 'client_credentials',
  endpoint: 'https://as.example.test/token',
  scopes: ['mcp:read'],
  reason: 'cold',
})

describe('diagnostics channels', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup()
  })

  it('publishes start and asyncEnd of a token request to subscribers, with the settled context', async () => {
    const seen: string[] = []
    const handlers = {
      start: (ctx: unknown) => seen.push(`start ${(ctx as TokenRequestContext).grant}`),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: unknown) => seen.push(`asyncEnd ${(ctx as TokenRequestContext).outcome}`),
      error: (ctx: unknown) => seen.push(`error ${String((ctx as { error: unknown }).error)}`),
    }
    tracingChannel(TOKEN_REQUEST_CHANNEL).subscribe(handlers)
    cleanups.push(() => tracingChannel(TOKEN_REQUEST_CHANNEL).unsubscribe(handlers))
    const ctx = context()
    const value = await traceTokenRequest(ctx, async () => {
      ctx.outcome = 'ok'
      return 42
    })
    expect(value).toBe(42)
    expect(seen).toEqual(['start client_credentials', 'asyncEnd ok'])
    await expect(
      traceTokenRequest(context(), async () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(seen.at(-2)).toBe('error Error: boom')
  })

  it('builds no cache message when nobody listens, and publishes one when somebody does', () => {
    let built = 0
    const message = () => {
      built++
      return { grant: 'client_credentials', result: 'hit' as const, scopes: [] }
    }
    publishTokenCache(message)
    expect(built).toBe(0)
    const seen: unknown[] = []
    const listener = (m: unknown) => seen.push(m)
    channel(TOKEN_CACHE_CHANNEL).subscribe(listener)
    cleanups.push(() => channel(TOKEN_CACHE_CHANNEL).unsubscribe(listener))
    publishTokenCache(message)
    expect(built).toBe(1)
    expect(seen).toEqual([{ grant: 'client_credentials', result: 'hit', scopes: [] }])
  })
})
