/**
 * RFC 7230 / RFC 9110 character classes shared by the cookie and header filters. Lookups go
 * through a 128-entry table so the hot path is one array read per character.
 *
 * @see RFC 9110 §5.6.2 (token), RFC 6265 §4.1.1 (cookie-name = token)
 */

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
//       / DIGIT / ALPHA
const TCHAR = /* @__PURE__ */ (() => {
  const table = new Uint8Array(128)
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = 1
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1
  return table
})()

/** Whether `str.slice(start, end)` is a (possibly empty) run of RFC 9110 `tchar`. */
export function isTokenRange(str: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = str.charCodeAt(i)
    if (c >= 128 || TCHAR[c] === 0) return false
  }
  return true
}

/** Whether `str` is an RFC 9110 `token` (one or more `tchar`). */
export function isToken(str: string): boolean {
  return str.length > 0 && isTokenRange(str, 0, str.length)
}

/** Whether `code` is optional whitespace (SP or HTAB). @see RFC 9110 §5.6.3 */
export function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/**
 * Whether `code` is a control character (0x00–0x1F, 0x7F) or cannot be sent as one byte of a
 * header (above 0xFF: `Headers` holds ByteStrings and throws on such characters).
 */
export function isCtlOrNonByte(code: number): boolean {
  return code < 0x20 || code === 0x7f || code > 0xff
}
