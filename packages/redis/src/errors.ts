/**
 * Errors of `@mcp-oauth2/redis`. Every error has a stable `code`; callers (the shared token path
 * of the providers) branch on it. No message or field holds a token, a key, a password or a stored
 * value: messages name the operation and the server (`host:port`) only.
 */
import { AuthCoreError } from '@mcp-oauth2/auth-core'

/** Stable codes of {@link RedisTokenStoreError}. */
export const RedisTokenStoreErrorCode = {
  /** The operation did not settle within `timeoutMs` (server paused, overloaded or unreachable). */
  Timeout: 'ERR_REDIS_TIMEOUT',
  /** The server cannot be reached now (connection refused, closed or reconnecting). */
  Unavailable: 'ERR_REDIS_UNAVAILABLE',
  /** The server refused the credentials or the user's ACL permissions (WRONGPASS, NOAUTH, NOPERM). */
  Auth: 'ERR_REDIS_AUTH',
  /** The server answered the command with an error (e.g. OOM, READONLY, LOADING); see `reply`. */
  Command: 'ERR_REDIS_COMMAND',
  /** A stored entry could not be decrypted or read: written with a key this replica lacks, or altered. */
  Decrypt: 'ERR_REDIS_DECRYPT',
  /** The store was closed. */
  Closed: 'ERR_REDIS_CLOSED',
} as const

export type RedisTokenStoreErrorCode =
  (typeof RedisTokenStoreErrorCode)[keyof typeof RedisTokenStoreErrorCode]

/** The store operation that failed. */
export type RedisTokenStoreOperation = 'get' | 'set' | 'lock' | 'unlock' | 'invalidate'

/** Options of {@link RedisTokenStoreError}. */
export interface RedisTokenStoreErrorOptions {
  /** The failing operation. */
  operation: RedisTokenStoreOperation
  /** The server, `host:port` (never with credentials). */
  server: string
  /** The first word of the server's error reply (e.g. `WRONGPASS`, `OOM`), when there was one. */
  reply?: string | undefined
  /** The underlying error, when it carries nothing secret (network errors). */
  cause?: unknown
}

/**
 * A Redis token store operation failed. The shared token path treats every such error as "the
 * store is unavailable": the call goes on without it.
 *
 * @example
 * ```ts
 * declare const store: RedisTokenStore
 * try {
 *   await store.get('cache-key')
 * } catch (err) {
 *   if (err instanceof RedisTokenStoreError && err.code === 'ERR_REDIS_AUTH') console.error(err.message)
 * }
 * ```
 */
export class RedisTokenStoreError extends AuthCoreError {
  declare readonly code: RedisTokenStoreErrorCode
  readonly operation: RedisTokenStoreOperation
  readonly server: string
  readonly reply: string | undefined

  constructor(code: RedisTokenStoreErrorCode, message: string, options: RedisTokenStoreErrorOptions) {
    super(code, message, { cause: options.cause })
    this.operation = options.operation
    this.server = options.server
    this.reply = options.reply
  }
}
