/**
 * The Redis names of a store's cache keys: a token entry per key of the keyring (keyed hashes of
 * the cache key, so nothing in Redis shows it) and one lock, in one hash slot (`{…}`). Remembered
 * both ways, so that a notice naming an entry finds its cache key.
 */
import type { Keyring } from './keyring.js'

/** Names of one cache key in Redis, under every key of the keyring (the encrypting key's first). */
export interface Names {
  readonly names: readonly string[]
  readonly tokens: readonly string[]
  readonly lock: string
}

/** Cache keys whose Redis names are remembered at most (names are cheap to recompute). */
const MAX_REMEMBERED_KEYS = 10_000

/** Cache key → Redis names, and back. */
export class KeyNames {
  readonly #keyring: Keyring
  readonly #prefix: string
  readonly #byKey = new Map<string, Names>()
  readonly #byName = new Map<string, string>()

  constructor(keyring: Keyring, prefix: string) {
    this.#keyring = keyring
    this.#prefix = prefix
  }

  /** The names of `key` (from then on, notices naming them are recognised). */
  of(key: string): Names {
    const known = this.#byKey.get(key)
    if (known !== undefined) return known
    if (this.#byKey.size >= MAX_REMEMBERED_KEYS) {
      this.#byKey.clear()
      this.#byName.clear()
    }
    const names = this.#keyring.names(key)
    const entry: Names = {
      names,
      tokens: names.map((name) => `${this.#prefix}t:{${name}}`),
      lock: `${this.#prefix}l:{${names[0]}}`,
    }
    this.#byKey.set(key, entry)
    for (const name of names) this.#byName.set(name, key)
    return entry
  }

  /** The cache key a name (from a notice) belongs to, when it is one of ours. */
  keyOf(name: string): string | undefined {
    return this.#byName.get(name)
  }
}
