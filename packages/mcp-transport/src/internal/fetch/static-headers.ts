import type { ServerMiddleware } from './request.js'

/** Sets the configured static headers (lower-case names, checked values) on MCP requests. */
export function staticHeaders(headers: ReadonlyArray<readonly [string, string]>): ServerMiddleware {
  return function addStaticHeaders(next) {
    return function withStaticHeaders(url, init) {
      for (const [name, value] of headers) init.headers.set(name, value)
      return next(url, init)
    }
  }
}
