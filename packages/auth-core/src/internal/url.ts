import { AuthCoreError, ErrorCode } from '../errors.js'

/**
 * Whether `hostname` (as in `URL#hostname`) is a loopback host: `localhost`, 127.0.0.0/8 or ::1.
 * `*.localhost` is not (see the public `isLoopbackHost`, which wraps this).
 */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase()
  if (host === 'localhost') return true
  if (host === '[::1]' || host === '::1') return true
  return /^127(?:\.\d{1,3}){3}$/.test(host)
}

/**
 * Parse `value` as an absolute http(s) URL, and refuse plain http to anything but loopback
 * unless `allowInsecureHttp`. `what` names the URL in the error (e.g. `"tokenUrl"`).
 */
export function assertSecureUrl(value: string | URL, what: string, allowInsecureHttp: boolean): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`"${what}" must be an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`"${what}" must be an http(s) URL`)
  }
  if (url.username || url.password) {
    throw new TypeError(`"${what}" must not contain credentials`)
  }
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHostname(url.hostname)) {
    throw new AuthCoreError(
      ErrorCode.InsecureHttp,
      `refusing plain http to ${url.origin} (${what}): use https, or set allowInsecureHttp`,
    )
  }
  return url
}

/** `url` without query, fragment or credentials, for error messages. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return '[invalid url]'
  }
}
