/**
 * How the mock MCP server runs a test's tools: what a handler learns about the call (cookies,
 * headers, token claims), the record of each call, and a handler's answer as an MCP result.
 * Never re-exported.
 */
import { type CallToolResult, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server'
import { headersToRecord, parseCookies } from '../http.js'
import type { ServedTool, ToolCall } from './sdk-server.js'

/** What a tool handler learns about the call (the public `MockToolContext` has this shape). */
export interface CallContext {
  cookies: Record<string, string>
  headers: Record<string, string>
  clientId: string | undefined
  subject: string | undefined
  scopes: string[]
  claims: Record<string, unknown>
}

/** One executed call (the public `ToolCallRecord` has this shape). */
export interface CallRecord extends Omit<CallContext, 'claims'> {
  tool: string
  args: Record<string, unknown>
  protocolVersion: string | undefined
}

type HandlerAnswer = CallToolResult | string | Record<string, unknown>

/** A test's tool (the public `MockTool` has this shape). */
export interface TestTool {
  name: string
  description?: string
  inputSchema?: { type: 'object'; required?: string[]; [k: string]: unknown }
  handler(args: Record<string, unknown>, context: CallContext): HandlerAnswer | Promise<HandlerAnswer>
}

/** A handler's answer as a result: a string as one text item, an object as JSON text + structured content. */
function toResult(value: HandlerAnswer): CallToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] }
  if (Array.isArray((value as CallToolResult).content)) return value as CallToolResult
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value }
}

/** Records a call in `records` and returns what its handler learns. */
export function recordCall(
  records: CallRecord[],
  call: ToolCall,
  tool: string,
  args: Record<string, unknown>,
): CallContext {
  const claims = (call.authInfo?.extra as { claims?: Record<string, unknown> } | undefined)?.claims ?? {}
  const headers = call.request ? headersToRecord(call.request.headers) : {}
  const context: CallContext = {
    cookies: parseCookies(call.request?.headers.get('cookie')),
    headers,
    clientId: call.authInfo?.clientId,
    subject: typeof claims['sub'] === 'string' ? claims['sub'] : undefined,
    scopes: [...(call.authInfo?.scopes ?? [])],
    claims,
  }
  records.push({
    tool,
    args,
    cookies: { ...context.cookies },
    headers: { ...headers },
    clientId: context.clientId,
    subject: context.subject,
    scopes: [...context.scopes],
    protocolVersion: call.protocolVersion,
  })
  return context
}

/**
 * A test's tool as served: missing required arguments are a JSON-RPC `-32602`; a handler that
 * throws gives an `isError` result with its message.
 */
export function serveTestTool(tool: TestTool, records: CallRecord[]): ServedTool {
  return {
    name: tool.name,
    description: tool.description ?? '',
    inputSchema: tool.inputSchema ?? { type: 'object', properties: {} },
    async run(args, call) {
      const missing = (tool.inputSchema?.required ?? []).filter((k) => args[k] === undefined)
      if (missing.length > 0) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Missing required argument(s): ${missing.join(', ')}`,
        )
      }
      const context = recordCall(records, call, tool.name, args)
      try {
        return toResult(await tool.handler(args, context))
      } catch (e) {
        return {
          content: [{ type: 'text', text: e instanceof Error ? e.message : String(e) }],
          isError: true,
        }
      }
    },
  }
}

/** A fixture tool that is recorded like a test's tool. */
export function recorded(tool: ServedTool, records: CallRecord[]): ServedTool {
  return {
    ...tool,
    run: (args, call) => {
      recordCall(records, call, tool.name, args)
      return tool.run(args, call)
    },
  }
}
