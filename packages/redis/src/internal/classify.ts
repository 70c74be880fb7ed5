import { RedisTokenStoreError, type RedisTokenStoreOperation } from '../errors.js'

const AUTH_REPLIES = new Set(['WRONGPASS', 'NOAUTH', 'NOPERM'])

/** The first word of a server error reply (`WRONGPASS`, `OOM`, `ERR`), else undefined. */
function replyCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  // node-redis names server replies SimpleError / BlobError (both ErrorReply).
  if (!/^(SimpleError|BlobError|ErrorReply)$/.test(error.constructor.name)) return undefined
  const word = /^([A-Z][A-Z_-]*)\b/.exec(error.message)?.[1]
  return word
}

/** Whether `error` says the server refused this client's credentials or ACL permissions. */
export function isAuthFailure(error: unknown): boolean {
  const reply = replyCode(error)
  return reply !== undefined && AUTH_REPLIES.has(reply)
}

/**
 * A {@link RedisTokenStoreError} for what the client threw. Server replies keep only their first
 * word (a reply can quote arguments); network errors keep their cause (they name no secret).
 */
export function classify(
  error: unknown,
  operation: RedisTokenStoreOperation,
  server: string,
): RedisTokenStoreError {
  if (error instanceof RedisTokenStoreError) return error
  const reply = replyCode(error)
  if (reply !== undefined && AUTH_REPLIES.has(reply)) {
    return new RedisTokenStoreError(
      'ERR_REDIS_AUTH',
      `redis ${operation} at ${server} was refused: ${reply}`,
      {
        operation,
        server,
        reply,
      },
    )
  }
  if (reply !== undefined) {
    return new RedisTokenStoreError('ERR_REDIS_COMMAND', `redis ${operation} at ${server} failed: ${reply}`, {
      operation,
      server,
      reply,
    })
  }
  return new RedisTokenStoreError(
    'ERR_REDIS_UNAVAILABLE',
    `redis ${operation} at ${server} failed: server unavailable`,
    {
      operation,
      server,
      cause: error instanceof Error && !error.constructor.name.endsWith('Reply') ? error : undefined,
    },
  )
}
