/**
 * Queued faults of a mock server, one queue per endpoint: "fail the next n requests like this" and
 * "delay the next n requests". Shared by the mock authorization server and the mock MCP server.
 * Never re-exported.
 */
import { jsonResponse, sleep } from './http.js'

/** What one failing request is answered with (the public `FailNextOptions` fits this shape). */
export interface FailureSpec {
  status?: number
  error?: string
  errorDescription?: string
  body?: string
  headers?: Record<string, string>
  delayMs?: number
  networkError?: boolean
}

/** A failure ready to answer: the response, its status (`0` for a network error) and error code. */
export interface TakenFailure {
  response: Response
  status: number
  error: string
}

/** Renders the default JSON body of a failure with `status` (when the spec gives no raw `body`). */
export type FailureBody = (status: number, spec: FailureSpec) => { error: string; body: unknown }

type Entry = { kind: 'fail'; spec: FailureSpec } | { kind: 'delay'; delayMs: number }

function checkCount(n: number, method: string): void {
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${method}: "n" must be a non-negative integer`)
}

/** One FIFO of faults per endpoint name. */
export class FailureQueue<E extends string> {
  readonly #queues = new Map<E, Entry[]>()
  readonly #render: FailureBody
  readonly #defaultStatus: number

  constructor(endpoints: readonly E[], render: FailureBody, defaultStatus = 503) {
    for (const endpoint of endpoints) this.#queues.set(endpoint, [])
    this.#render = render
    this.#defaultStatus = defaultStatus
  }

  #queue(endpoint: E, method: string): Entry[] {
    const queue = this.#queues.get(endpoint)
    if (!queue) {
      const names = [...this.#queues.keys()].map((k) => `"${k}"`).join(', ')
      throw new TypeError(`${method}: "endpoint" must be one of ${names}`)
    }
    return queue
  }

  /** Queues `n` failures of `endpoint` after those already queued. */
  fail(endpoint: E, n: number, spec: FailureSpec): void {
    checkCount(n, 'failNext')
    const queue = this.#queue(endpoint, 'failNext')
    for (let i = 0; i < n; i++) queue.push({ kind: 'fail', spec: { ...spec } })
  }

  /** Queues `n` delays of `endpoint`; a delayed request is then answered normally. */
  delay(endpoint: E, n: number, delayMs: number): void {
    checkCount(n, 'delayNext')
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new TypeError('delayNext: "delayMs" must be a non-negative number')
    const queue = this.#queue(endpoint, 'delayNext')
    for (let i = 0; i < n; i++) queue.push({ kind: 'delay', delayMs })
  }

  /** Consumes the next entry of `endpoint` (waiting out its delay); returns the failure to answer, if any. */
  async take(endpoint: E): Promise<TakenFailure | undefined> {
    const entry = this.#queues.get(endpoint)?.shift()
    if (!entry) return undefined
    if (entry.kind === 'delay') {
      await sleep(entry.delayMs)
      return undefined
    }
    const spec = entry.spec
    if (spec.delayMs) await sleep(spec.delayMs)
    if (spec.networkError) return { response: Response.error(), status: 0, error: 'network_error' }
    const status = spec.status ?? this.#defaultStatus
    const { error, body } = this.#render(status, spec)
    if (spec.body !== undefined) {
      const response = new Response(spec.body, {
        status,
        headers: { 'cache-control': 'no-store', ...spec.headers },
      })
      return { response, status, error }
    }
    return { response: jsonResponse(body, status, spec.headers), status, error }
  }

  /** Drops every queued failure and delay. */
  clear(): void {
    for (const queue of this.#queues.values()) queue.length = 0
  }
}
