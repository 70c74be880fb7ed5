// Redis for the rate limits: the client the limiter creates from `redisUrl` (and closes), and the
// deadline a call waits for Redis before it is counted in memory instead.

/** How long the first call waits for a client the manager created to connect, ms. */
const CONNECT_WAIT_MS = 2000

/** What the limiter calls on a node-redis client it created. */
export interface OwnedRedisClient {
  on(event: 'error', listener: (err: unknown) => void): unknown
  connect(): Promise<unknown>
  close?(): Promise<unknown>
  quit?(): Promise<unknown>
  destroy?(): void
}

/**
 * A node-redis client for `url` (with `@redis/client`, an optional peer), not yet connected. It
 * fails at once while disconnected and reconnects in the background; its errors are swallowed
 * (outages are reported as events).
 */
export async function createOwnedRedisClient(url: string): Promise<OwnedRedisClient> {
  const { createClient } = await import('@redis/client')
  const client = createClient({
    url,
    // Fail at once while disconnected (the memory counter counts), reconnect in the background.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_WAIT_MS,
      reconnectStrategy: (n: number) => Math.min(2 ** n * 50, 2000),
    },
  }) as unknown as OwnedRedisClient
  // node-redis crashes the process on an 'error' without a listener; outages are reported as events.
  client.on('error', () => {})
  return client
}

/** Connects `client`, waiting for it at most `CONNECT_WAIT_MS` (then it goes on in the background). */
export async function connectWithin(client: OwnedRedisClient): Promise<void> {
  const connected = client.connect().then(
    () => true,
    () => false,
  )
  let timer: ReturnType<typeof setTimeout> | undefined
  const waited = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CONNECT_WAIT_MS)
    timer.unref?.()
  })
  await Promise.race([connected, waited]).finally(() => clearTimeout(timer))
}

/** Closes a client the limiter created; destroys it when closing fails. */
export async function closeOwnedRedisClient(owned: OwnedRedisClient): Promise<void> {
  try {
    if (owned.close) await owned.close()
    else if (owned.quit) await owned.quit()
  } catch {
    owned.destroy?.()
  }
}

/** `promise`, or a rejection after `ms`; the late outcome of `promise` is swallowed. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms)
    timer.unref?.()
  })
  promise.catch(() => {})
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
