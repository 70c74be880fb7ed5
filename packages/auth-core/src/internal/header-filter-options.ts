/**
 * `createHeaderFilter`'s options, checked and compiled once: the names never forwarded, and the
 * routes from incoming names to forwarded names that the filter looks up per header.
 *
 * @see RFC 9110 §5.1 (field names), §7.6.1 (Connection)
 */
import { isToken } from './http-token.js'

/** The options as given, not yet checked (the public `HeaderFilterOptions` has this shape). */
export interface HeaderFilterOptionsInput {
  readonly allow: readonly string[]
  readonly rename?: Readonly<Record<string, string>> | undefined
  readonly maxValueBytes?: number | undefined
  readonly maxTotalBytes?: number | undefined
}

const DEFAULT_MAX_VALUE_BYTES = 8000
const DEFAULT_MAX_TOTAL_BYTES = 16384

/** The names behind the public `NEVER_FORWARD_HEADERS` (its JSDoc says why each is there). */
export const NEVER_FORWARDED_NAMES: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
  'content-length',
  'cookie',
  'set-cookie',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
])

/** The prefixes behind the public `NEVER_FORWARD_HEADER_PREFIXES`. */
export const NEVER_FORWARDED_PREFIXES: readonly string[] = Object.freeze(['proxy-'])

const NEVER = new Set(NEVER_FORWARDED_NAMES)

/** Never forwarded, whatever the options say. */
export function isNever(name: string): boolean {
  return NEVER.has(name) || NEVER_FORWARDED_PREFIXES.some((prefix) => name.startsWith(prefix))
}

/** The filter's options, compiled. */
export interface ResolvedHeaderFilter {
  /**
   * Lowercase incoming name → forwarded name (allowed names and rename sources), or null for
   * names never forwarded (and `authorization` when it is not a rename source). One lookup per
   * header on the hot path.
   */
  readonly routes: ReadonlyMap<string, string | null>
  readonly prefixes: readonly string[]
  readonly maxValueBytes: number
  readonly maxTotalBytes: number
  /** Every name that can be forwarded (sources of renames included), when there are no prefixes. */
  readonly lookup: readonly string[] | undefined
}

/** Check `options` (a `TypeError` naming the option) and compile them. */
export function resolveHeaderFilterOptions(options: HeaderFilterOptionsInput): ResolvedHeaderFilter {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createHeaderFilter options must be an object')
  }
  const {
    allow,
    rename = {},
    maxValueBytes = DEFAULT_MAX_VALUE_BYTES,
    maxTotalBytes = DEFAULT_MAX_TOTAL_BYTES,
  } = options
  if (!Array.isArray(allow)) throw new TypeError('"allow" option must be an array of header names')
  if (typeof rename !== 'object' || rename === null || Array.isArray(rename)) {
    throw new TypeError('"rename" option must be an object mapping header names to header names')
  }
  positiveInteger(maxValueBytes, 'maxValueBytes')
  positiveInteger(maxTotalBytes, 'maxTotalBytes')

  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const entry of allow as readonly unknown[]) {
    if (typeof entry !== 'string') {
      throw new TypeError(`"allow" option entries must be header names, got ${typeof entry}`)
    }
    const name = entry.toLowerCase()
    if (name.endsWith('*')) {
      const prefix = name.slice(0, -1)
      if (!isToken(prefix)) {
        throw new TypeError(
          `"allow" option entry ${JSON.stringify(entry)} must be a header name or a non-empty prefix followed by "*"`,
        )
      }
      if (!prefixes.includes(prefix)) prefixes.push(prefix)
      continue
    }
    if (!isToken(name)) {
      throw new TypeError(`"allow" option entry ${JSON.stringify(entry)} is not a header name`)
    }
    if (name === 'authorization') {
      throw new TypeError(
        '"allow" option must not list "authorization": forward a user header as authorization only through "rename"',
      )
    }
    if (isNever(name)) {
      throw new TypeError(
        `"allow" option entry ${JSON.stringify(entry)} names a header that is never forwarded`,
      )
    }
    exact.add(name)
  }

  const renames = new Map<string, string>()
  const targets = new Set<string>()
  for (const [rawSource, rawTarget] of Object.entries(rename as Record<string, unknown>)) {
    if (typeof rawTarget !== 'string') {
      throw new TypeError(`"rename" option value for ${JSON.stringify(rawSource)} must be a header name`)
    }
    const source = rawSource.toLowerCase()
    const target = rawTarget.toLowerCase()
    if (!isToken(source) || !isToken(target)) {
      throw new TypeError(
        `"rename" option entry ${JSON.stringify(rawSource)} → ${JSON.stringify(rawTarget)} must map a header name to a header name`,
      )
    }
    if (source === 'connection' || isNever(source) || isNever(target)) {
      throw new TypeError(
        `"rename" option entry ${JSON.stringify(rawSource)} → ${JSON.stringify(rawTarget)} involves a header that is never forwarded`,
      )
    }
    if (renames.has(source)) {
      throw new TypeError(
        `"rename" option lists ${JSON.stringify(rawSource)} twice (names are case-insensitive)`,
      )
    }
    if (targets.has(target)) {
      throw new TypeError(`"rename" option maps two headers to ${JSON.stringify(rawTarget)}`)
    }
    if (exact.has(target) || prefixes.some((p) => target.startsWith(p))) {
      throw new TypeError(
        `"rename" option target ${JSON.stringify(rawTarget)} is also matched by "allow": each forwarded header must have one source`,
      )
    }
    renames.set(source, target)
    targets.add(target)
  }

  const routes = new Map<string, string | null>()
  for (const name of NEVER) routes.set(name, null)
  routes.set('authorization', null) // `authorization` only ever comes from a rename
  for (const name of exact) routes.set(name, name)
  for (const [source, target] of renames) routes.set(source, target)
  const lookup = prefixes.length === 0 ? [...new Set([...exact, ...renames.keys()])] : undefined
  return { routes, prefixes, maxValueBytes, maxTotalBytes, lookup }
}

function positiveInteger(value: unknown, option: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`"${option}" option must be a positive integer`)
  }
}
