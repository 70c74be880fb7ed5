/**
 * The per-request half of `createHeaderFilter`: reading the user's headers in whatever shape they
 * come, keeping the allowed ones (checked, trimmed, combined), then dropping the ones the request's
 * own `Connection` header names and those over the size caps.
 *
 * @see RFC 9110 §5.2, §5.3 (combining), §7.6.1 (Connection)
 */

import { isNever, type ResolvedHeaderFilter } from './header-filter-options.js'
import { isCtlOrNonByte, isOws, isToken } from './http-token.js'

/** `[name, value]` pairs (the public `FilteredHeaders` has this shape). */
export type HeaderPairs = ReadonlyArray<readonly [name: string, value: string]>

/** The empty result, shared and frozen. */
export const EMPTY: HeaderPairs = Object.freeze([])

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
 * The allowed headers of `headers` (a `Headers`, pairs, an iterable or a record; an object). It
 * may throw on a throwing getter or iterator: the filter catches that.
 */
export function collectHeaders(config: ResolvedHeaderFilter, headers: object): HeaderPairs {
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
}

function considerEntry(config: ResolvedHeaderFilter, state: Collected, entry: unknown): void {
  if (!Array.isArray(entry) || entry.length !== 2) return
  const [name, value] = entry as unknown[]
  if (typeof name === 'string' && typeof value === 'string') consider(config, state, name, value)
}

function consider(config: ResolvedHeaderFilter, state: Collected, rawName: string, rawValue: string): void {
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

function finish(config: ResolvedHeaderFilter, state: Collected): HeaderPairs {
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
