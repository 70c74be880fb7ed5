/**
 * The node-redis client a store talks through: the part of its API the store uses, the one the
 * store creates from a `url` (with the transport check on the password), and how a server is named
 * in messages (host and port, never the URL's credentials).
 */
import { isLoopbackHost } from '@mcp-oauth2/auth-core'
import { createClient } from '@redis/client'

/**
 * The part of a node-redis client (`redis` / `@redis/client`, v5 or v6) the store uses. Pass your
 * own client to share its connection settings (TLS, ACL user, sentinel-free reconnect policy); the
 * store adds an `error` listener to it (so a connection error never crashes the process), makes one
 * duplicate connection for its notices, and never closes your client.
 */
export interface RedisClientLike {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect(): Promise<unknown>
  sendCommand(args: readonly string[]): Promise<unknown>
  duplicate(): RedisClientLike
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>
  // biome-ignore lint/suspicious/noExplicitAny: the EventEmitter signature node-redis clients have
  on(event: 'error' | 'ready', listener: (...args: any[]) => void): unknown
  // biome-ignore lint/suspicious/noExplicitAny: the EventEmitter signature node-redis clients have
  off(event: 'error' | 'ready', listener: (...args: any[]) => void): unknown
  close(): Promise<unknown>
  destroy(): unknown
}

/** A server as messages name it: `host:port`, never the URL's user or password. */
function serverOf(url: URL): string {
  return url.port ? `${url.hostname}:${url.port}` : url.hostname
}

/** The server of a client passed in, from its options (node-redis defaults otherwise). */
export function describeClient(client: RedisClientLike): string {
  const options = (client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown } } })
    .options
  if (typeof options?.url === 'string') {
    try {
      return serverOf(new URL(options.url))
    } catch {}
  }
  const host = typeof options?.socket?.host === 'string' ? options.socket.host : 'localhost'
  const port = typeof options?.socket?.port === 'number' ? options.socket.port : 6379
  return `${host}:${port}`
}

/**
 * The client of a store given `url`: checked (`redis://` or `rediss://`; a password over plain
 * `redis://` only to loopback or with `allowInsecureTransport`), failing fast while disconnected.
 */
export function createUrlClient(
  url: string,
  allowInsecureTransport: boolean | undefined,
): { client: RedisClientLike; server: string } {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError('"url" must be a redis:// or rediss:// URL')
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new TypeError('"url" must be a redis:// or rediss:// URL')
  if (
    parsed.protocol === 'redis:' &&
    parsed.password !== '' &&
    !isLoopbackHost(parsed.hostname) &&
    allowInsecureTransport !== true
  ) {
    throw new TypeError(
      '"url" would send a password over plain redis:// to a host that is not loopback: use rediss:// or set "allowInsecureTransport"',
    )
  }
  const client = createClient({
    url,
    // Fail at once while disconnected instead of queueing: the caller falls back.
    disableOfflineQueue: true,
    // Keeps idle connections alive through NAT and load balancers.
    pingInterval: 10_000,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100),
    },
  }) as unknown as RedisClientLike
  return { client, server: serverOf(parsed) }
}

/** A client passed in, checked: a `TypeError` unless it looks like a node-redis client. */
export function checkClientLike(client: RedisClientLike | undefined): asserts client is RedisClientLike {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.sendCommand !== 'function' ||
    typeof client.duplicate !== 'function'
  ) {
    throw new TypeError('"client" must be a node-redis client (createClient() from redis or @redis/client)')
  }
}
