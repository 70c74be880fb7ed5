/**
 * MCP tools in the OpenAI Responses API format (`{ type: 'function', name, parameters, strict }`,
 * flat, unlike Chat Completions), named exactly as {@link toOpenAITools} names them.
 */
import { type OpenAIToolSource, toOpenAITool, toOpenAITools } from './openai-tools.js'

/**
 * A function tool of the OpenAI Responses API.
 *
 * @see https://platform.openai.com/docs/api-reference/responses/create#responses-create-tools
 */
export interface ResponsesTool {
  readonly type: 'function'
  /** Matches `^[a-zA-Z0-9_-]{1,64}$`. */
  readonly name: string
  readonly description?: string
  /** The tool's JSON Schema input (an object schema). */
  readonly parameters: Record<string, unknown>
  /** Strict schema adherence; the Responses API's own default is `true`, so it is always sent. */
  readonly strict: boolean
}

/** Options of {@link toResponsesTool} (and `strict` of {@link toResponsesTools}). */
export interface ToResponsesToolOptions {
  /**
   * The function name to use (it must already be valid for OpenAI).
   * @default toOpenAIName(tool.qualifiedName ?? tool.name)
   */
  name?: string | undefined
  /**
   * Sets `strict`. Strict mode needs every property required and `additionalProperties: false`,
   * which few MCP tool schemas declare; turn it on only for tools that do.
   * @default false
   */
  strict?: boolean | undefined
}

function fromOpenAI(tool: ReturnType<typeof toOpenAITool>, strict: boolean): ResponsesTool {
  const { name, description, parameters } = tool.function
  return { type: 'function', name, ...(description ? { description } : {}), parameters, strict }
}

function strictOf(options: Pick<ToResponsesToolOptions, 'strict'>): boolean {
  const strict = options.strict ?? false
  if (typeof strict !== 'boolean') throw new TypeError('"strict" option must be a boolean')
  return strict
}

/**
 * One tool in the Responses format. `parameters` is the tool's input schema (copied; an object
 * schema without `properties` gets an empty one), or `{ type: 'object', properties: {} }`.
 *
 * @example
 * ```ts
 * import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
 * declare const client: Client // connected to an MCP server
 * const { tools } = await client.listTools()
 * const responsesTools = tools.map((tool) => toResponsesTool(tool))
 * ```
 * @see https://platform.openai.com/docs/guides/function-calling
 */
export function toResponsesTool(tool: OpenAIToolSource, options: ToResponsesToolOptions = {}): ResponsesTool {
  const strict = strictOf(options)
  return fromOpenAI(toOpenAITool(tool, { name: options.name }), strict)
}

/** The result of {@link toResponsesTools}. */
export interface ResponsesToolset<T extends OpenAIToolSource> {
  /** The tools, in the order given (a new array: pass it to the client as is). */
  readonly tools: ResponsesTool[]
  /** Function name (as the model calls it) → the tool it came from. */
  readonly byName: ReadonlyMap<string, T>
  /** The tool's routing name (`qualifiedName ?? name`) → its name in `tools`. */
  readonly nameOf: ReadonlyMap<string, string>
}

/**
 * Many tools in the Responses format with unique names and the mapping back; the names are
 * those of {@link toOpenAITools} for the same list.
 *
 * @example
 * ```ts
 * declare const manager: McpServerManager
 * declare const item: ResponsesFunctionCall // a `function_call` item of the response's output
 * const { tools, byName } = toResponsesTools(await manager.listTools())
 * const tool = byName.get(item.name)
 * ```
 */
export function toResponsesTools<T extends OpenAIToolSource>(
  tools: readonly T[],
  options: Pick<ToResponsesToolOptions, 'strict'> = {},
): ResponsesToolset<T> {
  const strict = strictOf(options)
  const set = toOpenAITools(tools)
  return {
    tools: set.tools.map((tool) => fromOpenAI(tool, strict)),
    byName: set.byOpenAIName,
    nameOf: set.openAINameOf,
  }
}
