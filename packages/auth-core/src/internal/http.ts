/**
 * The one way this package talks to an authorization server: token requests, RFC 8414 / RFC 9728
 * metadata and JWKS documents all go through {@link createResilientFetch}. Each attempt has a
 * timeout that covers the whole response, body included; bodies are capped; retries back off
 * with full jitter and honour a sane `Retry-After`.
 */
import ky, { HTTPError, isKyError, TimeoutError } from 'ky'

/** The fetch this module calls, always as `(url, init)`: narrower than the public `FetchLike`. */
export type UrlFetch = (url: string, init: RequestInit) => Promise<Response>

/** Resolved retry and timeout policy for authorization-server requests. */
export interface HttpPolicy {
  readonly timeoutMs: number
  readonly limit: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly maxRetryAfterMs: number
}

/** The retry settings a caller may give (the public `RetryOptions` has this shape). */
export interface RetryInput {
  readonly limit?: number | undefined
  readonly baseDelayMs?: number | undefined
  readonly maxDelayMs?: number | undefined
  readonly maxRetryAfterMs?: number | undefined
}

/** Defaults of {@link resolveHttpPolicy}; the options' JSDoc repeats them. */
export const HTTP_DEFAULTS = {
  timeoutMs: 10_000,
  limit: 2,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
} as const

/**
 * Validate and resolve a timeout and retry policy. `names.timeout` is the option's name in
 * errors (`timeoutMs` for the token provider, `jwksTimeoutMs` for the verifier).
 */
export function resolveHttpPolicy(
  timeoutMs: number | undefined,
  retry: RetryInput | undefined,
  defaults: Partial<Record<keyof HttpPolicy, number>> = {},
  names: { timeout: string } = { timeout: 'timeoutMs' },
): HttpPolicy {
  if (retry !== undefined && (typeof retry !== 'object' || retry === null))
    throw new TypeError('"retry" option must be an object')
  const d = { ...HTTP_DEFAULTS, ...defaults }
  const policy: HttpPolicy = {
    timeoutMs: timeoutMs ?? d.timeoutMs,
    limit: retry?.limit ?? d.limit,
    baseDelayMs: retry?.baseDelayMs ?? d.baseDelayMs,
    maxDelayMs: retry?.maxDelayMs ?? d.maxDelayMs,
    maxRetryAfterMs: retry?.maxRetryAfterMs ?? d.maxRetryAfterMs,
  }
  const checks: [string, unknown, boolean][] = [
    [names.timeout, policy.timeoutMs, true],
    ['retry.limit', policy.limit, false],
    ['retry.baseDelayMs', policy.baseDelayMs, false],
    ['retry.maxDelayMs', policy.maxDelayMs, false],
    ['retry.maxRetryAfterMs', policy.maxRetryAfterMs, false],
  ]
  for (const [name, value, positive] of checks) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
      throw new TypeError(
        `"${name}" option must be a ${positive ? 'positive' : 'non-negative'} finite number`,
      )
    }
  }
  if (!Number.isInteger(policy.limit)) throw new TypeError('"retry.limit" option must be an integer')
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

/** Largest authorization-server response we read (token, metadata and JWKS documents are small). */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/** Thrown when a response body is larger than {@link MAX_RESPONSE_BYTES}. */
export class ResponseTooLargeError extends Error {
  constructor(readonly attempts: number) {
    super(`response body larger than ${MAX_RESPONSE_BYTES} bytes`)
    this.name = 'ResponseTooLargeError'
  }
}

const RETRY_STATUS = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)]
/** Statuses whose `Retry-After` we honour (RFC 9110 §10.2.3, RFC 6585 §4). */
const RETRY_AFTER_STATUS = new Set([429, 503])

const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/

/**
 * A `Retry-After` value in milliseconds from `nowMs`, or `undefined` when it is not one: only
 * `delay-seconds` (digits) and an IMF-fixdate are read (RFC 9110 §10.2.3). `Infinity`, `NaN`,
 * `-5`, `1.5`, `1e308` or garbage give `undefined`, and the caller falls back to its normal
 * backoff instead of waiting its maximum. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000 // may be huge (or Infinity): the caller caps it
  if (!IMF_FIXDATE.test(v)) return undefined
  const at = Date.parse(v)
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined
}

/** What one resilient call reports besides its response, and per-call hooks. */
export interface CallStats {
  attempts: number
  /**
   * Rebuilds a form body before each retry: a `private_key_jwt` assertion carries a one-time
   * `jti`, so a retry must not resend the first attempt's (the server may have seen it).
   */
  renewForm?: ((body: URLSearchParams) => Promise<URLSearchParams>) | undefined
  /**
   * Headers set on every attempt, made afresh for each: a DPoP proof (RFC 9449 §4.2) carries a
   * one-time `jti`, so a retry must carry a new one.
   */
  headers?: (() => Promise<Readonly<Record<string, string>>>) | undefined
  /** Sees every response (its headers: a `DPoP-Nonce` is remembered from any of them). */
  onResponse?: ((response: Response) => void) | undefined
  /** The status of the last response, when there was one. */
  status?: number | undefined
}

/** The request options callers (and oauth4webapi's `customFetch`) pass. */
export interface ResilientInit {
  method: string
  headers: Record<string, string> | Headers
  body?: BodyInit | null | undefined
  redirect?: RequestRedirect | undefined
  signal?: AbortSignal | null | undefined
}

export type ResilientFetch = (url: string, init: ResilientInit, stats?: CallStats) => Promise<Response>

/**
 * Reads the whole body while the attempt's timeout runs, so a server that sends headers and then
 * drips the body ends at `timeoutMs` like one that never answers. The bytes are kept so that a
 * response ky consumes (it reads the body of an HTTP error) can be handed on whole.
 */
async function readWhole(
  response: Response,
  signal: AbortSignal | null | undefined,
  attempts: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!response.body) return new Uint8Array(0)
  const reader = response.body.getReader()
  const cancel = () => void reader.cancel().catch(() => {})
  if (signal?.aborted) cancel()
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
        throw new ResponseTooLargeError(attempts)
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
 * timeouts, 408/429/5xx (honouring `Retry-After` on 429 and 503, see {@link parseRetryAfter}),
 * none on other 4xx. When retries run out on a status, the last response is returned so the
 * OAuth error body can be read. `getFetch` is called per attempt (msw and other interceptors
 * patch `globalThis.fetch` after import); it is always called as `(url, init)`.
 */
export function createResilientFetch(
  policy: HttpPolicy,
  getFetch: () => UrlFetch,
  now: () => number,
): ResilientFetch {
  const backoff = (attempt: number) =>
    Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
  return async function resilientFetch(url, init, stats) {
    let attempts = 0
    const bodies = new WeakMap<Response, Uint8Array<ArrayBuffer>>()
    // The delay the server asked for, read in shouldRetry and used by the delay that follows it.
    let retryAfter: number | undefined
    const client = ky.create({
      fetch: async (input) => {
        attempts++
        const request = input as Request
        const body = request.body === null ? undefined : await request.text()
        let headers = request.headers
        if (stats?.headers) {
          headers = new Headers(headers)
          for (const [name, value] of Object.entries(await stats.headers())) headers.set(name, value)
        }
        const response = await getFetch()(request.url, {
          method: request.method,
          headers,
          body,
          redirect: request.redirect,
          signal: request.signal,
        })
        if (stats) stats.status = response.status
        stats?.onResponse?.(response)
        const bytes = await readWhole(response, request.signal, attempts)
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
        // Retry-After is read here, strictly, not by ky: see parseRetryAfter.
        afterStatusCodes: [],
        backoffLimit: Number.POSITIVE_INFINITY,
        jitter: (delay) => delay,
        retryOnTimeout: true,
        delay: (attempt) => {
          const delay = retryAfter ?? backoff(attempt)
          retryAfter = undefined
          return delay
        },
        shouldRetry: ({ error }) => {
          retryAfter = undefined
          if (error instanceof HTTPError) {
            if (!RETRY_AFTER_STATUS.has(error.response.status)) return undefined
            const after = parseRetryAfter(error.response.headers.get('retry-after'), now())
            // A server asking for a longer pause than we accept: fail now rather than hang.
            if (after !== undefined && after > policy.maxRetryAfterMs) return false
            retryAfter = after
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
      // ky's errors keep the Request, whose headers carry the client's credentials (Basic):
      // keep what the network said (its cause), never the request, so no inspect prints them.
      throw new NetworkFailureError(attempts, isKyError(error) ? error.cause : error)
    } finally {
      if (stats) stats.attempts = attempts
    }
  }
}
