// `mcp-oauth2 call <tool>`: one tool call through the manager, with --args as its arguments and
// --cookie as the user's context.
import { McpTransportErrorCode } from '../../errors.js'
import { CliUsageError } from '../cli-errors.js'
import { printDiagnosis, summarized } from './failures.js'
import type { CliIo, CliRuntime } from './runtime.js'
import { PROGRAM, type Values } from './usage.js'
import { withManager } from './with-manager.js'

function parseToolArgs(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {}
  let args: unknown
  try {
    args = JSON.parse(text)
  } catch {
    args = undefined
  }
  if (!args || typeof args !== 'object' || Array.isArray(args))
    throw new CliUsageError('--args must be a JSON object', [`e.g. --args '{"customer_id":"cust-001"}'`])
  return args as Record<string, unknown>
}

export async function commandCall(
  tool: string | undefined,
  values: Values,
  io: CliIo,
  runtime: CliRuntime,
): Promise<number> {
  if (!tool)
    throw new CliUsageError('call needs a tool name', [
      `${PROGRAM} call <tool> [--args JSON] [--cookie HEADER]`,
    ])
  const args = parseToolArgs(values.args)
  return withManager(values, io, runtime, async ({ manager, failures, total }) => {
    const call = () => manager.callTool(tool, args)
    let result: Awaited<ReturnType<typeof call>>
    try {
      result = values.cookie ? await runtime.withUserContext({ cookie: values.cookie }, call) : await call()
    } catch (error) {
      // A tool unknown because its server did not connect: the connection failure is the cause.
      const code = (error as { code?: unknown }).code
      if (failures.length > 0 && code === McpTransportErrorCode.UnknownTool)
        throw summarized(failures, total, `no connected server offers "${tool}"`)
      throw error
    }
    if (!values.json) for (const failure of failures) printDiagnosis(io, failure)
    if (values.json) io.stdout(JSON.stringify(result, null, 2))
    else {
      for (const item of (result.content ?? []) as { type: string; text?: string }[]) {
        io.stdout(item.type === 'text' ? (item.text ?? '') : JSON.stringify(item))
      }
    }
    return result.isError ? 1 : 0
  })
}
