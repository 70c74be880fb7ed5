/**
 * A store's command connection: one command at a time under the store's deadline (node-redis
 * cannot time out a command it has sent), the first connect waited for within it, a reconnect
 * failing at once, and every failure as a {@link RedisTokenStoreError}.
 */
import { RedisTokenStoreError, type RedisTokenStoreOperation } from '../errors.js'
import { classify, isAuthFailure } from './classify.js'
import type { RedisClientLike } from './redis-client.js'

/** The store's client with its deadline and its connection state. */
export class RedisConnection {
  readonly client: RedisClientLike
  /** `host:port`, for messages. */
  readonly server: string
  readonly #timeoutMs: number
  #closed = false
  #everReady = false
  #lastError: unknown
  /** Operations waiting for the first connection: told when it is ready, or refused. */
  readonly #connecting = new Set<{ ready(): void; refused(error: unknown): void }>()
  readonly #onError = (error: unknown) => {
    this.#lastError = error
    // Wrong credentials will not fix themselves: no need to wait for the deadline.
    if (isAuthFailure(error)) for (const waiter of [...this.#connecting]) waiter.refused(error)
  }
  readonly #onReady = () => {
    this.#everReady = true
    this.#lastError = undefined
    for (const waiter of [...this.#connecting]) waiter.ready()
  }

  /** Listens to `client`'s `error` and `ready` (so a connection error never crashes the process). */
  constructor(client: RedisClientLike, server: string, timeoutMs: number) {
    this.client = client
    this.server = server
    this.#timeoutMs = timeoutMs
    this.client.on('error', this.#onError)
    this.client.on('ready', this.#onReady)
    if (this.client.isReady) this.#onReady()
  }

  /** Later commands fail with `ERR_REDIS_CLOSED`; `ready` is no longer listened to. */
  close(): void {
    this.#closed = true
    this.client.off('ready', this.#onReady)
  }

  /** Gives the client its `error` listeners back as they were (a client passed in). */
  detach(): void {
    this.client.off('error', this.#onError)
  }

  /** Sends one command under the store's deadline; every failure becomes a RedisTokenStoreError. */
  async exec(
    operation: RedisTokenStoreOperation,
    args: string[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const server = this.server
    if (this.#closed) {
      throw new RedisTokenStoreError(
        'ERR_REDIS_CLOSED',
        `redis ${operation} at ${server}: the store is closed`,
        {
          operation,
          server,
        },
      )
    }
    if (signal?.aborted) throw signal.reason
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort = () => {}
    const deadline = new Promise<never>((_, reject) => {
      const fail = (error: unknown) => {
        controller.abort()
        reject(error)
      }
      timer = setTimeout(() => fail(this.#timeoutError(operation)), this.#timeoutMs)
      onAbort = () => fail(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      return await Promise.race([this.#send(args, operation, controller.signal), deadline])
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error
      throw classify(error, operation, server)
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      controller.abort()
    }
  }

  async #send(args: string[], operation: RedisTokenStoreOperation, signal: AbortSignal): Promise<unknown> {
    const client = this.client
    if (!client.isReady) {
      if (isAuthFailure(this.#lastError)) throw classify(this.#lastError, operation, this.server)
      // Reconnecting after an outage: fail at once, the caller falls back. Only the first connect
      // is waited for (within the deadline), so a fleet starting together still shares one token.
      if (this.#everReady)
        throw new RedisTokenStoreError(
          'ERR_REDIS_UNAVAILABLE',
          `redis ${operation} at ${this.server} failed: not connected`,
          { operation, server: this.server },
        )
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          ready: () => {
            done()
            resolve()
          },
          refused: (error: unknown) => {
            done()
            reject(error)
          },
        }
        const onAbort = () => {
          done()
          reject(signal.reason)
        }
        const done = () => {
          this.#connecting.delete(waiter)
          signal.removeEventListener('abort', onAbort)
        }
        this.#connecting.add(waiter)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
    return client.sendCommand(args)
  }

  #timeoutError(operation: RedisTokenStoreOperation): RedisTokenStoreError {
    if (isAuthFailure(this.#lastError)) return classify(this.#lastError, operation, this.server)
    return new RedisTokenStoreError(
      'ERR_REDIS_TIMEOUT',
      `redis ${operation} at ${this.server} timed out after ${this.#timeoutMs} ms`,
      { operation, server: this.server },
    )
  }
}
