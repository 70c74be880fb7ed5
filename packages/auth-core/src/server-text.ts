import { DEFAULT_MAX_SERVER_TEXT, redact } from './internal/redact.js'

/** Options of {@link redactServerText}. */
export interface RedactServerTextOptions {
  /**
   * Values to remove wherever they appear: the client secret, a token the server may echo. Their
   * form-urlencoded and percent-encoded forms are removed too. Values shorter than 4 characters
   * are ignored (they would match innocent text).
   * @default []
   */
  secrets?: Iterable<string | undefined> | undefined
  /**
   * Characters kept; longer text is cut and ends in `…`.
   * @default 256
   */
  maxLength?: number | undefined
}

/**
 * Makes text that a server sent safe to put into an error message, a log line or an event:
 * removes the given secrets, anything shaped like a JWT (client assertions, JWT access tokens),
 * the credentials after an authentication scheme (`Bearer …`, `Basic …`), the values of
 * credential-named parameters (`client_secret=…`, `"access_token": "…"`), turns control
 * characters (CR, LF, NUL, …) into spaces, and caps the length. Redaction runs before the cut.
 *
 * Every `error`, `error_description` and other server-provided text in this package's errors
 * passes through it. Use it for any other text a peer controls, such as the body of an MCP
 * server's error response.
 *
 * @example
 * ```ts
 * redactServerText('bad client_secret=s3cr3t for Bearer eyJhbGciOi.x.y', { secrets: ['s3cr3t'] })
 * // 'bad client_secret=[redacted] for Bearer [redacted]'
 * ```
 */
export function redactServerText(text: string, options: RedactServerTextOptions = {}): string {
  if (typeof text !== 'string') throw new TypeError('"text" must be a string')
  const maxLength = options.maxLength ?? DEFAULT_MAX_SERVER_TEXT
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new TypeError('"maxLength" option must be a positive integer')
  return redact(text, options.secrets ?? [], maxLength)
}
