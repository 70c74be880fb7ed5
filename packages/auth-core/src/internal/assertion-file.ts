/**
 * A file that holds an assertion and is replaced while we run: a Kubernetes projected
 * service-account token (the kubelet swaps a symlink), a token a workload-identity agent writes.
 * Read through `node:fs` looked up at run time (the root entry imports no `node:` module), again
 * whenever the file changed (inode, size or modification time), else from memory.
 */

interface Stats {
  isFile(): boolean
  size: number
  mtimeMs: number
  ino: number
  dev: number
}

interface FsPromises {
  stat(path: string): Promise<Stats>
  readFile(path: string, encoding: 'utf8'): Promise<string>
}

function loadFs(): FsPromises | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return (proc?.getBuiltinModule?.('node:fs') as { promises?: FsPromises } | undefined)?.promises
  } catch {
    return undefined
  }
}

/** Largest assertion file read (a JWT is a few KiB). */
export const MAX_ASSERTION_FILE_BYTES = 64 * 1024

/** Why an assertion file could not be read: a phrase for an error message (never its content). */
export class AssertionFileError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'AssertionFileError'
  }
}

export class AssertionFile {
  readonly #path: string
  readonly #fs: FsPromises
  #last: { version: string; text: string } | undefined

  /** Throws a TypeError when this runtime has no `node:fs`. */
  constructor(path: string, name: string) {
    const fs = loadFs()
    if (fs === undefined)
      throw new TypeError(`"${name}" needs a runtime with node:fs; pass "assertion" instead`)
    this.#path = path
    this.#fs = fs
  }

  get path(): string {
    return this.#path
  }

  /** The file's text, trimmed; read again only when the file changed. */
  async read(): Promise<string> {
    let stats: Stats
    try {
      stats = await this.#fs.stat(this.#path)
    } catch (error) {
      throw new AssertionFileError(`cannot be read (${codeOf(error)})`)
    }
    if (!stats.isFile()) throw new AssertionFileError('is not a regular file')
    if (stats.size > MAX_ASSERTION_FILE_BYTES) throw new AssertionFileError('is larger than 64 KiB')
    const version = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`
    if (this.#last?.version === version) return this.#last.text
    let text: string
    try {
      text = (await this.#fs.readFile(this.#path, 'utf8')).trim()
    } catch (error) {
      throw new AssertionFileError(`cannot be read (${codeOf(error)})`)
    }
    if (text.length > MAX_ASSERTION_FILE_BYTES) throw new AssertionFileError('is larger than 64 KiB')
    if (text === '') throw new AssertionFileError('is empty')
    this.#last = { version, text }
    return text
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'error'
}
