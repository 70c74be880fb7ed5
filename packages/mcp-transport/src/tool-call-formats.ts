/**
 * The tool calls models send and the tool results they expect back, in the three formats
 * {@link runToolCalls} speaks: OpenAI Chat Completions, OpenAI Responses and Anthropic Messages.
 * The shapes are the wire shapes, so the official `openai` and `@anthropic-ai/sdk` types are
 * assignable to the calls and the results are assignable to their request parameters.
 */

/** Which API a tool call came from (and its result goes back to). */
export type ToolCallFormat = 'chat_completions' | 'responses' | 'anthropic'

/**
 * A function call in an OpenAI Chat Completions assistant message (`message.tool_calls[i]`).
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object
 */
export interface ChatCompletionsFunctionToolCall {
  readonly id: string
  readonly type: 'function'
  readonly function: {
    readonly name: string
    /** JSON text of the arguments, as the model wrote it (not always valid JSON). */
    readonly arguments: string
  }
}

/** A custom (free-text) tool call in Chat Completions; MCP tools are never custom tools. */
export interface ChatCompletionsCustomToolCall {
  readonly id: string
  readonly type: 'custom'
  readonly custom: { readonly name: string; readonly input: string }
}

/** A call in a Chat Completions assistant message's `tool_calls`. */
export type ChatCompletionsToolCall = ChatCompletionsFunctionToolCall | ChatCompletionsCustomToolCall

/**
 * A `function_call` item of an OpenAI Responses `response.output`.
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object
 */
export interface ResponsesFunctionCall {
  readonly type: 'function_call'
  /** The id the output must name; not the item's `id`. */
  readonly call_id: string
  readonly name: string
  /** JSON text of the arguments, as the model wrote it. */
  readonly arguments: string
}

/**
 * A `tool_use` content block of an Anthropic Messages response (`message.content[i]`).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/tool-use
 */
export interface AnthropicToolUse {
  readonly type: 'tool_use'
  readonly id: string
  readonly name: string
  /** The arguments, already parsed by the API (an object for a well-formed call). */
  readonly input: unknown
}

/** A tool call in any of the three formats. */
export type ToolCall = ChatCompletionsToolCall | ResponsesFunctionCall | AnthropicToolUse

/** A Chat Completions `tool` message answering one call (there is no error flag: errors read `Error: …`). */
export interface ChatCompletionsToolMessage {
  readonly role: 'tool'
  readonly tool_call_id: string
  readonly content: string
}

/** One part of a Responses function call output that is not a plain string. */
export type ResponsesOutputPart =
  | { readonly type: 'input_text'; readonly text: string }
  /** An image as a `data:` URL. */
  | { readonly type: 'input_image'; readonly image_url: string }

/** A Responses `function_call_output` input item answering one call (errors read `Error: …`). */
export interface ResponsesFunctionCallOutput {
  readonly type: 'function_call_output'
  readonly call_id: string
  /** The text, or parts when the tool returned images. */
  readonly output: string | ResponsesOutputPart[]
}

/** A content block of an Anthropic `tool_result`. */
export type AnthropicToolResultPart =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'image'
      readonly source: {
        readonly type: 'base64'
        readonly media_type: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp'
        readonly data: string
      }
    }

/**
 * An Anthropic `tool_result` content block answering one `tool_use`. Every result of a turn goes
 * into one `user` message: `{ role: 'user', content: run.messages }`.
 */
export interface AnthropicToolResult {
  readonly type: 'tool_result'
  readonly tool_use_id: string
  /** Absent when the tool returned nothing. */
  readonly content?: AnthropicToolResultPart[]
  /** Set (to `true`) only for a failed call or a tool error result. */
  readonly is_error?: true
}

/** A tool result in any of the three formats. */
export type ToolResultMessage = ChatCompletionsToolMessage | ResponsesFunctionCallOutput | AnthropicToolResult

/** The result message type that answers a call type `C`. */
export type ToolResultFor<C> = C extends { readonly type: 'tool_use' }
  ? AnthropicToolResult
  : C extends { readonly type: 'function_call' }
    ? ResponsesFunctionCallOutput
    : ChatCompletionsToolMessage
