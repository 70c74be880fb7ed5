import { McpError } from '@modelcontextprotocol/sdk/types.js'
import type { Attributes } from '@opentelemetry/api'
import { failureCode } from '../manager/failure-code.js'
import * as semconv from './semconv.js'
import type { Telemetry } from './telemetry.js'

/** What an MCP operation span names and attributes. */
export interface Operation {
  /** `tools/call`, `tools/list`, `initialize`. */
  readonly method: string
  /** For `tools/call`: the tool's own name on its server. */
  readonly tool?: string | undefined
  /** For `tools/call`: the model's call id, when the call came from one. */
  readonly toolCallId?: string | undefined
  /** The server's attributes (`server.address`, `server.port`, `mcp_oauth2.server.name`). */
  readonly attributes: Attributes
}

/** `error.type` of a failed MCP operation: a JSON-RPC error's code, else our failure code. */
function errorTypeOf(error: unknown): string {
  return error instanceof McpError ? String(error.code) : failureCode(error)
}

/**
 * Runs `fn` inside an MCP client span named and attributed by the MCP semantic conventions
 * (`tools/call get_weather`, `mcp.method.name`, `gen_ai.tool.name`, `gen_ai.operation.name:
 * execute_tool` for tool calls), made active (so the auth fetch's HTTP spans and token requests
 * are its children), and records `mcp.client.operation.duration`. `error.type` is `tool_error`
 * for a result with `isError`, the JSON-RPC code of an MCP error, or our code (`ERR_RATE_LIMITED`,
 * `ERR_SCOPE_DENIED`, `ERR_HTTP_503`, …). No argument or result value is recorded.
 *
 * @see https://github.com/open-telemetry/semantic-conventions-genai/blob/main/docs/gen-ai/mcp.md
 */
export async function traceOperation<T>(
  telemetry: Telemetry,
  operation: Operation,
  fn: () => Promise<T>,
): Promise<T> {
  const { api } = telemetry
  const isToolCall = operation.method === semconv.MCP_METHOD_TOOLS_CALL
  const base: Attributes = {
    [semconv.ATTR_MCP_METHOD_NAME]: operation.method,
    ...(operation.tool === undefined ? {} : { [semconv.ATTR_GEN_AI_TOOL_NAME]: operation.tool }),
    ...(isToolCall ? { [semconv.ATTR_GEN_AI_OPERATION_NAME]: semconv.GEN_AI_OPERATION_EXECUTE_TOOL } : {}),
    ...operation.attributes,
  }
  const parent = api.context.active()
  const span = telemetry.tracer.startSpan(
    operation.tool === undefined ? operation.method : `${operation.method} ${operation.tool}`,
    {
      kind: api.SpanKind.CLIENT,
      attributes: {
        ...base,
        [semconv.ATTR_NETWORK_TRANSPORT]: 'tcp',
        [semconv.ATTR_NETWORK_PROTOCOL_NAME]: 'http',
        ...(operation.toolCallId === undefined
          ? {}
          : { [semconv.ATTR_GEN_AI_TOOL_CALL_ID]: operation.toolCallId.slice(0, 128) }),
      },
    },
    parent,
  )
  const context = telemetry.mark(api.trace.setSpan(parent, span), { attributes: operation.attributes, span })
  const started = performance.now()
  let errorType: string | undefined
  try {
    const result = await api.context.with(context, fn)
    if ((result as { isError?: unknown } | undefined)?.isError === true)
      errorType = semconv.ERROR_TYPE_TOOL_ERROR
    return result
  } catch (error) {
    errorType = errorTypeOf(error)
    if (error instanceof McpError)
      span.setAttribute(semconv.ATTR_RPC_RESPONSE_STATUS_CODE, String(error.code))
    throw error
  } finally {
    if (errorType !== undefined) telemetry.fail(span, errorType)
    span.end()
    telemetry.metrics.operationDuration.record((performance.now() - started) / 1000, {
      ...base,
      ...(errorType === undefined ? {} : { [semconv.ATTR_ERROR_TYPE]: errorType }),
    })
  }
}
