import type { ServerMiddleware } from './request.js'
import type { RequestHeaders } from './request-headers.js'

/** Sets the static headers (lower-case names, checked values) on one request's headers. */
export function setStaticHeaders(
  headers: RequestHeaders,
  list: ReadonlyArray<readonly [string, string]>,
): void {
  for (const [name, value] of list) headers.set(name, value)
}

/** Sets the configured static headers (lower-case names, checked values) on MCP requests. */
export function staticHeaders(list: ReadonlyArray<readonly [string, string]>): ServerMiddleware {
  return function addStaticHeaders(next) {
    return function withStaticHeaders(url, init) {
      setStaticHeaders(init.headers, list)
      return next(url, init)
    }
  }
}
