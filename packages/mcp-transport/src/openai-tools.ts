/**
 * MCP tools in the OpenAI function-calling format, with names OpenAI accepts
 * (`^[a-zA-Z0-9_-]{1,64}$`) and a reversible mapping back to the tool.
 */

/** A tool in OpenAI's function-calling (Chat Completions `tools`) format. */
export interface OpenAITool {
  readonly type: 'function'
  readonly function: {
    /** Matches `^[a-zA-Z0-9_-]{1,64}$`. */
    readonly name: string
    readonly description?: string
    /** The tool's JSON Schema input (an object schema). */
    readonly parameters: Record<string, unknown>
    readonly strict?: boolean
  }
}

/** What {@link toOpenAITool} needs of a tool: an SDK `Tool` or a manager's `ManagedTool`. */
export interface OpenAIToolSource {
  readonly name: string
  /** Preferred over `name` when present (a `ManagedTool`'s routing name). */
  readonly qualifiedName?: string | undefined
  readonly description?: string | undefined
  readonly inputSchema?: Readonly<Record<string, unknown>> | undefined
}

/** Options of {@link toOpenAITool}. */
export interface ToOpenAIToolOptions {
  /**
   * The function name to use (it must already be valid for OpenAI).
   * @default toOpenAIName(tool.qualifiedName ?? tool.name)
   */
  name?: string | undefined
  /**
   * Sets `function.strict` (OpenAI structured outputs). Left out when undefined.
   * @default undefined
   */
  strict?: boolean | undefined
}

/** The pattern OpenAI requires of function names. */
export const OPENAI_NAME_PATTERN: RegExp = /^[a-zA-Z0-9_-]{1,64}$/

const MAX_NAME = 64
const HASH_LENGTH = 8

/** FNV-1a 32-bit over UTF-16 code units, as 8 hex digits: short, stable, synchronous. */
function shortHash(value: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(HASH_LENGTH, '0')
}

/**
 * An OpenAI-valid function name for a tool name. A name that is already valid is kept as is.
 * Otherwise every character outside `[a-zA-Z0-9_-]` becomes `_`, the result is cut to 55
 * characters and `_` plus an 8-hex-digit hash of the original name is appended, so two names
 * that sanitise alike still differ, and the result depends on the name alone (stable across runs).
 *
 * @example
 * ```ts
 * toOpenAIName('crm__get_customer_info') // 'crm__get_customer_info'
 * toOpenAIName('crm.v2/lookup')          // 'crm_v2_lookup_1a2b3c4d'
 * ```
 */
export function toOpenAIName(name: string): string {
  if (typeof name !== 'string' || name === '') throw new TypeError('"name" must be a non-empty string')
  if (OPENAI_NAME_PATTERN.test(name)) return name
  const sanitised = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, MAX_NAME - HASH_LENGTH - 1)
  return `${sanitised}_${shortHash(name)}`
}

/**
 * One tool in OpenAI's function-calling format. `parameters` is the tool's input schema (an
 * object schema without `properties` gets an empty one), or `{ type: 'object', properties: {} }`.
 *
 * @example
 * ```ts
 * import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
 * declare const client: Client // connected to an MCP server
 * const { tools } = await client.listTools()
 * const openAITools = tools.map((tool) => toOpenAITool(tool))
 * ```
 * @see https://platform.openai.com/docs/guides/function-calling
 */
export function toOpenAITool(tool: OpenAIToolSource, options: ToOpenAIToolOptions = {}): OpenAITool {
  if (typeof tool !== 'object' || tool === null || typeof tool.name !== 'string') {
    throw new TypeError('"tool" must be an object with a name')
  }
  const name = options.name ?? toOpenAIName(tool.qualifiedName ?? tool.name)
  if (!OPENAI_NAME_PATTERN.test(name)) {
    throw new TypeError(`"name" option must match ${OPENAI_NAME_PATTERN}`)
  }
  const schema = tool.inputSchema
  let parameters: Record<string, unknown>
  if (schema === undefined || typeof schema !== 'object' || schema === null) {
    parameters = { type: 'object', properties: {} }
  } else {
    // A copy: callers may mutate what they send to OpenAI without touching the cached tool.
    parameters = structuredClone(schema) as Record<string, unknown>
    if (parameters['type'] === undefined) parameters['type'] = 'object'
    if (parameters['type'] === 'object' && parameters['properties'] === undefined)
      parameters['properties'] = {}
  }
  return {
    type: 'function',
    function: {
      name,
      ...(tool.description ? { description: tool.description } : {}),
      parameters,
      ...(options.strict === undefined ? {} : { strict: options.strict }),
    },
  }
}

/** The result of {@link toOpenAITools}. */
export interface OpenAIToolset<T extends OpenAIToolSource> {
  /** The tools, in the order given (pass it to the client as is). */
  readonly tools: OpenAITool[]
  /** OpenAI function name → the tool it came from. */
  readonly byOpenAIName: ReadonlyMap<string, T>
  /** The tool's routing name (`qualifiedName ?? name`) → its OpenAI function name. */
  readonly openAINameOf: ReadonlyMap<string, string>
}

/**
 * Many tools in OpenAI's format with unique names and the mapping back. Names come from
 * {@link toOpenAIName}; should two still collide (a hash clash, or a tool literally named like
 * another's sanitised form), the later one gets `_2`, `_3`, … (cut to stay within 64 characters).
 *
 * @example
 * ```ts
 * declare const manager: McpServerManager
 * declare const toolCall: ChatCompletionsFunctionToolCall // one of the model's `tool_calls`
 * const { tools, byOpenAIName } = toOpenAITools(await manager.listTools())
 * const tool = byOpenAIName.get(toolCall.function.name)
 * ```
 */
export function toOpenAITools<T extends OpenAIToolSource>(
  tools: readonly T[],
  options: Pick<ToOpenAIToolOptions, 'strict'> = {},
): OpenAIToolset<T> {
  const byOpenAIName = new Map<string, T>()
  const openAINameOf = new Map<string, string>()
  const result: OpenAITool[] = []
  for (const tool of tools) {
    const key = tool.qualifiedName ?? tool.name
    let name = toOpenAIName(key)
    for (let n = 2; byOpenAIName.has(name); n++) {
      const suffix = `_${n}`
      name = `${toOpenAIName(key).slice(0, MAX_NAME - suffix.length)}${suffix}`
    }
    byOpenAIName.set(name, tool)
    openAINameOf.set(key, name)
    result.push(toOpenAITool(tool, { name, strict: options.strict }))
  }
  return { tools: result, byOpenAIName, openAINameOf }
}
