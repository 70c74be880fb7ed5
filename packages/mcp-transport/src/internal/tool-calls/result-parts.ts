/**
 * The content of an MCP `CallToolResult` as the parts a model API can take: text, and images
 * (base64). Everything else (audio, resource links, binary resources) becomes a short text note.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool-result
 */

export type ResultPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'image'; readonly mimeType: string; readonly data: string }

/** What the parts need of a result: the SDK's `CallToolResult` fits. */
export interface ResultLike {
  readonly content?: readonly unknown[] | undefined
  readonly structuredContent?: unknown
  readonly isError?: boolean | undefined
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function partOf(block: unknown): ResultPart | undefined {
  const b = record(block)
  if (!b) return undefined
  switch (b['type']) {
    case 'text':
      return { kind: 'text', text: str(b['text']) ?? '' }
    case 'image': {
      const data = str(b['data'])
      const mimeType = str(b['mimeType'])
      if (data === undefined || mimeType === undefined) return { kind: 'text', text: '[image]' }
      return { kind: 'image', mimeType, data }
    }
    case 'audio':
      return { kind: 'text', text: `[audio: ${str(b['mimeType']) ?? 'unknown type'}]` }
    case 'resource_link':
      return { kind: 'text', text: `[resource: ${str(b['uri']) ?? ''}]` }
    case 'resource': {
      const resource = record(b['resource'])
      const text = str(resource?.['text'])
      if (text !== undefined) return { kind: 'text', text }
      const mime = str(resource?.['mimeType'])
      return { kind: 'text', text: `[resource: ${str(resource?.['uri']) ?? ''}${mime ? ` (${mime})` : ''}]` }
    }
    default:
      return undefined
  }
}

/** Whether some text part already is the JSON of `structured` (tools SHOULD send both). */
function mirrored(parts: readonly ResultPart[], json: string): boolean {
  for (const part of parts) {
    if (part.kind !== 'text') continue
    if (part.text === json) return true
    const trimmed = part.text.trim()
    if (!trimmed.startsWith('{')) continue
    try {
      if (JSON.stringify(JSON.parse(trimmed)) === json) return true
    } catch {
      // Not JSON: a human-readable text beside the structured content.
    }
  }
  return false
}

/**
 * The parts of a result, in order. Structured content is added as its JSON text unless a text
 * block already carries it, so the model sees it exactly once.
 */
export function resultParts(result: ResultLike): ResultPart[] {
  const parts: ResultPart[] = []
  for (const block of Array.isArray(result.content) ? result.content : []) {
    const part = partOf(block)
    if (part) parts.push(part)
  }
  const structured = result.structuredContent
  if (structured !== undefined && structured !== null) {
    let json: string | undefined
    try {
      json = JSON.stringify(structured)
    } catch {
      json = undefined
    }
    if (json !== undefined && !mirrored(parts, json)) parts.push({ kind: 'text', text: json })
  }
  return parts
}
