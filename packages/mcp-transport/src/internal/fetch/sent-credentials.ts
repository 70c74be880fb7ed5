import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Where the credential values an auth fetch puts on MCP requests are noted while an operation
 * runs (a connection attempt, a tool call), so that the operation's errors can have them removed
 * when a server echoes them back (#13 item 11). Bounded: a caller keeps at most
 * {@link MAX_SENT_CREDENTIALS} values, the newest last.
 */
export type SentCredentials = Set<string>

/** Values a {@link SentCredentials} keeps at most (the oldest go first). */
export const MAX_SENT_CREDENTIALS = 32

const storage = new AsyncLocalStorage<SentCredentials>()
/** Whether anyone ever recorded: until then, no request looks for where to note. */
let recorded = false

/**
 * Runs `fn` with `into` as where credentials sent meanwhile (in its async context: the SDK's
 * requests made for it, their retries) are noted. The innermost call wins.
 */
export function recordingSentCredentials<T>(into: SentCredentials, fn: () => T): T {
  recorded = true
  return storage.run(into, fn)
}

/** Notes a credential value put on a request (the bearer step's token), if anyone records. */
export function noteSentCredential(value: string): void {
  if (!recorded) return
  const into = storage.getStore()
  if (into === undefined) return
  into.delete(value)
  if (into.size >= MAX_SENT_CREDENTIALS) {
    const oldest = into.values().next().value
    if (oldest !== undefined) into.delete(oldest)
  }
  into.add(value)
}
