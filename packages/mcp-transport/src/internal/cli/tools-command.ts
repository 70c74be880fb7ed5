// `mcp-oauth2 tools`: the tools of every selected server, and a diagnosis of each that did not
// connect.
import { failureJson, printDiagnosis, summarize } from './failures.js'
import type { CliIo, CliRuntime } from './runtime.js'
import type { Values } from './usage.js'
import { withManager } from './with-manager.js'

export async function commandTools(values: Values, io: CliIo, runtime: CliRuntime): Promise<number> {
  return withManager(values, io, runtime, async ({ manager, failures, total }) => {
    const tools = await manager.listTools()
    if (values.json) {
      const listed = { tools, failed: failures }
      io.stdout(
        JSON.stringify(
          failures.length > 0 ? failureJson(summarize(failures, total), listed) : { ok: true, ...listed },
          null,
          2,
        ),
      )
    } else {
      for (const tool of tools) {
        io.stdout(`${tool.qualifiedName.padEnd(40)} ${tool.description ?? ''}`)
        if (tool.requiredScopes?.length)
          io.stdout(`${''.padEnd(40)} scopes: ${tool.requiredScopes.join(' ')}`)
      }
      for (const failure of failures) printDiagnosis(io, failure)
    }
    return failures.length > 0 ? 1 : 0
  })
}
