/** Conversions between node:http and the Fetch API's Request/Response. Never re-exported. */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Reads a request body fully. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks)
}

/** Builds a Fetch `Request` from an incoming node request (body buffered). */
export async function toWebRequest(req: IncomingMessage, origin: string, body?: Buffer): Promise<Request> {
  const headers = new Headers()
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!
    // HTTP/2 pseudo-headers and connection-level headers have no place in a Request.
    if (name.startsWith(':')) continue
    headers.append(name, req.rawHeaders[i + 1]!)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  const data = hasBody ? (body ?? (await readBody(req))) : undefined
  const controller = new AbortController()
  req.once('close', () => {
    if (!req.complete) controller.abort()
  })
  // Only origin-form targets (`/path?query`): an absolute-form target must not pick the origin.
  const target = req.url?.startsWith('/') ? req.url : '/'
  return new Request(new URL(target, origin), {
    method,
    headers,
    body: data && data.length > 0 ? new Uint8Array(data) : hasBody ? '' : undefined,
    signal: controller.signal,
  })
}

/** Writes a Fetch `Response` to a node response, streaming its body (SSE included). */
export async function sendWebResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
): Promise<void> {
  if (response.type === 'error') {
    // A simulated network error: drop the connection without an HTTP answer.
    req.socket.destroy()
    return
  }
  const headers: [string, string][] = []
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.push([name, value])
  })
  for (const cookie of response.headers.getSetCookie()) headers.push(['set-cookie', cookie])
  res.writeHead(response.status, response.statusText || undefined, headers.flat())
  if (!response.body || req.method === 'HEAD') {
    res.end()
    return
  }
  res.flushHeaders()
  const reader = response.body.getReader()
  let closed = false
  res.once('close', () => {
    closed = true
    reader.cancel().catch(() => {})
  })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || closed) break
      res.write(value)
    }
  } catch {
    // The stream was cancelled because the client went away.
  } finally {
    if (!closed) res.end()
  }
}
