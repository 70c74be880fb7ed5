/** One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1). */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/**
 * Parse a `WWW-Authenticate` header into its challenges and their auth-params. Tolerant: what it
 * cannot read is skipped, never thrown. token68 credentials are not needed here and are ignored.
 */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  const challenges: Challenge[] = []
  if (!header) return challenges
  const n = header.length
  let i = 0
  let current: Challenge | undefined
  const skipWhitespace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++
  }
  const readToken = () => {
    const start = i
    while (i < n && TCHAR.test(header[i]!)) i++
    return header.slice(start, i)
  }
  while (i < n) {
    skipWhitespace()
    if (header[i] === ',') {
      i++
      continue
    }
    const token = readToken()
    if (token === '') {
      i++ // a character that cannot start anything: skip it
      continue
    }
    skipWhitespace()
    if (header[i] === '=') {
      i++
      skipWhitespace()
      let value = ''
      if (header[i] === '"') {
        i++
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++
          value += header[i]
          i++
        }
        i++
      } else {
        value = readToken()
      }
      if (current) current.params[token.toLowerCase()] ??= value
    } else {
      current = { scheme: token.toLowerCase(), params: {} }
      challenges.push(current)
    }
  }
  return challenges
}

/** The parameters of the first `Bearer` challenge, if any. */
export function bearerChallenge(header: string | null | undefined): Record<string, string> | undefined {
  return parseWwwAuthenticate(header).find((c) => c.scheme === 'bearer')?.params
}
