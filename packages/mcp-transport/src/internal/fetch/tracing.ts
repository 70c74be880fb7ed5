import type { Attributes } from '@opentelemetry/api'
import { failureCode } from '../manager/failure-code.js'
import { safeUrl } from '../telemetry/attributes.js'
import * as semconv from '../telemetry/semconv.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import { type HeaderCopy, setOnCopy } from './lane-headers.js'
import type { ServerMiddleware } from './request.js'
import { RequestHeaders, trimHttpWhitespace } from './request-headers.js'

/** Options of {@link tracing}. */
export interface TracingOptions {
  readonly telemetry: Telemetry
  /** The server's attributes on every span and metric (`server.address`, `server.port`, its name). */
  readonly attributes: Attributes
}

const headerSetter = {
  set(carrier: RequestHeaders, key: string, value: string): void {
    carrier.set(key, value)
  },
}

/** Sets a field on the fast lane's own copy as `RequestHeaders.set` sets it on the pipeline's. */
const copySetter = {
  set(carrier: HeaderCopy, key: string, value: string): void {
    setOnCopy(carrier, key.toLowerCase(), trimHttpWhitespace(value))
  },
}

/**
 * Puts the active context's W3C trace context on one MCP request's headers (the pipeline's, or
 * the fast lane's own copy), when propagation is on and a propagator is registered (the no-op
 * one would set nothing: no context lookup, no call).
 */
export function injectTraceContext(telemetry: Telemetry, headers: RequestHeaders | HeaderCopy): void {
  if (!telemetry.propagate || !telemetry.propagatorSets) return
  const { api } = telemetry
  if (headers instanceof RequestHeaders) api.propagation.inject(api.context.active(), headers, headerSetter)
  else api.propagation.inject(api.context.active(), headers, copySetter)
}

/**
 * Traces the MCP server's requests: an HTTP client span per request (HTTP semantic conventions,
 * with `mcp.method.name` from the `Mcp-Method` header when the client sends it), marked so the
 * token lookup inside it can say `mcp_oauth2.token.cache`, and W3C trace context on the request.
 * It sits in the MCP server's branch of the pipeline only, so no other origin (nor the
 * authorization server) ever gets a `traceparent` from us. The span ends when the response
 * headers arrive. No attribute holds a header value but the method's name, nor the URL's query.
 *
 * @see https://www.w3.org/TR/trace-context/
 */
export function tracing({ telemetry, attributes }: TracingOptions): ServerMiddleware {
  const { api } = telemetry
  // The span's attributes for the last URL (an MCP server is one URL): no URL parse per request.
  let last: { url: string; method: string; attributes: Attributes } | undefined
  function spanAttributes(url: string, method: string): Attributes {
    if (last?.url !== url || last.method !== method) {
      last = {
        url,
        method,
        attributes: {
          [semconv.ATTR_HTTP_REQUEST_METHOD]: method,
          [semconv.ATTR_URL_FULL]: safeUrl(url),
          ...attributes,
        },
      }
    }
    return last.attributes
  }
  return function traceRequests(next) {
    if (!telemetry.httpSpans) {
      return function propagated(url, init) {
        injectTraceContext(telemetry, init.headers)
        return next(url, init)
      }
    }
    return function traced(url, init) {
      const method = (init.method ?? 'GET').toUpperCase()
      const parent = api.context.active()
      const mcpMethod = init.headers.get('mcp-method')
      const span = telemetry.tracer.startSpan(
        method,
        { kind: api.SpanKind.CLIENT, attributes: spanAttributes(url, method) },
        parent,
      )
      if (mcpMethod && mcpMethod.length <= 128) span.setAttribute(semconv.ATTR_MCP_METHOD_NAME, mcpMethod)
      const context = telemetry.mark(api.trace.setSpan(parent, span), { attributes, span })
      if (telemetry.propagate) api.propagation.inject(context, init.headers, headerSetter)
      return api.context
        .with(context, () => next(url, init))
        .then(
          (response) => {
            span.setAttribute(semconv.ATTR_HTTP_RESPONSE_STATUS_CODE, response.status)
            if (response.status >= 400) telemetry.fail(span, String(response.status))
            span.end()
            return response
          },
          (error: unknown) => {
            telemetry.fail(span, failureCode(error))
            span.end()
            throw error
          },
        )
    }
  }
}
