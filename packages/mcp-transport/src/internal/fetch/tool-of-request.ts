import type { HeaderReader } from './request.js'

/** A tool name longer than this (characters) names no tool. */
const MAX_TOOL_NAME = 256

/**
 * The tool a request calls, from the `Mcp-Method` and `Mcp-Name` headers MCP 2026-07-28 clients
 * send (SEP-2243; a value that is not plain ASCII comes as `=?base64?…?=`). The body is never read.
 */
export function toolOfRequest(headers: HeaderReader): string | undefined {
  if (headers.get('mcp-method') !== 'tools/call') return undefined
  const name = headers.get('mcp-name')?.trim()
  if (!name) return undefined
  const wrapped = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(name)
  if (!wrapped) return name.length <= MAX_TOOL_NAME ? name : undefined
  try {
    const decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(wrapped[1] as string), (c) => c.charCodeAt(0)),
    )
    return decoded.length > 0 && decoded.length <= MAX_TOOL_NAME ? decoded : undefined
  } catch {
    return undefined
  }
}
