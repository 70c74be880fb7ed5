// Progress of the CLI's long operations (connecting to many servers, discovery and token requests
// with retries): one status line on stderr, rewritten in place, when stderr is a terminal; nothing
// at all when it is piped or redirected, so logs and scripts see only results.
import type { FetchLike } from '@mcp-oauth2/auth-core'

/** Where progress goes: a terminal's stderr, or nowhere. */
export interface ProgressSink {
  /** Whether stderr is a terminal; progress is shown only then. */
  isTTY?: boolean | undefined
  /** Writes raw text to stderr (no newline added). */
  write?: ((chunk: string) => void) | undefined
  /** Width of the terminal, in characters; longer lines are cut so they never wrap. */
  columns?: number | undefined
}

const CLEAR_LINE = '\r\x1b[2K'

/** One status line on a terminal; every method is a no-op when stderr is not a terminal. */
export class CliProgress {
  readonly #write: ((chunk: string) => void) | undefined
  readonly #columns: number
  #status = ''
  #detail = ''
  #shown = false

  constructor(sink: ProgressSink) {
    this.#write = sink.isTTY === true ? sink.write : undefined
    // A pseudo-terminal without a size (script(1), some CI runners) reports 0 columns.
    this.#columns = Math.max(20, sink.columns || 80)
  }

  /** Whether progress is shown at all. */
  get enabled(): boolean {
    return this.#write !== undefined
  }

  /** Sets what is going on (`connecting to 5 server(s)…`); clears the detail. */
  status(text: string): void {
    this.#status = text
    this.#detail = ''
    this.#render()
  }

  /** Sets the latest step of it (`POST https://auth.example/token (attempt 2)`). */
  detail(text: string): void {
    this.#detail = text
    this.#render()
  }

  /** Erases the line (before results are printed, and at the end). */
  clear(): void {
    if (!this.#write || !this.#shown) return
    this.#write(CLEAR_LINE)
    this.#shown = false
  }

  #render(): void {
    if (!this.#write) return
    const text = this.#detail ? `${this.#status} ${this.#detail}` : this.#status
    const max = this.#columns - 1
    this.#write(`${CLEAR_LINE}… ${text.length > max - 2 ? `${text.slice(0, max - 3)}…` : text}`)
    this.#shown = true
  }
}

function describe(input: Parameters<FetchLike>[0], init: Parameters<FetchLike>[1]) {
  const request = typeof input === 'object' && 'method' in input ? (input as Request) : undefined
  const raw = request ? request.url : String(input)
  const method = (init?.method ?? request?.method ?? 'GET').toUpperCase()
  try {
    const url = new URL(raw)
    // Never a query string or userinfo on screen.
    return { method, url: `${url.origin}${url.pathname}` }
  } catch {
    return { method, url: raw }
  }
}

/**
 * A fetch that shows each request to an authorization server (discovery, token) on the progress
 * line, with its attempt number when it is a retry (after a network error, 429 or 5xx). Requests to `isMcpServer` URLs are not shown
 * (connection progress comes from the manager's events). Calls `globalThis.fetch` at call time.
 */
export function progressFetch(progress: CliProgress, isMcpServer: (url: string) => boolean): FetchLike {
  /** Failed attempts so far per request, reset by a success (two providers may fetch one URL). */
  const failures = new Map<string, number>()
  return function progressFetch(input, init) {
    if (!progress.enabled) return globalThis.fetch(input, init)
    const { method, url } = describe(input, init)
    if (isMcpServer(url)) return globalThis.fetch(input, init)
    const key = `${method} ${url}`
    const failed = failures.get(key) ?? 0
    progress.detail(`${key}${failed > 0 ? ` (attempt ${failed + 1})` : ''}`)
    const settle = (ok: boolean) => {
      if (ok) failures.delete(key)
      else failures.set(key, (failures.get(key) ?? 0) + 1)
    }
    return globalThis.fetch(input, init).then(
      (response) => {
        settle(response.status < 500 && response.status !== 429)
        return response
      },
      (error: unknown) => {
        settle(false)
        throw error
      },
    )
  }
}
