import type { ConfigPath, IssueList } from './config-issues.js'

/** Environment variables, as in `process.env`. */
export type EnvLike = Readonly<Record<string, string | undefined>>

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
/** LiteLLM's reference form: the whole value is `os.environ/NAME`. */
const LITELLM_REF = /^os\.environ\/(.*)$/

/**
 * Replace environment references in every string value of `value` (keys are left alone) and
 * return a new tree; the input is not mutated.
 *
 * - `${NAME}`: the variable's value; an unset variable is an issue naming the variable and the
 *   path, never a silent empty string. A variable set to the empty string is used as is.
 * - `${NAME:-default}`: `default` when the variable is unset or empty (as in POSIX shells).
 * - `$${`: a literal `${`.
 * - `os.environ/NAME` as the whole value: LiteLLM's form, same rules as `${NAME}`.
 *
 * Issues never contain a variable's value.
 */
export function interpolateEnv(value: unknown, env: EnvLike, path: ConfigPath, issues: IssueList): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path, issues)
  if (Array.isArray(value)) return value.map((item, i) => interpolateEnv(item, env, [...path, i], issues))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment: a `__proto__` key from YAML must stay a plain (reported) key.
      Object.defineProperty(out, key, {
        value: interpolateEnv(item, env, [...path, key], issues),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  return value
}

function interpolateString(text: string, env: EnvLike, path: ConfigPath, issues: IssueList): string {
  const litellm = LITELLM_REF.exec(text)
  if (litellm) {
    const name = litellm[1] ?? ''
    if (!NAME.test(name)) {
      issues.add(path, `malformed environment reference "os.environ/${name}"`)
      return ''
    }
    const found = env[name]
    if (found === undefined) {
      issues.add(path, `environment variable ${name} is not set (referenced as os.environ/${name})`)
      return ''
    }
    return found
  }
  if (!text.includes('$')) return text

  let out = ''
  let failed = false
  let i = 0
  while (i < text.length) {
    const dollar = text.indexOf('$', i)
    if (dollar === -1) {
      out += text.slice(i)
      break
    }
    out += text.slice(i, dollar)
    if (text.startsWith('$${', dollar)) {
      out += '${'
      i = dollar + 3
      continue
    }
    if (text[dollar + 1] !== '{') {
      out += '$'
      i = dollar + 1
      continue
    }
    const close = text.indexOf('}', dollar + 2)
    if (close === -1) {
      issues.add(path, 'unterminated "${" in environment reference (write "$${" for a literal "${")')
      return ''
    }
    const body = text.slice(dollar + 2, close)
    const sep = body.indexOf(':-')
    const name = sep === -1 ? body : body.slice(0, sep)
    if (!NAME.test(name)) {
      issues.add(path, `malformed environment reference "\${${name}}": names are letters, digits and _`)
      failed = true
      i = close + 1
      continue
    }
    const found = env[name]
    if (sep !== -1) {
      out += found === undefined || found === '' ? body.slice(sep + 2) : found
    } else if (found === undefined) {
      issues.add(path, `environment variable ${name} is not set (use \${${name}:-default} for a default)`)
      failed = true
    } else {
      out += found
    }
    i = close + 1
  }
  return failed ? '' : out
}

/** A plain object (from YAML, JSON or a literal), not a class instance such as a `Secret`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** `process.env` where there is one (read through `globalThis`: the root entry imports no `node:`). */
export function defaultEnv(): EnvLike {
  const proc = (globalThis as { process?: { env?: EnvLike } }).process
  return proc?.env ?? {}
}
