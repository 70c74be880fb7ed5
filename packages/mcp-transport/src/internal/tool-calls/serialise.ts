/**
 * Tool result messages in each model API's format. OpenAI's formats have no error flag, so an
 * error's text starts with `Error: `; Anthropic's `tool_result` has `is_error`.
 */
import type { Format } from './parse-call.js'
import type { ResultPart } from './result-parts.js'

type AnthropicImageType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp'
const ANTHROPIC_IMAGE_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
])

/** A result message of any format (the public types in tool-call-formats.ts match these shapes). */
type AnthropicPart =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'image'
      readonly source: {
        readonly type: 'base64'
        readonly media_type: AnthropicImageType
        readonly data: string
      }
    }

type ResponsesPart =
  | { readonly type: 'input_text'; readonly text: string }
  | { readonly type: 'input_image'; readonly image_url: string }

/** A result message of any format (the public types in tool-call-formats.ts match these shapes). */
export type SerialisedResult =
  | { readonly role: 'tool'; readonly tool_call_id: string; readonly content: string }
  | {
      readonly type: 'function_call_output'
      readonly call_id: string
      readonly output: string | ResponsesPart[]
    }
  | {
      readonly type: 'tool_result'
      readonly tool_use_id: string
      readonly content?: AnthropicPart[]
      readonly is_error?: true
    }

function placeholder(part: ResultPart & { kind: 'image' }): string {
  return `[image: ${part.mimeType}]`
}

function plainText(parts: readonly ResultPart[]): string {
  return parts.map((p) => (p.kind === 'text' ? p.text : placeholder(p))).join('\n')
}

function errorText(text: string): string {
  return text === '' ? 'Error' : `Error: ${text}`
}

/** One result message for the call `id` in `format`. */
export function serialise(
  format: Format,
  id: string,
  parts: readonly ResultPart[],
  isError: boolean,
): SerialisedResult {
  if (format === 'chat_completions') {
    // Chat Completions tool messages carry text only.
    const text = plainText(parts)
    return { role: 'tool', tool_call_id: id, content: isError ? errorText(text) : text }
  }
  if (format === 'responses') {
    if (!parts.some((p) => p.kind === 'image')) {
      const text = plainText(parts)
      return { type: 'function_call_output', call_id: id, output: isError ? errorText(text) : text }
    }
    const output = parts.map(
      (p): ResponsesPart =>
        p.kind === 'text'
          ? { type: 'input_text', text: p.text }
          : { type: 'input_image', image_url: `data:${p.mimeType};base64,${p.data}` },
    )
    if (isError) output.unshift({ type: 'input_text', text: 'Error:' })
    return { type: 'function_call_output', call_id: id, output }
  }
  // Anthropic: text blocks must not be empty; images of other types become a note.
  const content = parts.flatMap((p): AnthropicPart[] => {
    if (p.kind === 'text') return p.text === '' ? [] : [{ type: 'text', text: p.text }]
    if (!ANTHROPIC_IMAGE_TYPES.has(p.mimeType)) return [{ type: 'text', text: placeholder(p) }]
    return [
      {
        type: 'image',
        source: { type: 'base64', media_type: p.mimeType as AnthropicImageType, data: p.data },
      },
    ]
  })
  return {
    type: 'tool_result',
    tool_use_id: id,
    ...(content.length > 0 ? { content } : {}),
    ...(isError ? { is_error: true as const } : {}),
  }
}
