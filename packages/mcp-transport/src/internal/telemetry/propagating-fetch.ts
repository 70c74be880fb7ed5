import type { FetchLike } from '../fetch/request.js'
import type { OtelApi } from './otel-api.js'

const setter = {
  set(carrier: Headers, key: string, value: string): void {
    carrier.set(key, value)
  },
}

/**
 * A fetch that adds W3C trace context (the global propagator's headers) to every request: for
 * the token providers' requests to the authorization server, when `propagateToAuthorizationServer`
 * is set. Nothing else about the request changes.
 */
export function propagatingFetch(api: OtelApi, next: FetchLike | undefined): FetchLike {
  return function withTraceContext(input, init) {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    api.propagation.inject(api.context.active(), headers, setter)
    const fetch = next ?? globalThis.fetch
    return fetch(input, { ...init, headers })
  }
}
