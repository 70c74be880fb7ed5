import ky, { HTTPError, TimeoutError } from 'ky'
import type { FetchLike, RetryOptions } from '../token-provider.js'

/** Resolved retry and timeout policy for authorization-server requests. */
export interface HttpPolicy {
  timeoutMs: number
  limit: number
  baseDelayMs: number
  maxDelayMs: number
  maxRetryAfterMs: number
}

export function resolveHttpPolicy(
  timeoutMs: number | undefined,
  retry: RetryOptions | undefined,
): HttpPolicy {
  const policy: HttpPolicy = {
    timeoutMs: timeoutMs ?? 10_000,
    limit: retry?.limit ?? 2,
    baseDelayMs: retry?.baseDelayMs ?? 200,
    maxDelayMs: retry?.maxDelayMs ?? 5_000,
    maxRetryAfterMs: retry?.maxRetryAfterMs ?? 30_000,
  }
  const checks: [keyof HttpPolicy, string, boolean][] = [
    ['timeoutMs', 'timeoutMs', policy.timeoutMs > 0],
    ['limit', 'retry.limit', Number.isInteger(policy.limit) && policy.limit >= 0],
    ['baseDelayMs', 'retry.baseDelayMs', policy.baseDelayMs >= 0],
    ['maxDelayMs', 'retry.maxDelayMs', policy.maxDelayMs >= 0],
    ['maxRetryAfterMs', 'retry.maxRetryAfterMs', policy.maxRetryAfterMs >= 0],
  ]
  for (const [key, name, ok] of checks) {
    if (!ok || Number.isNaN(policy[key]))
      throw new TypeError(`"${name}" option must be a non-negative number`)
  }
  return policy
}

/** Thrown by the resilient fetch when every attempt timed out. */
export class AttemptTimeoutError extends Error {
  constructor(readonly attempts: number) {
    super('request timed out')
    this.name = 'AttemptTimeoutError'
  }
}

/** Thrown by the resilient fetch when the network failed on every attempt. */
export class NetworkFailureError extends Error {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super('network error', { cause })
    this.name = 'NetworkFailureError'
  }
}

const RETRY_STATUS = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get('retry-after')
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** The options oauth4webapi hands to its `customFetch`. */
export interface CustomFetchInit {
  method: string
  headers: Record<string, string>
  body?: BodyInit | undefined
  redirect?: RequestRedirect | undefined
  signal?: AbortSignal | undefined
}

/** What one resilient call reports besides its response, and per-call hooks. */
export interface CallStats {
  attempts: number
  /**
   * Rebuilds a form body before each retry: a `private_key_jwt` assertion carries a one-time
   * `jti`, so a retry must not resend the first attempt's (the server may have seen it).
   */
  renewForm?: ((body: URLSearchParams) => Promise<URLSearchParams>) | undefined
}

/** Largest authorization-server response we read (token, metadata and JWKS documents are small). */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/** Thrown when a response body is larger than {@link MAX_RESPONSE_BYTES}. */
export class ResponseTooLargeError extends Error {
  constructor() {
    super(`response body larger than ${MAX_RESPONSE_BYTES} bytes`)
    this.name = 'ResponseTooLargeError'
  }
}

/**
 * Reads the whole body while the attempt's timeout runs, so a server that sends headers and then
 * drips the body ends at `timeoutMs` like one that never answers. The bytes are kept so that a
 * response ky consumes (it reads the body of an HTTP error) can be handed on whole.
 */
async function readWhole(
  response: Response,
  signal: AbortSignal | null | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!response.body) return new Uint8Array(0)
  const reader = response.body.getReader()
  const cancel = () => void reader.cancel().catch(() => {})
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > MAX_RESPONSE_BYTES) {
        cancel()
        throw new ResponseTooLargeError()
      }
      chunks.push(value)
    }
    const bytes = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      bytes.set(chunk, offset)
      offset += chunk.byteLength
    }
    return bytes
  } finally {
    signal?.removeEventListener('abort', cancel)
  }
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304])

function rebuild(response: Response, bytes: Uint8Array<ArrayBuffer>): Response {
  return new Response(NULL_BODY_STATUS.has(response.status) ? null : bytes, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
}

/**
 * A fetch for authorization-server calls: per-attempt timeout that covers the whole response,
 * body included, bounded retries with exponential backoff and full jitter on network errors,
 * timeouts, 408/429/5xx (honouring `Retry-After` on 429 and 503), none on other 4xx. When retries
 * run out on a status, the last response is returned so the OAuth error body can be read.
 */
export function createResilientFetch(
  policy: HttpPolicy,
  getFetch: () => FetchLike,
): (url: string, init: CustomFetchInit, stats?: CallStats) => Promise<Response> {
  return async function resilientFetch(url, init, stats) {
    let attempts = 0
    const bodies = new WeakMap<Response, Uint8Array<ArrayBuffer>>()
    const client = ky.create({
      fetch: async (input, requestInit) => {
        attempts++
        const request = input as Request
        const response = await getFetch()(request, requestInit)
        const bytes = await readWhole(response, request.signal)
        const whole = rebuild(response, bytes)
        bodies.set(whole, bytes)
        return whole
      },
      timeout: policy.timeoutMs,
      hooks: {
        beforeRetry: stats?.renewForm
          ? [
              async ({ request }) => {
                const body = await stats.renewForm!(new URLSearchParams(await request.text()))
                return new Request(request, { body })
              },
            ]
          : [],
      },
      throwHttpErrors: (status) => RETRY_STATUS.includes(status),
      retry: {
        limit: policy.limit,
        methods: ['get', 'post'],
        statusCodes: RETRY_STATUS,
        afterStatusCodes: [429, 503],
        maxRetryAfter: policy.maxRetryAfterMs,
        backoffLimit: policy.maxDelayMs,
        retryOnTimeout: true,
        delay: (attempt) => policy.baseDelayMs * 2 ** (attempt - 1),
        jitter: true,
        shouldRetry: ({ error }) => {
          if (error instanceof HTTPError) {
            const after = retryAfterMs(error.response)
            // A server asking for a longer pause than we accept: fail now rather than hang.
            if (after !== undefined && after > policy.maxRetryAfterMs) return false
            return undefined
          }
          if (error instanceof ResponseTooLargeError) return false
          if (error.name === 'AbortError' && init.signal?.aborted) return false
          return undefined
        },
      },
    })
    try {
      return await client(url, {
        method: init.method,
        headers: init.headers,
        body: init.body ?? null,
        redirect: init.redirect ?? 'manual',
        signal: init.signal ?? null,
      })
    } catch (error) {
      if (error instanceof HTTPError) {
        // ky read this response's body into `error.data`; hand on the bytes we kept instead.
        const bytes = bodies.get(error.response)
        return bytes ? rebuild(error.response, bytes) : error.response
      }
      if (init.signal?.aborted) throw init.signal.reason
      if (error instanceof TimeoutError) throw new AttemptTimeoutError(attempts)
      if (error instanceof ResponseTooLargeError) throw error
      throw new NetworkFailureError(attempts, error)
    } finally {
      if (stats) stats.attempts = attempts
    }
  }
}
