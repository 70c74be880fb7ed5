import { isCtlOrNonByte, isOws, isToken, isTokenRange } from './internal/http-token.js'

/** Options of {@link createCookieFilter}. */
export interface CookieFilterOptions {
  /**
   * Cookie names to forward, matched exactly and case-sensitively (cookie names are
   * case-sensitive, RFC 6265 §5.3). Each must be an RFC 9110 token. An entry ending in `*` is
   * refused: `*` is a legal cookie-name character, so use {@link CookieFilterOptions.allowPrefixes}
   * to match by prefix.
   */
  allow: readonly string[]
  /**
   * Name prefixes to forward, matched case-sensitively: `['sess_']` forwards `sess_`, `sess_a`, …
   * (the rest of the name must still be a token). Prefix matching is opt-in on purpose: a prefix
   * lets through names the operator never listed.
   *
   * @default []
   */
  allowPrefixes?: readonly string[]
  /**
   * Maximum length in bytes of the returned header value (`a=1; b=2`, without `Cookie: `).
   * Pairs are taken in order; a pair that would push the total over the cap is dropped and later
   * pairs that still fit are kept. A value is never truncated. Every character kept is a single
   * byte on the wire, so length in characters is length in bytes.
   *
   * The default keeps `Cookie: ` plus the value under Apache's default `LimitRequestFieldSize`
   * (8190) and nginx's 8 KiB header buffer.
   *
   * @default 8000
   */
  maxBytes?: number
}

/**
 * Filters a `Cookie` request header down to the allowed cookies. Returns `undefined` when
 * nothing is left (never an empty header). It never throws.
 */
export type CookieFilter = (cookieHeader: string | null | undefined) => string | undefined

const DEFAULT_MAX_BYTES = 8000

function noCookies(): undefined {
  return undefined
}

/**
 * Create a filter that keeps only the allowed cookies of a `Cookie` request header.
 *
 * The header is split as RFC 6265 §5.4 serialises it (`name=value` pairs separated by `;`),
 * the way the `cookie` package's `parse` splits it: the first `=` ends the name, and spaces and
 * tabs around the name and the value are not part of them. The filter then:
 * - keeps allowed pairs in their original order, name and value byte for byte (no URI decoding,
 *   no unquoting), re-joined with `"; "`;
 * - drops pairs without `=`, with a name that is not an RFC 9110 token, or with a control
 *   character (CR, LF, NUL, HTAB, DEL, …) or a character above 0xFF in the value;
 * - considers only the **first** occurrence of a name (as `cookie.parse` does, and as a user
 *   agent puts the most specific cookie first, RFC 6265 §5.4 step 2): if that occurrence is
 *   dropped (invalid or over the cap), the name is not forwarded at all, so a later duplicate
 *   can never stand in for it;
 * - caps the result at `maxBytes` by dropping whole pairs (see {@link CookieFilterOptions.maxBytes}).
 *
 * Values are otherwise taken as user agents send them: RFC 6265 §4.1.1 forbids spaces, `"`,
 * `,` and `\` inside a value, but browsers send them and they are harmless in a `Cookie` header.
 *
 * The filter is idempotent (filtering its output again gives the same output), and any input
 * that is not a string gives `undefined`. It keeps the last header it filtered and its answer, and
 * answers that header again without a scan (a user's requests repeat it); the next other header
 * replaces both. They are only ever compared, never part of an error or a log.
 *
 * We split the header ourselves rather than with `cookie.parse`: `parse` returns an object, which
 * loses the pairs' order for integer-like names (`"1"` sorts before `"a"`), and would allocate
 * every pair of a large header; a single pass that only slices candidate names does neither.
 * The tests check that every pair we keep has the value `cookie.parse` (with an identity
 * `decode`) gives it.
 *
 * @example
 * ```ts
 * const filterCookies = createCookieFilter({ allow: ['session_id', 'user_id'] })
 * filterCookies('theme=dark; session_id=abc; user_id=42') // 'session_id=abc; user_id=42'
 * filterCookies('theme=dark') // undefined
 * ```
 *
 * @see RFC 6265 §4.2 (Cookie header), §5.4 (serialisation)
 */
export function createCookieFilter(options: CookieFilterOptions): CookieFilter {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createCookieFilter options must be an object')
  }
  const { allow, allowPrefixes = [], maxBytes = DEFAULT_MAX_BYTES } = options
  if (!Array.isArray(allow)) throw new TypeError('"allow" option must be an array of cookie names')
  if (!Array.isArray(allowPrefixes)) {
    throw new TypeError('"allowPrefixes" option must be an array of cookie-name prefixes')
  }
  if (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new TypeError('"maxBytes" option must be a positive integer')
  }

  // Exact names map to a slot; a slot holds the number of the call that last saw the name, so
  // duplicate detection for exact names allocates nothing per call.
  const slots = new Map<string, number>()
  let minLength = Number.POSITIVE_INFINITY
  let maxLength = 0
  for (const name of allow as readonly unknown[]) {
    if (typeof name !== 'string' || !isToken(name)) {
      throw new TypeError(`"allow" option entries must be cookie names (RFC 9110 tokens), got ${show(name)}`)
    }
    if (name.endsWith('*')) {
      throw new TypeError(
        `"allow" option entry ${show(name)} ends with "*": use the "allowPrefixes" option to match by prefix`,
      )
    }
    if (!slots.has(name)) slots.set(name, slots.size)
    minLength = Math.min(minLength, name.length)
    maxLength = Math.max(maxLength, name.length)
  }
  const prefixes: string[] = []
  for (const prefix of allowPrefixes as readonly unknown[]) {
    if (typeof prefix !== 'string' || !isToken(prefix)) {
      throw new TypeError(
        `"allowPrefixes" option entries must be non-empty cookie-name prefixes, got ${show(prefix)}`,
      )
    }
    if (!prefixes.includes(prefix)) prefixes.push(prefix)
  }
  if (slots.size === 0 && prefixes.length === 0) return noCookies

  const seenInCall = new Uint32Array(slots.size)
  let call = 0
  // The last header filtered and what it gave. A user's requests filter the same header again
  // (a tool call's POST, its retry, the next call in the same session), and the same text always
  // gives the same answer: one string comparison instead of a scan, and the same string out, so
  // the fetch underneath checks a value it has seen (no new string to build and flatten). Only
  // compared, never shown; the next different header replaces both.
  let lastHeader: string | undefined
  let lastResult: string | undefined

  return function cookieFilter(cookieHeader) {
    // The shortest pair is `a=`.
    if (typeof cookieHeader !== 'string' || cookieHeader.length < 2) return undefined
    if (cookieHeader === lastHeader) return lastResult
    const header = cookieHeader
    call = (call + 1) >>> 0
    if (call === 0) {
      seenInCall.fill(0)
      call = 1
    }
    let seenPrefixed: Set<string> | undefined
    let out = ''
    const len = header.length
    // Position of the next `=` at or after the current pair. Remembering it keeps the scan linear
    // on headers full of pairs without `=` (`a;a;a;…;b=1`).
    let nextEq = -2
    let pos = 0
    while (pos < len) {
      let end = header.indexOf(';', pos)
      if (end === -1) end = len
      const pairStart = pos
      pos = end + 1

      if (nextEq !== -1 && nextEq < pairStart) nextEq = header.indexOf('=', pairStart)
      if (nextEq === -1) break // no `=` left: no pair left
      const eq = nextEq
      if (eq > end) continue // no `=` in this pair

      let nameStart = pairStart
      while (nameStart < eq && isOws(header.charCodeAt(nameStart))) nameStart++
      let nameEnd = eq
      while (nameEnd > nameStart && isOws(header.charCodeAt(nameEnd - 1))) nameEnd--
      const nameLength = nameEnd - nameStart
      if (nameLength === 0) continue

      // Is the name allowed? Exact names first (one slice, one map lookup), then prefixes.
      let name: string | undefined
      let slot: number | undefined
      if (nameLength >= minLength && nameLength <= maxLength) {
        const candidate = header.slice(nameStart, nameEnd)
        slot = slots.get(candidate)
        if (slot !== undefined) name = candidate
      }
      if (name === undefined) {
        for (const prefix of prefixes) {
          if (
            nameLength >= prefix.length &&
            header.startsWith(prefix, nameStart) &&
            isTokenRange(header, nameStart + prefix.length, nameEnd)
          ) {
            name = header.slice(nameStart, nameEnd)
            break
          }
        }
        if (name === undefined) continue
      }

      // Only the first occurrence of a name counts, kept or not.
      if (slot !== undefined) {
        if (seenInCall[slot] === call) continue
        seenInCall[slot] = call
      } else {
        seenPrefixed ??= new Set()
        if (seenPrefixed.has(name)) continue
        seenPrefixed.add(name)
      }

      let valueStart = eq + 1
      while (valueStart < end && isOws(header.charCodeAt(valueStart))) valueStart++
      let valueEnd = end
      while (valueEnd > valueStart && isOws(header.charCodeAt(valueEnd - 1))) valueEnd--
      let clean = true
      for (let i = valueStart; i < valueEnd; i++) {
        if (isCtlOrNonByte(header.charCodeAt(i))) {
          clean = false
          break
        }
      }
      if (!clean) continue

      const pairLength = nameLength + 1 + (valueEnd - valueStart)
      if (out.length + (out.length === 0 ? 0 : 2) + pairLength > maxBytes) continue
      // A pair written as `name=value` is one slice of the input; otherwise rebuild it without
      // the whitespace around `=`.
      const pair =
        nameEnd === eq && valueStart === eq + 1
          ? header.slice(nameStart, valueEnd)
          : `${name}=${header.slice(valueStart, valueEnd)}`
      out = out.length === 0 ? pair : `${out}; ${pair}`
    }
    lastHeader = header
    lastResult = out.length === 0 ? undefined : out
    return lastResult
  }
}

/** Describe an option value for an error message (never a secret here: these are names). */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value
}
