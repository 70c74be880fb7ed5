/**
 * Loading a configuration file (Node only: exported from `@mcp-oauth2/auth-core/node`, so the
 * root entry stays free of `node:` imports).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { ConfigEnv } from './config.js'
import { parseConfigInput } from './config-normalise.js'
import type { McpConfig } from './config-schema.js'
import { configError } from './internal/config-issues.js'

/** Largest configuration file read. */
const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024

/**
 * Opened without blocking: opening a FIFO for reading waits for a writer otherwise (a config that
 * names one would hang the process). The file is then checked to be a regular file.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)

/** A file refused before reading: not a regular file, or over its size cap. `reason` is for issues. */
class RefusedFileError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'RefusedFileError'
  }
}

function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`
}

function refuse(stat: { isFile(): boolean; size: number }, maxBytes: number): void {
  if (!stat.isFile()) throw new RefusedFileError('is not a regular file')
  if (stat.size > maxBytes) throw new RefusedFileError(`is larger than ${describeBytes(maxBytes)}`)
}

/**
 * Read a regular file of at most `maxBytes` as UTF-8: a FIFO, a device (`/dev/zero`), a directory
 * or a larger file is refused before (or, if it grows, while) it is read.
 */
function readRegularFileSync(path: string, maxBytes: number): string {
  const fd = openSync(path, OPEN_FLAGS)
  try {
    refuse(fstatSync(fd), maxBytes)
    const buffer = Buffer.alloc(maxBytes + 1)
    let length = 0
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
      if (length > maxBytes) throw new RefusedFileError(`is larger than ${describeBytes(maxBytes)}`)
    }
    return buffer.toString('utf8', 0, length)
  } finally {
    closeSync(fd)
  }
}

async function readRegularFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, OPEN_FLAGS)
  try {
    refuse(await handle.stat(), maxBytes)
    const buffer = Buffer.alloc(maxBytes + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > maxBytes) throw new RefusedFileError(`is larger than ${describeBytes(maxBytes)}`)
    }
    return buffer.toString('utf8', 0, length)
  } finally {
    await handle.close()
  }
}

function whyNot(err: unknown): string {
  if (err instanceof RefusedFileError) return err.reason
  const code = (err as { code?: unknown } | null)?.code
  return `cannot be read${typeof code === 'string' ? ` (${code})` : ''}`
}

/** Options of {@link loadConfigFile}. */
export interface LoadConfigFileOptions {
  /**
   * Variables for `${VAR}`, `${VAR:-default}` and LiteLLM's `os.environ/VAR`.
   * @default process.env
   */
  env?: ConfigEnv | undefined
}

/**
 * Read, validate and normalise a YAML or JSON configuration file (the seed's shape or LiteLLM's
 * `config.yaml`). Relative `private_key_file`, `tls.ca_file`, `tls.cert_file` and `tls.key_file`
 * are resolved against the file's directory; the private key is read into `oauth2.privateKey`
 * (a `Secret`) and the TLS files are checked readable (their absolute paths are kept).
 *
 * Every problem is thrown at once as a `ConfigError` whose `file` is the path and whose
 * `issues` name the path inside it (`mcp_servers.crm.auth.oauth2.client_id`).
 *
 * @example
 * ```ts
 * import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
 * const config = await loadConfigFile('config.yaml', { env: process.env })
 * ```
 */
export async function loadConfigFile(path: string, options: LoadConfigFileOptions = {}): Promise<McpConfig> {
  const file = resolve(path)
  let text: string
  try {
    text = await readRegularFile(file, MAX_CONFIG_FILE_BYTES)
  } catch (err) {
    throw configError([{ path: '(file)', message: `${file} ${whyNot(err)}` }], path)
  }
  const dir = dirname(file)
  // Key and TLS files are small and read once at startup; sync reads keep the normaliser simple.
  const cache = new Map<string, string>()
  return parseConfigInput(text, options.env ?? process.env, path, {
    resolve: (p) => resolve(dir, p),
    read: (p, maxBytes) => {
      let content = cache.get(p)
      if (content === undefined) {
        content = readRegularFileSync(p, maxBytes)
        cache.set(p, content)
      }
      return content
    },
    describeError: whyNot,
  })
}
