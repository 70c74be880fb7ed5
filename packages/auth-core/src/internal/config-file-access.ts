/**
 * The files a configuration names (`private_key_file`, `assertion_file`, TLS paths): how they are
 * read (the loader's `ConfigFileAccess`), the size caps, and the checks made at load.
 */
import type { ConfigPath, IssueList } from './config-issues.js'

/**
 * File access for `private_key_file` and TLS paths. Only the Node loader provides it: the root
 * entry has no file system, so without it those paths are kept as written.
 */
export interface ConfigFileAccess {
  /** Absolute form of a path written in the file (relative to the file's directory). */
  resolve(path: string): string
  /**
   * Read an absolute path as UTF-8; throws when it cannot, when it is not a regular file (a FIFO
   * or a device must not hang or exhaust the process) or when it has more than `maxBytes`.
   */
  read(path: string, maxBytes: number): string
  /** Why `read` failed, for an issue: "is not a regular file", "cannot be read (ENOENT)", … */
  describeError(err: unknown): string
}

/** Largest `private_key_file` read (a PEM or JWK private key is a few KiB). */
export const MAX_PRIVATE_KEY_FILE_BYTES = 64 * 1024
/** Largest TLS file read (a CA bundle may hold a few hundred certificates). */
export const MAX_TLS_FILE_BYTES = 1024 * 1024

/** Largest assertion file read at load (the provider reads it again, as it rotates). */
export const MAX_ASSERTION_FILE_BYTES = 64 * 1024

/**
 * A file path of the configuration: resolved and checked readable (a regular file of at most
 * `maxBytes`) when file access is available; a failure is an issue at `path`.
 */
function checkedFile(
  file: string | undefined,
  maxBytes: number,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): string | undefined {
  if (file === undefined || files === undefined) return file
  const absolute = files.resolve(file)
  try {
    files.read(absolute, maxBytes)
  } catch (err) {
    issues.add(path, `${absolute} ${files.describeError(err)}`)
  }
  return absolute
}

/** An assertion file path: resolved and checked readable when file access is available. */
export function assertionFile(
  file: string | undefined,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): string | undefined {
  return checkedFile(file, MAX_ASSERTION_FILE_BYTES, path, issues, files)
}

/** A TLS file path: resolved and checked readable when file access is available. */
export function tlsFile(
  file: string | undefined,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): string | undefined {
  return checkedFile(file, MAX_TLS_FILE_BYTES, path, issues, files)
}
