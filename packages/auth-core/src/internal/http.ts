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

/**
 * A fetch for authorization-server calls: per-attempt timeout, bounded retries with exponential
 * backoff and full jitter on network errors, timeouts, 408/429/5xx (honouring `Retry-After` on 429
 * and 503), none on other 4xx. When retries run out on a status, the last response is returned so
 * the OAuth error body can be read.
 */
export function createResilientFetch(
  policy: HttpPolicy,
  getFetch: () => FetchLike,
): (url: string, init: CustomFetchInit, stats?: CallStats) => Promise<Response> {
  return async function resilientFetch(url, init, stats) {
    let attempts = 0
    const client = ky.create({
      fetch: (input, requestInit) => {
        attempts++
        return getFetch()(input as Request, requestInit)
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
      if (error instanceof HTTPError) return error.response
      if (init.signal?.aborted) throw init.signal.reason
      if (error instanceof TimeoutError) throw new AttemptTimeoutError(attempts)
      throw new NetworkFailureError(attempts, error)
    } finally {
      if (stats) stats.attempts = attempts
    }
  }
}
