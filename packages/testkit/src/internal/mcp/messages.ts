/** Reading requests without trusting them: JSON-RPC bodies, target URLs. Never re-exported. */

/** The JSON-RPC methods of a (batch) body. */
export function jsonRpcMethods(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body]
  return messages
    .map((m) =>
      m && typeof m === 'object' && typeof m.method === 'string' ? (m.method as string) : undefined,
    )
    .filter((m): m is string => m !== undefined)
}

/** Whether a body carries the 2026-07-28 per-request envelope. */
export function isModernRequest(body: unknown): boolean {
  const first = (Array.isArray(body) ? body[0] : body) as
    | { params?: { _meta?: Record<string, unknown> } }
    | undefined
  return typeof first?.params?._meta?.['io.modelcontextprotocol/protocolVersion'] === 'string'
}

/** The URLs a request may have been sent to: its own, and the one its Host header names. */
export function requestUrls(request: Request): string[] {
  const url = new URL(request.url)
  const host = request.headers.get('host')
  const viaHost = host ? `${url.protocol}//${host}${url.pathname}` : undefined
  return viaHost && viaHost !== `${url.origin}${url.pathname}` ? [request.url, viaHost] : [request.url]
}
