/**
 * DNS-rebinding protection for the mock MCP server: a request whose `Host` or `Origin` names a
 * host the server does not answer for is refused with 403, before authentication. Never
 * re-exported.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
import { jsonResponse } from '../http.js'

/** Loopback names a local server always answers for (ports are not compared). */
const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]']

function hostnameOf(value: string, withScheme: boolean): string | undefined {
  try {
    return new URL(withScheme ? value : `http://${value}`).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * Builds the check for a server at `url`. `allowedHosts` adds host names (no port); `'*'` in it
 * accepts any host. A request without `Host` (an in-process `Request`) is only checked by `Origin`.
 */
export function createHostCheck(url: string, allowedHosts: readonly string[] = []) {
  const own = new URL(url).hostname.toLowerCase()
  const anyHost = allowedHosts.includes('*')
  const allowed = new Set([own, ...LOOPBACK_HOSTNAMES, ...allowedHosts.map((h) => h.toLowerCase())])
  return function hostCheck(headers: Headers): Response | undefined {
    if (anyHost) return undefined
    const host = headers.get('host')
    if (host !== null) {
      const name = hostnameOf(host.trim(), false)
      if (name === undefined || !allowed.has(name)) return forbidden('Host')
    }
    const origin = headers.get('origin')
    if (origin !== null) {
      const name = origin === 'null' ? undefined : hostnameOf(origin.trim(), true)
      if (name === undefined || !allowed.has(name)) return forbidden('Origin')
    }
    return undefined
  }
}

function forbidden(header: 'Host' | 'Origin'): Response {
  return jsonResponse(
    { jsonrpc: '2.0', error: { code: -32000, message: `Forbidden: ${header} header not allowed` }, id: null },
    403,
  )
}
