/**
 * MCP tools in Anthropic's Messages API format (`name`, `description`, `input_schema`), named
 * exactly as {@link toOpenAITools} names them, so one name maps back to its tool in every format.
 */
import { type OpenAIToolSource, toOpenAITool, toOpenAITools } from './openai-tools.js'

/**
 * A tool in Anthropic's Messages API `tools` format (a client tool).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/tool-use
 */
export interface AnthropicTool {
  /** Matches `^[a-zA-Z0-9_-]{1,64}$` (the OpenAI rule, which Anthropic's accepts). */
  readonly name: string
  readonly description?: string
  /** The tool's JSON Schema input (an object schema). */
  readonly input_schema: { readonly type: 'object'; readonly [key: string]: unknown }
}

/** Options of {@link toAnthropicTool}. */
export interface ToAnthropicToolOptions {
  /**
   * The tool name to use (it must match `^[a-zA-Z0-9_-]{1,64}$`).
   * @default toOpenAIName(tool.qualifiedName ?? tool.name)
   */
  name?: string | undefined
}

/**
 * One tool in Anthropic's format. `input_schema` is the tool's input schema (copied; an object
 * schema without `properties` gets an empty one), or `{ type: 'object', properties: {} }`.
 *
 * @example
 * ```ts
 * import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
 * declare const client: Client // connected to an MCP server
 * const { tools } = await client.listTools()
 * const anthropicTools = tools.map((tool) => toAnthropicTool(tool))
 * ```
 * @see https://docs.anthropic.com/en/docs/build-with-claude/tool-use
 */
export function toAnthropicTool(tool: OpenAIToolSource, options: ToAnthropicToolOptions = {}): AnthropicTool {
  return fromOpenAI(toOpenAITool(tool, { name: options.name }))
}

function fromOpenAI(tool: ReturnType<typeof toOpenAITool>): AnthropicTool {
  const { name, description, parameters } = tool.function
  return {
    name,
    ...(description ? { description } : {}),
    input_schema: parameters as AnthropicTool['input_schema'],
  }
}

/** The result of {@link toAnthropicTools}. */
export interface AnthropicToolset<T extends OpenAIToolSource> {
  /** The tools, in the order given (a new array: pass it to the client as is). */
  readonly tools: AnthropicTool[]
  /** Tool name (as the model calls it) → the tool it came from. */
  readonly byName: ReadonlyMap<string, T>
  /** The tool's routing name (`qualifiedName ?? name`) → its name in `tools`. */
  readonly nameOf: ReadonlyMap<string, string>
}

/**
 * Many tools in Anthropic's format with unique names and the mapping back; the names are those
 * of {@link toOpenAITools} for the same list.
 *
 * @example
 * ```ts
 * declare const manager: McpServerManager
 * declare const toolUse: AnthropicToolUse // a `tool_use` block of the model's reply
 * const { tools, byName } = toAnthropicTools(await manager.listTools())
 * const tool = byName.get(toolUse.name)
 * ```
 */
export function toAnthropicTools<T extends OpenAIToolSource>(tools: readonly T[]): AnthropicToolset<T> {
  const set = toOpenAITools(tools)
  return { tools: set.tools.map(fromOpenAI), byName: set.byOpenAIName, nameOf: set.openAINameOf }
}
