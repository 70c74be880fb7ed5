/** Reads a model's tool call, in any of the three formats, into one shape. */

export type Format = 'chat_completions' | 'responses' | 'anthropic'

/** A call as the runner sees it: where it came from, its id and name, and its arguments or why not. */
export interface ParsedCall {
  readonly format: Format
  /** `tool_calls[i].id`, `call_id` or `tool_use.id`: what the result must name. */
  readonly id: string
  /** The tool name as the model wrote it. */
  readonly name: string
  /** The arguments, when they are a JSON object. */
  readonly args: Record<string, unknown> | undefined
  /** Why the call cannot run as it is (set exactly when `args` is not). */
  readonly problem:
    | { readonly kind: 'invalid_arguments' | 'unsupported'; readonly detail: string }
    | undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

function fromJson(format: Format, id: string, name: string, text: unknown): ParsedCall {
  if (typeof text !== 'string') {
    return invalid(format, id, name, 'the arguments are not a JSON string')
  }
  // Models send "" for a function without parameters.
  if (text.trim() === '') return { format, id, name, args: {}, problem: undefined }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // The parser's message quotes the model's own text back to it, which helps it retry.
    return invalid(format, id, name, `the arguments are not valid JSON (${(err as Error).message})`)
  }
  return fromValue(format, id, name, value)
}

function fromValue(format: Format, id: string, name: string, value: unknown): ParsedCall {
  if (!isObject(value)) return invalid(format, id, name, 'the arguments must be a JSON object')
  return { format, id, name, args: value, problem: undefined }
}

function invalid(format: Format, id: string, name: string, detail: string): ParsedCall {
  return { format, id, name, args: undefined, problem: { kind: 'invalid_arguments', detail } }
}

/**
 * Reads one call. Returns `undefined` when `value` is no tool call of a known format (or has no
 * id or name), since then no result could name it.
 */
export function parseCall(value: unknown): ParsedCall | undefined {
  if (!isObject(value)) return undefined
  const type = value['type']
  if (type === 'function' && isObject(value['function'])) {
    const fn = value['function']
    if (!nonEmpty(value['id']) || !nonEmpty(fn['name'])) return undefined
    return fromJson('chat_completions', value['id'], fn['name'], fn['arguments'])
  }
  if (type === 'custom' && isObject(value['custom'])) {
    const custom = value['custom']
    if (!nonEmpty(value['id']) || !nonEmpty(custom['name'])) return undefined
    return {
      format: 'chat_completions',
      id: value['id'],
      name: custom['name'],
      args: undefined,
      problem: { kind: 'unsupported', detail: 'MCP tools take JSON arguments, not custom tool input' },
    }
  }
  if (type === 'function_call') {
    if (!nonEmpty(value['call_id']) || !nonEmpty(value['name'])) return undefined
    return fromJson('responses', value['call_id'], value['name'], value['arguments'])
  }
  if (type === 'tool_use') {
    if (!nonEmpty(value['id']) || !nonEmpty(value['name'])) return undefined
    return fromValue('anthropic', value['id'], value['name'], value['input'])
  }
  return undefined
}
