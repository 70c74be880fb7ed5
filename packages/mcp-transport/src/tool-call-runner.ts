/**
 * Runs a model's tool calls through MCP: OpenAI Chat Completions `tool_calls`, Responses
 * `function_call` items or Anthropic `tool_use` blocks in, the matching tool result messages out.
 */

import { McpTransportErrorCode } from './errors.js'
import {
  ABORTED_CODE,
  type Failure,
  failureOf,
  INVALID_ARGUMENTS_CODE,
  runnerFailure,
  TIMEOUT_CODE,
} from './internal/tool-calls/failure.js'
import { mapBounded } from './internal/tool-calls/map-bounded.js'
import { type ParsedCall, parseCall } from './internal/tool-calls/parse-call.js'
import { raceAbort } from './internal/tool-calls/race-abort.js'
import { type ResultPart, resultParts } from './internal/tool-calls/result-parts.js'
import { serialise } from './internal/tool-calls/serialise.js'
import { type OpenAIToolSource, type OpenAIToolset, toOpenAITools } from './openai-tools.js'
import type { ToolCall, ToolCallFormat, ToolResultFor, ToolResultMessage } from './tool-call-formats.js'
import { getUserContext } from './user-context.js'

/** A tool as a {@link ToolCallHost} lists it: a manager's `ManagedTool` fits. */
export interface ToolCallHostTool extends OpenAIToolSource {
  /** The server offering it, for the audit event. */
  readonly server?: string | undefined
}

/** What a {@link ToolCallHost} returns for a call: the SDK's `CallToolResult` fits. */
export interface ToolCallHostResult {
  readonly content?: readonly unknown[] | undefined
  readonly structuredContent?: unknown
  readonly isError?: boolean | undefined
}

/**
 * What {@link runToolCalls} needs: `McpServerManager` fits. Calls go through `callTool`, so
 * whatever it enforces (the pre-flight scope check, rate limits, the user's cookies from
 * `withUserContext`) applies to every call the model makes.
 */
export interface ToolCallHost {
  /** The tools the model was offered (their names are mapped as {@link toOpenAITools} does). */
  listTools(): Promise<readonly ToolCallHostTool[]>
  /** Calls a tool by its routing name (`qualifiedName ?? name`, or a name the host resolves). */
  callTool(
    name: string,
    args: Record<string, unknown>,
    options: {
      signal?: AbortSignal | undefined
      timeoutMs?: number | undefined
      /** The model's call id (the manager puts it on the tool call's span). */
      toolCallId?: string | undefined
    },
  ): Promise<ToolCallHostResult>
}

/** Options of {@link runToolCalls}. */
export interface RunToolCallsOptions {
  /**
   * Cancels the batch: calls not started yet are not made, calls in flight are cancelled. Every
   * call still gets its result message (`outcome: 'aborted'`), so the conversation stays valid.
   * @default none
   */
  signal?: AbortSignal | undefined
  /**
   * Calls running at the same time.
   * @default 4
   */
  concurrency?: number | undefined
  /**
   * Timeout of each call, in milliseconds (the pre-flight check included).
   * @default 60000
   */
  timeoutMs?: number | undefined
  /**
   * Clock of the events' `at` and `durationMs`, epoch ms.
   * @default Date.now
   */
  now?: (() => number) | undefined
}

/**
 * How a call ended: `ok` and `tool_error` (the tool answered `isError: true`) ran the tool;
 * `invalid_arguments`, `unknown_tool`, `denied`, `rate_limited` and `unavailable` sent nothing;
 * `timeout`, `aborted` and `failed` may have reached the server.
 */
export type ToolCallOutcome =
  | 'ok'
  | 'tool_error'
  | 'invalid_arguments'
  | 'unknown_tool'
  | 'denied'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'aborted'
  | 'failed'

/**
 * The audit event of one model tool call. It holds no argument or result value, token or cookie.
 * A call that reached the host's `callTool` also has the host's own events (the manager's
 * `tool_call` or `denied`).
 */
export interface ToolCallEvent {
  readonly type: 'model_tool_call'
  /** When the call ended, epoch ms. */
  readonly at: number
  readonly durationMs: number
  readonly format: ToolCallFormat
  /** The call's id (`tool_call_id`, `call_id` or `tool_use_id` of its result). */
  readonly callId: string
  /** The tool name the model wrote (cut to 128 characters). */
  readonly name: string
  /** The server and tool it mapped to, when it mapped to one. */
  readonly server: string | undefined
  readonly tool: string | undefined
  readonly qualifiedName: string | undefined
  readonly outcome: ToolCallOutcome
  /** Whether the model is told the call failed. */
  readonly isError: boolean
  /**
   * The failure's code: the host's (`ERR_SCOPE_DENIED`, `ERR_UNKNOWN_TOOL`, `ERR_RATE_LIMITED`,
   * `ERR_HTTP_<status>`, `ERR_MCP_<code>`, …) or the runner's (`ERR_INVALID_ARGUMENTS`,
   * `ERR_MCP_TIMEOUT` for its `timeoutMs`, `ERR_ABORTED`). Undefined for `ok` and `tool_error`.
   */
  readonly code: string | undefined
  /** Whether the call ran inside `withUserContext`. */
  readonly user: boolean
  /** For `denied`: the scopes the service token lacks. */
  readonly missingScopes?: readonly string[]
  /** For `rate_limited`: when the limit allows the call again, in milliseconds. */
  readonly retryAfterMs?: number
}

/** One call's result. */
export interface ToolCallResult<M extends ToolResultMessage = ToolResultMessage> {
  /** The message (or, for Anthropic, content block) to send back to the model. */
  readonly message: M
  readonly event: ToolCallEvent
  /** The tool's MCP result, when it answered (`isError` results included). */
  readonly result: ToolCallHostResult | undefined
  /** What went wrong, when the call threw, timed out or was aborted. */
  readonly error: unknown
}

/** The results of a batch, in the order of the calls. */
export interface ToolCallRun<M extends ToolResultMessage = ToolResultMessage> {
  /** Every call's result message, ready to send back. */
  readonly messages: M[]
  readonly results: readonly ToolCallResult<M>[]
}

const DEFAULT_CONCURRENCY = 4
const DEFAULT_TIMEOUT_MS = 60_000
const MAX_EVENT_NAME = 128

interface Resolved {
  readonly signal: AbortSignal | undefined
  readonly concurrency: number
  readonly timeoutMs: number
  readonly now: () => number
}

function resolveOptions(options: RunToolCallsOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new TypeError('"concurrency" option must be a positive integer')
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))
    throw new TypeError('"timeoutMs" option must be a positive number')
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" option must be a function')
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('"signal" option must be an AbortSignal')
  return { signal, concurrency, timeoutMs, now }
}

// The manager hands out the same frozen list until its tools change: name it once per list.
const toolsets = new WeakMap<readonly ToolCallHostTool[], OpenAIToolset<ToolCallHostTool>>()

function toolsetOf(tools: readonly ToolCallHostTool[]): OpenAIToolset<ToolCallHostTool> {
  let set = toolsets.get(tools)
  if (!set) {
    set = toOpenAITools(tools)
    toolsets.set(tools, set)
  }
  return set
}

async function listTools(
  host: ToolCallHost,
  signal: AbortSignal | undefined,
): Promise<readonly ToolCallHostTool[]> {
  try {
    const pending = Promise.resolve(host.listTools())
    const tools = await (signal ? raceAbort(pending, signal) : pending)
    return Array.isArray(tools) ? tools : []
  } catch {
    // Without a list, names go to callTool as the model wrote them; a host that cannot list
    // (closed, not connected) refuses each call with its own typed error, one result per call.
    return []
  }
}

/**
 * Runs a model's tool calls and returns a result message for each, in the same format and
 * order, naming the same call ids. The calls run through `host.callTool` (with at most
 * `concurrency` at once) in the async context of the caller, so inside `withUserContext` every
 * call carries that user's allowed cookies and headers. A call never fails the batch: bad JSON
 * arguments, an unknown tool, a refused scope, a rate limit, a server error, a timeout or an
 * abort each become an error result the model can read (`Error: …`, or `is_error: true` for
 * Anthropic). It throws only a `TypeError` for input that is not tool calls, or bad options.
 *
 * Names map back through the names of {@link toOpenAITools}, {@link toResponsesTools} and
 * {@link toAnthropicTools} (all the same); other names go to `callTool` as they are.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai'
 * import type { IncomingMessage } from 'node:http'
 * declare const manager: McpServerManager, req: IncomingMessage
 * const openai = new OpenAI()
 * const model = 'gpt-5'
 * const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What does customer 42 owe?' }]
 * const completion = await openai.chat.completions.create({ model, messages, tools: await manager.openAITools() })
 * const reply = completion.choices[0]!.message
 * if (reply.tool_calls) {
 *   const run = await withUserContext({ cookie: req.headers.cookie }, () => runToolCalls(manager, reply.tool_calls!))
 *   messages.push(reply, ...run.messages)
 * }
 * ```
 */
export async function runToolCalls<C extends ToolCall>(
  host: ToolCallHost,
  calls: readonly C[],
  options: RunToolCallsOptions = {},
): Promise<ToolCallRun<ToolResultFor<C>>> {
  if (
    typeof host !== 'object' ||
    host === null ||
    typeof host.callTool !== 'function' ||
    typeof host.listTools !== 'function'
  ) {
    throw new TypeError('"host" must have listTools() and callTool() methods')
  }
  if (!Array.isArray(calls)) throw new TypeError('"calls" must be an array of tool calls')
  const parsed = calls.map((call, index) => {
    const p = parseCall(call)
    if (!p) {
      throw new TypeError(
        `"calls[${index}]" is not a Chat Completions tool call, Responses function_call or Anthropic tool_use`,
      )
    }
    return p
  })
  const resolved = resolveOptions(options)
  if (parsed.length === 0) return { messages: [], results: [] }
  const user = getUserContext() !== undefined
  const tools = resolved.signal?.aborted ? [] : await listTools(host, resolved.signal)
  const toolset = toolsetOf(tools)
  const results = await mapBounded(parsed, resolved.concurrency, (call) =>
    runOne(host, call, lookup(toolset, tools, call.name), resolved, user),
  )
  return {
    messages: results.map((r) => r.message) as ToolResultFor<C>[],
    results: results as unknown as ToolCallResult<ToolResultFor<C>>[],
  }
}

function lookup(
  toolset: OpenAIToolset<ToolCallHostTool>,
  tools: readonly ToolCallHostTool[],
  name: string,
): ToolCallHostTool | undefined {
  return toolset.byOpenAIName.get(name) ?? tools.find((t) => (t.qualifiedName ?? t.name) === name)
}

async function runOne(
  host: ToolCallHost,
  call: ParsedCall,
  tool: ToolCallHostTool | undefined,
  options: Resolved,
  user: boolean,
): Promise<ToolCallResult> {
  const { signal, timeoutMs, now } = options
  const started = now()
  const finish = (
    outcome: ToolCallOutcome,
    parts: readonly ResultPart[],
    result: ToolCallHostResult | undefined,
    failure?: Failure,
    error?: unknown,
  ): ToolCallResult => {
    const at = now()
    const isError = outcome !== 'ok'
    const event: ToolCallEvent = {
      type: 'model_tool_call',
      at,
      durationMs: at - started,
      format: call.format,
      callId: call.id,
      name: call.name.slice(0, MAX_EVENT_NAME),
      server: tool?.server,
      tool: tool?.name,
      qualifiedName: tool ? (tool.qualifiedName ?? tool.name) : undefined,
      outcome,
      isError,
      code: failure?.code,
      user,
      ...(failure?.missingScopes ? { missingScopes: failure.missingScopes } : {}),
      ...(failure?.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
    }
    const message = serialise(call.format, call.id, parts, isError) satisfies ToolResultMessage
    return { message, event, result, error }
  }
  const fail = (failure: Failure, error?: unknown) =>
    finish(failure.outcome, [{ kind: 'text', text: failure.text }], undefined, failure, error)

  if (call.problem) {
    return fail(
      call.problem.kind === 'invalid_arguments'
        ? runnerFailure(
            'invalid_arguments',
            INVALID_ARGUMENTS_CODE,
            `${call.problem.detail}; call "${call.name}" again with a JSON object`,
          )
        : runnerFailure(
            'unknown_tool',
            McpTransportErrorCode.UnknownTool,
            `"${call.name}": ${call.problem.detail}`,
          ),
    )
  }
  if (signal?.aborted) return fail(aborted(), signal.reason)

  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new DOMException(`the tool call timed out after ${timeoutMs} ms`, 'TimeoutError'))
  }, timeoutMs)
  // A pending timeout must never keep the process alive on its own.
  timer.unref?.()
  const onAbort = () => controller.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    let pending: Promise<ToolCallHostResult>
    try {
      const name = tool ? (tool.qualifiedName ?? tool.name) : call.name
      pending = Promise.resolve(
        host.callTool(name, call.args ?? {}, { signal: controller.signal, timeoutMs, toolCallId: call.id }),
      )
    } catch (err) {
      pending = Promise.reject(err)
    }
    // Raced, so a host that ignores the signal (or waits for a token) cannot hold the call.
    const result = (await raceAbort(pending, controller.signal)) ?? {}
    return finish(result.isError === true ? 'tool_error' : 'ok', resultParts(result), result)
  } catch (err) {
    if (timedOut) {
      return fail(
        runnerFailure('timeout', TIMEOUT_CODE, `the tool call timed out after ${timeoutMs} ms`),
        err,
      )
    }
    if (signal?.aborted) return fail(aborted(), err)
    return fail(failureOf(err), err)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

function aborted(): Failure {
  return runnerFailure('aborted', ABORTED_CODE, 'the tool call was cancelled')
}
