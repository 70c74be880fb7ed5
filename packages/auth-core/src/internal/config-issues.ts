import { AuthCoreError, ConfigError, type ConfigIssue, ErrorCode } from '../errors.js'

/** A path inside a configuration document: object keys and array indexes. */
export type ConfigPath = readonly (string | number)[]

/**
 * Format a path the way operators read it: `mcp_servers.crm.auth.oauth2.client_id`, with array
 * indexes in brackets (`cookie_names[1]`). The empty path is the document itself: `(root)`.
 */
export function formatPath(path: ConfigPath): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? part : `.${part}`
  }
  return out === '' ? '(root)' : out
}

/** Collects issues while a configuration is checked, so that every problem is reported at once. */
export class IssueList {
  readonly issues: ConfigIssue[] = []
  /** The error code behind an issue, when it has one of its own (`ERR_INSECURE_HTTP`). */
  readonly #codes = new WeakMap<ConfigIssue, string>()

  /**
   * Record an issue; the same (path, message) twice is kept once (e.g. a shared default checked
   * per server). `code`: the error code the same problem has outside a configuration
   * (`ERR_INSECURE_HTTP`), which the thrown `ConfigError` carries as its `cause`.
   */
  add(path: ConfigPath | string, message: string, code?: string): void {
    const formatted = typeof path === 'string' ? path : formatPath(path)
    if (this.issues.some((issue) => issue.path === formatted && issue.message === message)) return
    const issue = { path: formatted, message }
    this.issues.push(issue)
    if (code !== undefined) this.#codes.set(issue, code)
  }

  /** The code `add` was given for `issue`, if any. */
  codeOf(issue: ConfigIssue): string | undefined {
    return this.#codes.get(issue)
  }

  get size(): number {
    return this.issues.length
  }

  /**
   * Throw a {@link ConfigError} listing every issue, if there is any. When an issue would send
   * credentials over plain http, its `cause` is an `AuthCoreError` with code `ERR_INSECURE_HTTP`
   * naming the paths, so callers can branch on the code as they do for the programmatic API.
   */
  throwIfAny(file?: string): void {
    if (this.issues.length === 0) return
    const insecure = this.issues.filter((issue) => this.#codes.get(issue) === ErrorCode.InsecureHttp)
    const cause =
      insecure.length === 0
        ? undefined
        : new AuthCoreError(
            ErrorCode.InsecureHttp,
            `credentials would go over plain http to a host that is not loopback (${insecure.map((i) => i.path).join(', ')})`,
          )
    throw configError(this.issues, file, cause)
  }
}

/** Build a {@link ConfigError}; its message lists every issue (issues never hold secret values). */
export function configError(issues: readonly ConfigIssue[], file?: string, cause?: unknown): ConfigError {
  const where = file === undefined ? 'configuration' : `configuration file ${file}`
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`
  const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n')
  return new ConfigError(`invalid ${where} (${count}):\n${lines}`, { issues: [...issues], file, cause })
}

/** The parts of a zod issue we read. zod 4 issues may carry the offending `input`: it is never read. */
export interface ZodIssueLike {
  readonly code?: string
  readonly path: readonly PropertyKey[]
  readonly message: string
  /** `unrecognized_keys` */
  readonly keys?: readonly string[]
  /** `invalid_union`: the issues of each branch. */
  readonly errors?: readonly (readonly ZodIssueLike[])[]
}

/** Whether a union branch failed only because the input has another type (not this branch's). */
function isTypeMismatch(issues: readonly ZodIssueLike[]): boolean {
  return issues.every(
    (issue) => issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value'),
  )
}

/**
 * Flatten zod issues into (path, message) pairs, with two readability fixes: an unknown key is
 * reported at its own path, and a failed union (e.g. `'none' | { … }`) reports the issues of the
 * one branch whose type the input has, instead of a bare "Invalid input".
 */
function flatten(
  issues: readonly ZodIssueLike[],
  base: readonly PropertyKey[],
): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = []
  for (const issue of issues) {
    const path = [...base, ...issue.path]
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown key' })
      continue
    }
    if (issue.code === 'invalid_union' && issue.errors) {
      const candidates = issue.errors.filter((branch) => !isTypeMismatch(branch))
      if (candidates.length === 1 && candidates[0]) {
        out.push(...flatten(candidates[0], path))
        continue
      }
    }
    out.push({ path, message: issue.message })
  }
  return out
}

/**
 * Add zod issues under `prefix`, keeping only their path and message (never their `input`).
 * A path that already has an issue (e.g. an unset environment variable, whose value was left
 * empty) gets no second, derived one.
 */
export function addZodIssues(list: IssueList, prefix: ConfigPath, issues: readonly ZodIssueLike[]): void {
  const known = new Set(list.issues.map((issue) => issue.path))
  for (const issue of flatten(issues, [])) {
    const rest = issue.path.map((p) => (typeof p === 'symbol' ? String(p.description) : p))
    const path = formatPath([...prefix, ...rest])
    if (!known.has(path)) list.add(path, issue.message)
  }
}
