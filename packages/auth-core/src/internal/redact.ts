/**
 * Text a server sent us (an OAuth `error_description`, an MCP server's error body) on its way into
 * one of our error messages or fields: secrets we know are replaced, anything that looks like a
 * credential is replaced, control characters become spaces, and the length is capped.
 */

/** What replaces a credential. */
export const REDACTED = '[redacted]'

/** How much of a server's text is kept by default, in characters. */
export const DEFAULT_MAX_SERVER_TEXT = 256

/** Secrets shorter than this are not searched for: they would match innocent text. */
const MIN_SECRET_LENGTH = 4

// A JWS/JWE compact serialisation or a bare JWT header: base64url of `{"` is `eyJ`.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){0,4}/g
// Credentials after an HTTP authentication scheme (RFC 9110 §11.4 token68 or a parameter list).
const AUTH_SCHEME = /\b(Bearer|Basic|DPoP|Digest|Negotiate|MAC)(\s+)[A-Za-z0-9._~+/=-]+/gi
// Form, JSON or query parameters that carry credentials.
const CREDENTIAL_PARAM =
  /\b(client_secret|client_assertion|access_token|refresh_token|id_token|subject_token|actor_token|assertion|password|code_verifier|authorization|cookie)(\\?["']?\s*[:=]\s*\\?["']?)[^\s"'&,;}\\]+/gi
/** C0 controls and DEL become one space each run: no CR, LF or NUL reaches a message or a log line. */
function withoutControls(text: string): string {
  let out = ''
  let inRun = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) {
      if (!inRun) out += ' '
      inRun = true
    } else {
      out += text[i]
      inRun = false
    }
  }
  return out
}

/**
 * `text` with every one of `secrets` (and its form-urlencoded form), every JWT-like string,
 * every value after an authentication scheme and every credential-named parameter replaced by
 * `[redacted]`, control characters turned into spaces, and at most `maxLength` characters kept
 * (an ellipsis marks the cut). Redaction runs before the cut, so no prefix of a secret survives.
 */
export function redact(text: string, secrets: Iterable<string | undefined>, maxLength: number): string {
  const known: string[] = []
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) continue
    known.push(secret)
    const encoded = new URLSearchParams([['', secret]]).toString().slice(1)
    if (encoded !== secret) known.push(encoded)
    const percent = encodeURIComponent(secret)
    if (percent !== secret && percent !== encoded) known.push(percent)
  }
  known.sort((a, b) => b.length - a.length)
  const longest = known[0]?.length ?? 0
  // Only the start of a long text can survive the cut; bound the work on a megabyte body.
  let out = text.length > 8 * maxLength + longest + 64 ? text.slice(0, 8 * maxLength + longest + 64) : text
  for (const secret of known) out = out.split(secret).join(REDACTED)
  out = withoutControls(
    out
      .replace(JWT_LIKE, REDACTED)
      .replace(AUTH_SCHEME, `$1$2${REDACTED}`)
      .replace(CREDENTIAL_PARAM, `$1$2${REDACTED}`),
  )
  return out.length > maxLength ? `${out.slice(0, Math.max(0, maxLength - 1))}…` : out
}
