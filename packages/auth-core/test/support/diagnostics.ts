// Subscribes to the token providers' diagnostics channels for one test, as an observer would.
import { channel, tracingChannel } from 'node:diagnostics_channel'
import {
  TOKEN_CACHE_CHANNEL,
  TOKEN_REQUEST_CHANNEL,
  type TokenCacheMessage,
  type TokenRequestContext,
} from '../../src/index.js'

export interface Observed {
  /** Token requests as they settled (asyncEnd), copied; `started` counts `start` events. */
  readonly requests: (TokenRequestContext & { error?: unknown; result?: unknown })[]
  readonly started: TokenRequestContext[]
  readonly cache: TokenCacheMessage[]
  /** Everything published, as text (to search for secrets). */
  text(): string
  stop(): void
}

export function observe(): Observed {
  const requests: Observed['requests'] = []
  const started: TokenRequestContext[] = []
  const cache: TokenCacheMessage[] = []
  const handlers = {
    start: (ctx: unknown) => started.push({ ...(ctx as TokenRequestContext) }),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (ctx: unknown) => requests.push({ ...(ctx as TokenRequestContext) }),
    error: () => {},
  }
  const onCache = (message: unknown) => cache.push(message as TokenCacheMessage)
  tracingChannel(TOKEN_REQUEST_CHANNEL).subscribe(handlers)
  channel(TOKEN_CACHE_CHANNEL).subscribe(onCache)
  return {
    requests,
    started,
    cache,
    text: () =>
      JSON.stringify({ requests, started, cache }, (_key, value: unknown) =>
        value instanceof Error ? { ...value, name: value.name, message: value.message } : value,
      ),
    stop() {
      tracingChannel(TOKEN_REQUEST_CHANNEL).unsubscribe(handlers)
      channel(TOKEN_CACHE_CHANNEL).unsubscribe(onCache)
    },
  }
}
