import { isLoopbackHostname } from './internal/url.js'

/**
 * Whether `hostname` (as in `URL#hostname`) is a loopback host: `localhost`, 127.0.0.0/8 or ::1
 * (with or without brackets). Plain `http:` with credentials is allowed to these hosts only,
 * unless `allowInsecureHttp` is set. `*.localhost` is not loopback here: RFC 6761 §6.3 asks
 * resolvers to answer loopback, but Node hands such names to the system resolver (which may
 * append search domains), so they could leave the machine.
 *
 * @example
 * ```ts
 * isLoopbackHost(new URL('http://127.0.0.1:8080/mcp').hostname) // true
 * isLoopbackHost('app.localhost') // false
 * ```
 * @see RFC 6761 §6.3, RFC 5735 §3
 */
export function isLoopbackHost(hostname: string): boolean {
  return typeof hostname === 'string' && isLoopbackHostname(hostname)
}
