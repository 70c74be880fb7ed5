/** A redis-server started by {@link startRedisServer}. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:port`, without a password. */
  readonly url: string
  readonly pid: number | undefined
  /** Whether the process is running (a stopped one counts). */
  readonly running: boolean
  /** Sends a signal: SIGKILL to crash it, SIGSTOP / SIGCONT to freeze and thaw it. */
  signal(name: NodeJS.Signals): void
  /** Kills it with SIGKILL and waits until it is gone. */
  kill(): Promise<void>
  /** Starts it again on the same port with the same options; data is gone. */
  restart(): Promise<void>
  /** Stops it and removes its directory. */
  stop(): Promise<void>
}

export interface StartRedisServerOptions {
  /** Sets `requirepass`. */
  password?: string
  /** More redis-server arguments. */
  args?: string[]
}

export function findRedisServer(): string | undefined
export function ensureRedisServer(options?: { log?: (line: string) => void }): Promise<string>
export function freePort(): Promise<number>
export function startRedisServer(options?: StartRedisServerOptions): Promise<RedisServer>
