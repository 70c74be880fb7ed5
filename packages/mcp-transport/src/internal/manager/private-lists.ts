import type { Tool } from '@modelcontextprotocol/sdk/types.js'

/** Users whose private tool lists a server keeps at most (the oldest is dropped). */
export const MAX_PRIVATE_LISTS = 1000

interface KeptList {
  readonly tools: readonly Tool[]
  /** When it was listed, epoch ms (the manager's `now`). */
  readonly listedAt: number
  /** How long it may be reused, ms; `undefined`: until the server says its tools changed. */
  readonly ttlMs: number | undefined
}

/**
 * One server's tool lists that are private to a user (a 2026-07-28 server's
 * `cacheScope: 'private'`): each kept for its user only, until its `ttlMs`, for at most
 * {@link MAX_PRIVATE_LISTS} users, oldest first.
 */
export class PrivateLists {
  /** By user, oldest first (a Map keeps insertion order). */
  readonly #lists = new Map<string, KeptList>()

  /** The user's list, if it is kept and not past its `ttlMs` at `now`. */
  fresh(user: string, now: number): readonly Tool[] | undefined {
    const kept = this.#lists.get(user)
    if (kept === undefined) return undefined
    return kept.ttlMs === undefined || now - kept.listedAt < kept.ttlMs ? kept.tools : undefined
  }

  /** Keeps the user's list (as the newest), dropping the oldest user's beyond the bound. */
  set(user: string, list: KeptList): void {
    this.#lists.delete(user)
    if (this.#lists.size >= MAX_PRIVATE_LISTS) {
      const oldest = this.#lists.keys().next().value
      if (oldest !== undefined) this.#lists.delete(oldest)
    }
    this.#lists.set(user, list)
  }

  clear(): void {
    this.#lists.clear()
  }
}
