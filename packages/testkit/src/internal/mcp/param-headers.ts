/**
 * SEP-2243 custom parameter headers on 2026-07-28 `tools/call`: a tool argument whose schema
 * property carries `"x-mcp-header": "<Suffix>"` must also arrive as `Mcp-Param-<Suffix>`, literal
 * or `=?base64?…?=`-wrapped, and equal the body's value. The SDK validates the standard headers
 * (`Mcp-Method`, `Mcp-Name`); these are checked here. Never re-exported.
 */
import { jsonResponse } from '../http.js'

interface ListedTool {
  name: string
  inputSchema: Record<string, unknown>
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The header's value, decoded; `undefined` when a base64 wrapper holds invalid base64. */
function decode(raw: string): string | undefined {
  const value = raw.trim()
  if (!value.startsWith('=?base64?') || !value.endsWith('?=') || value.length < 11) return value
  const inner = value.slice(9, -2)
  if (inner.length % 4 !== 0 || !BASE64.test(inner)) return undefined
  return Buffer.from(inner, 'base64').toString('utf8')
}

function declaredHeaders(tool: ListedTool | undefined): [property: string, suffix: string][] {
  const properties = tool?.inputSchema['properties']
  if (!properties || typeof properties !== 'object') return []
  return Object.entries(properties as Record<string, unknown>).flatMap(([property, schema]) => {
    const suffix = (schema as Record<string, unknown> | null)?.['x-mcp-header']
    return typeof suffix === 'string' && suffix ? [[property, suffix] as [string, string]] : []
  })
}

/** A 400 `-32020` answer when a declared parameter header is missing, malformed or different. */
export function checkParamHeaders(
  headers: Headers,
  body: unknown,
  tools: readonly ListedTool[],
): Response | undefined {
  for (const message of Array.isArray(body) ? body : [body]) {
    if (!message || typeof message !== 'object' || message.method !== 'tools/call') continue
    const params = (message.params ?? {}) as { name?: unknown; arguments?: Record<string, unknown> }
    const tool = tools.find((t) => t.name === params.name)
    for (const [property, suffix] of declaredHeaders(tool)) {
      const bodyValue = params.arguments?.[property]
      const header = headers.get(`mcp-param-${suffix}`)
      if (bodyValue === undefined && header === null) continue
      const problem =
        header === null
          ? 'is missing'
          : bodyValue === undefined
            ? 'has no matching argument'
            : decode(header) === undefined
              ? 'is not valid base64'
              : decode(header) !== (typeof bodyValue === 'string' ? bodyValue : JSON.stringify(bodyValue))
                ? 'does not match the argument'
                : undefined
      if (problem) {
        const error = { code: -32020, message: `Header mismatch: Mcp-Param-${suffix} ${problem}` }
        return jsonResponse({ jsonrpc: '2.0', id: (message as { id?: unknown }).id ?? null, error }, 400)
      }
    }
  }
  return undefined
}
