/** Which listen addresses are loopback. Never re-exported. */
import { isIPv4, isIPv6 } from 'node:net'

/**
 * Whether binding `host` keeps a server reachable from this machine only: `localhost`, any
 * 127.0.0.0/8 address, `::1` and IPv4-mapped loopback. Every other name or address (`0.0.0.0`,
 * `::`, a LAN address, a hostname that DNS resolves) is not.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (name.toLowerCase() === 'localhost') return true
  if (isIPv4(name)) return name.split('.')[0] === '127'
  if (isIPv6(name)) {
    const lower = name.toLowerCase()
    if (lower === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(lower)) return true
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1]
    return mapped !== undefined && isIPv4(mapped) && mapped.split('.')[0] === '127'
  }
  return false
}
