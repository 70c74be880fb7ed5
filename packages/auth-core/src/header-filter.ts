import { isCtlOrNonByte, isOws, isToken } from './internal/http-token.js'

/** Options of {@link createHeaderFilter}. */
export interface HeaderFilterOptions {
  /**
   * Header names to forward, case-insensitive. An entry ending in `*` is a prefix
   * (`x-user-*` forwards `x-user-id`, `x-user-email`, …); a bare `*` is refused.
   *
   * Names that are never forwarded are refused here with a `TypeError`: hop-by-hop headers
   * (`connection`, `keep-alive`, `te`, `trailer`, `transfer-encoding`, `upgrade`, `proxy-*`,
   * `http2-settings`), `host`, `content-length`, `cookie` and `set-cookie` (cookies go through
   * the cookie filter), and `authorization` (configure it as a `rename` target instead). A prefix
   * that happens to match such a name is allowed, and the name is still dropped at run time.
   */
  allow: readonly string[]
  /**
   * Headers to forward under another name, case-insensitive: `{ 'x-upstream-authorization':
   * 'authorization' }`. A renamed header is forwarded only under its new name. Its source is
   * allowed implicitly (it need not be in `allow`). This is the only way a user header can become
   * `authorization`.
   *
   * Refused with a `TypeError`: a source or target that is never forwarded (see `allow`; only
   * `authorization` may be a target), two sources with one target, or a target that `allow` also
   * matches (each forwarded name has exactly one source).
   *
   * @default {}
   */
  rename?: Readonly<Record<string, string>>
  /**
   * Maximum length in bytes of one forwarded value (after duplicates are combined). A longer
   * value drops the header; it is never truncated. Every character kept is a single byte on the
   * wire, so length in characters is length in bytes.
   *
   * @default 8000
   */
  maxValueBytes?: number
  /**
   * Maximum sum, in bytes, of the names and values forwarded. Headers are taken in input order
   * (a `Headers` has no order of its own; it is taken in sorted or configuration order); one that
   * would push the sum over the cap is dropped and later ones that fit are kept.
   *
   * @default 16384 (Node's default `--max-http-header-size`)
   */
  maxTotalBytes?: number
}

/**
 * What a {@link HeaderFilter} accepts: anything `new Headers(…)` accepts (a `Headers`, an array
 * of `[name, value]` pairs, a record), and also Node's `IncomingHttpHeaders` (array values are
 * joined with `", "`). Non-string values are ignored.
 */
export type HeaderFilterInput =
  | HeadersInit
  | Headers
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | null
  | undefined

/**
 * The forwarded headers: `[name, value]` pairs with lowercase, unique names, ready to be
 * `set` on an outgoing `Headers`. Do not mutate it (the empty result is shared and frozen).
 */
export type FilteredHeaders = ReadonlyArray<readonly [name: string, value: string]>

/**
 * Filters a user's request headers down to the allowed ones. It never throws: input it cannot
 * read gives an empty result.
 */
export type HeaderFilter = (headers: HeaderFilterInput) => FilteredHeaders

const DEFAULT_MAX_VALUE_BYTES = 8000
const DEFAULT_MAX_TOTAL_BYTES = 16384

const EMPTY: FilteredHeaders = Object.freeze([])

/**
 * Request headers never forwarded from a user's request, whatever the options say (lower case).
 * Any name starting with one of {@link NEVER_FORWARD_HEADER_PREFIXES} is never forwarded either,
 * nor is any header that the request's own `Connection` header names. `authorization` is not
 * in the list: it can be the target of an explicit `rename`, never an `allow` entry.
 *
 * - hop-by-hop and framing: `connection`, `keep-alive`, `te`, `trailer`, `transfer-encoding`,
 *   `upgrade` (RFC 9110 §7.6.1), `http2-settings` (RFC 9113 §8.2.2), `host`, `content-length`;
 * - cookies, which only the cookie filter forwards: `cookie`, `set-cookie`;
 * - the MCP transport's own protocol headers, so a user can never steer a session or a stream:
 *   `mcp-session-id`, `mcp-protocol-version`, `last-event-id`.
 *
 * The configuration refuses these names (but `cookie`) as static headers too, and
 * `@mcp-oauth2/mcp-transport` applies the same list.
 *
 * @see RFC 9110 §7.6.1
 */
export const NEVER_FORWARD_HEADERS: readonly string[] = Object.freeze([
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

/** Name prefixes never forwarded from a user's request: `proxy-` (`proxy-authorization`, …). */
export const NEVER_FORWARD_HEADER_PREFIXES: readonly string[] = Object.freeze(['proxy-'])

const NEVER = new Set(NEVER_FORWARD_HEADERS)

/** Never forwarded, whatever the options say. */
function isNever(name: string): boolean {
  return NEVER.has(name) || NEVER_FORWARD_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))
}

interface Resolved {
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

/** Per-call scratch state: the forwarded pairs so far, with the incoming name of each. */
interface Collected {
  out: Array<[string, string]>
  sources: string[]
  /** Index by forwarded name, built once `out` is long enough for a linear search to cost. */
  index: Map<string, number> | undefined
  /** `Connection` header value(s) seen, which name more hop-by-hop headers. */
  connection: string | undefined
}

const LINEAR_SEARCH_MAX = 8

/**
 * Create a filter that keeps only the allowed headers of a user's request, for an upstream
 * request made on the user's behalf.
 *
 * The filter:
 * - matches names case-insensitively and returns them lowercase;
 * - never forwards hop-by-hop headers (the fixed list in {@link HeaderFilterOptions.allow},
 *   `proxy-*`, and any header the request's own `Connection` header names, RFC 9110 §7.6.1),
 *   `host`, `content-length`, `cookie`/`set-cookie`, or `authorization` unless it is a `rename`
 *   target;
 * - drops a header whose name is not an RFC 9110 token or whose value holds CR, LF, NUL or another
 *   control character (HTAB excepted) or a character above 0xFF;
 * - trims spaces and tabs around values (as `Headers` does) and otherwise keeps them byte for byte;
 * - combines repeated names in input order with `", "` (as `Headers` does, RFC 9110 §5.3, but
 *   skipping empty values), so filtering a record or pair list gives what filtering
 *   `new Headers(it)` gives;
 * - drops a value over `maxValueBytes` and, in input order, headers past `maxTotalBytes`.
 *
 * It returns `[name, value]` pairs rather than a `Headers`: building a `Headers` costs more
 * than the filtering, and the caller merges into its own outgoing `Headers` anyway:
 * `for (const [name, value] of filter(userHeaders)) outgoing.set(name, value)`.
 *
 * Without `rename`, the filter is idempotent: filtering its output again gives the same output.
 *
 * @example
 * ```ts
 * const filterHeaders = createHeaderFilter({
 *   allow: ['x-request-id', 'x-user-*'],
 *   rename: { 'x-upstream-authorization': 'authorization' },
 * })
 * filterHeaders({ 'X-User-Id': '42', Host: 'evil', 'x-upstream-authorization': 'Bearer u' })
 * // [['x-user-id', '42'], ['authorization', 'Bearer u']]
 * ```
 *
 * @see RFC 9110 §5 (fields), §7.6.1 (Connection)
 */
export function createHeaderFilter(options: HeaderFilterOptions): HeaderFilter {
  const config = resolve(options)

  return function headerFilter(headers) {
    if (typeof headers !== 'object' || headers === null) return EMPTY
    try {
      const state: Collected = { out: [], sources: [], index: undefined, connection: undefined }
      if (config.lookup !== undefined && typeof Headers === 'function' && headers instanceof Headers) {
        // Without prefixes, ask a `Headers` for the few names we could forward: iterating it
        // sorts and copies every entry, several times the cost of a handful of lookups.
        const connection = headers.get('connection')
        if (connection !== null) state.connection = connection
        for (const name of config.lookup) {
          const value = headers.get(name)
          if (value !== null) consider(config, state, name, value)
        }
      } else if (Array.isArray(headers)) {
        for (const entry of headers as readonly unknown[]) considerEntry(config, state, entry)
      } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
        // `Headers` (of any realm), `Map`, generators.
        for (const entry of headers as Iterable<unknown>) considerEntry(config, state, entry)
      } else {
        const record = headers as Readonly<Record<string, unknown>>
        for (const name of Object.keys(record)) {
          const value = record[name]
          if (typeof value === 'string') consider(config, state, name, value)
          else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
            consider(config, state, name, value.join(', '))
          }
        }
      }
      return finish(config, state)
    } catch {
      // A throwing getter or iterator: forward nothing rather than fail the caller's request.
      return EMPTY
    }
  }
}

function considerEntry(config: Resolved, state: Collected, entry: unknown): void {
  if (!Array.isArray(entry) || entry.length !== 2) return
  const [name, value] = entry as unknown[]
  if (typeof name === 'string' && typeof value === 'string') consider(config, state, name, value)
}

function consider(config: Resolved, state: Collected, rawName: string, rawValue: string): void {
  const source = rawName.toLowerCase()
  if (source === 'connection') {
    state.connection = state.connection === undefined ? rawValue : `${state.connection},${rawValue}`
    return
  }
  const route = config.routes.get(source)
  if (route === null) return
  let name = route
  if (name === undefined) {
    // The fixed never-forwarded names and `authorization` are routed to null; `proxy-*` is not.
    if (config.prefixes.length === 0 || isNever(source)) return
    for (const prefix of config.prefixes) {
      if (source.startsWith(prefix)) {
        name = source
        break
      }
    }
    if (name === undefined) return
  }
  // Lowercasing maps some non-ASCII characters to ASCII (U+212A KELVIN SIGN to `k`): check the
  // name as received.
  if (!isToken(rawName)) return

  let start = 0
  let end = rawValue.length
  while (start < end && isOws(rawValue.charCodeAt(start))) start++
  while (end > start && isOws(rawValue.charCodeAt(end - 1))) end--
  for (let i = start; i < end; i++) {
    const c = rawValue.charCodeAt(i)
    if (c !== 0x09 && isCtlOrNonByte(c)) return
  }
  const value = start === 0 && end === rawValue.length ? rawValue : rawValue.slice(start, end)

  const { out } = state
  let at = -1
  if (state.index !== undefined) at = state.index.get(name) ?? -1
  else {
    for (let i = 0; i < out.length; i++) {
      if (out[i]![0] === name) {
        at = i
        break
      }
    }
  }
  if (at !== -1) {
    // Combine as a list (RFC 9110 §5.3). Unlike `Headers`, which would make `", "` of two empty
    // values (and `","` once that is filtered again), skip empty members so filtering is
    // idempotent.
    const pair = out[at]!
    if (value.length === 0) return
    pair[1] = pair[1].length === 0 ? value : `${pair[1]}, ${value}`
    return
  }
  out.push([name, value])
  state.sources.push(source)
  if (state.index !== undefined) state.index.set(name, out.length - 1)
  else if (out.length > LINEAR_SEARCH_MAX) {
    state.index = new Map()
    for (let i = 0; i < out.length; i++) state.index.set(out[i]![0], i)
  }
}

function finish(config: Resolved, state: Collected): FilteredHeaders {
  const { out, sources } = state
  if (out.length === 0) return EMPTY
  const connection = state.connection?.toLowerCase()
  let total = 0
  let kept = 0
  for (let i = 0; i < out.length; i++) {
    const pair = out[i]!
    if (connection !== undefined && listsToken(connection, sources[i]!)) continue
    const [name, value] = pair
    if (value.length > config.maxValueBytes) continue
    if (total + name.length + value.length > config.maxTotalBytes) continue
    total += name.length + value.length
    out[kept++] = pair
  }
  if (kept === 0) return EMPTY
  out.length = kept
  return out
}

/**
 * Whether the comma-separated list `list` (lowercase) has `token` as a member, ignoring spaces and
 * tabs around members. No allocation: it runs on every request that has a `Connection` header.
 *
 * @see RFC 9110 §5.6.1, §7.6.1
 */
function listsToken(list: string, token: string): boolean {
  let from = 0
  for (;;) {
    const at = list.indexOf(token, from)
    if (at === -1) return false
    let before = at - 1
    while (before >= 0 && isOws(list.charCodeAt(before))) before--
    let after = at + token.length
    while (after < list.length && isOws(list.charCodeAt(after))) after++
    if (
      (before < 0 || list.charCodeAt(before) === 0x2c) &&
      (after === list.length || list.charCodeAt(after) === 0x2c)
    ) {
      return true
    }
    from = at + 1
  }
}

function resolve(options: HeaderFilterOptions): Resolved {
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
