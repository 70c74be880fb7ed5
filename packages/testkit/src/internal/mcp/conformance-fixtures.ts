/**
 * The fixtures the official MCP conformance suite's server scenarios call by name (tools, prompts,
 * resources, a resource template, completion, subscriptions, logging). Served only when asked for
 * (`conformanceFixtures: true`, CLI `--conformance`), so the default tool list stays the four
 * seed tools. Never re-exported.
 *
 * @see https://github.com/modelcontextprotocol/conformance (scenario descriptions)
 */
import {
  type CallToolResult,
  type ClientCapabilities,
  inputRequired,
  type McpServer,
  MissingRequiredClientCapabilityError,
  type ServerContext,
} from '@modelcontextprotocol/server'
import { PNG_1X1, WAV } from './conformance-media.js'
import { createMrtrFixtures } from './conformance-mrtr.js'
import { registerSurface } from './conformance-surface.js'
import type { ServedTool, ServerSurface } from './sdk-server.js'

const NO_ARGS = { type: 'object', properties: {} }

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] }
}

/** Waits `ms`: the scenarios ask for spaced notifications, so a tool's pace is part of the fixture. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

function tool(
  name: string,
  description: string,
  run: ServedTool['run'],
  inputSchema: Record<string, unknown> = NO_ARGS,
): ServedTool {
  return { name, description, inputSchema, run }
}

/** The client's capabilities for this request: the 2026 envelope's, else the session's `initialize`. */
function clientCapabilities(ctx: ServerContext, mcp: McpServer | undefined): ClientCapabilities {
  const envelope = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
    'io.modelcontextprotocol/clientCapabilities'
  ]
  if (envelope && typeof envelope === 'object') return envelope as ClientCapabilities
  return mcp?.server.getClientCapabilities() ?? {}
}

const SEP1034_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Your name', default: 'John Doe' },
    age: { type: 'integer', description: 'Your age', default: 30 },
    score: { type: 'number', description: 'Your score', default: 95.5 },
    status: {
      type: 'string',
      description: 'Status',
      enum: ['active', 'inactive', 'pending'],
      default: 'active',
    },
    verified: { type: 'boolean', description: 'Verified', default: true },
  },
} as const

const SEP1330_SCHEMA = {
  type: 'object',
  properties: {
    untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
    titledSingle: {
      type: 'string',
      oneOf: [
        { const: 'value1', title: 'First Option' },
        { const: 'value2', title: 'Second Option' },
        { const: 'value3', title: 'Third Option' },
      ],
    },
    legacyEnum: {
      type: 'string',
      enum: ['opt1', 'opt2', 'opt3'],
      enumNames: ['Option One', 'Option Two', 'Option Three'],
    },
    untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
    titledMulti: {
      type: 'array',
      items: {
        anyOf: [
          { const: 'value1', title: 'First Choice' },
          { const: 'value2', title: 'Second Choice' },
          { const: 'value3', title: 'Third Choice' },
        ],
      },
    },
  },
} as const

/**
 * A 2020-12 input schema using `$defs` (the scenario looks for `address`) with an `$anchor`, `$ref`,
 * `allOf`/`anyOf`, `if`/`then`/`else` and `additionalProperties`.
 */
const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'address',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
}

/** The fixture tools of the single-round scenarios, in a stable order; the first needs no arguments. */
function conformanceTools(): ServedTool[] {
  return [
    tool('test_simple_text', 'Returns one text item', async () =>
      text('This is a simple text response for testing.'),
    ),
    tool('test_image_content', 'Returns one image item', async () => ({
      content: [{ type: 'image', data: PNG_1X1, mimeType: 'image/png' }],
    })),
    tool('test_audio_content', 'Returns one audio item', async () => ({
      content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
    })),
    tool('test_embedded_resource', 'Returns an embedded resource', async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    })),
    tool('test_multiple_content_types', 'Returns text, an image and a resource', async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG_1X1, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    })),
    tool('test_tool_with_logging', 'Sends three log messages while it runs', async (_args, { ctx }) => {
      await ctx.mcpReq.log('info', 'Tool execution started')
      await pause(50, ctx.mcpReq.signal)
      await ctx.mcpReq.log('info', 'Tool processing data')
      await pause(50, ctx.mcpReq.signal)
      await ctx.mcpReq.log('info', 'Tool execution completed')
      return text('Logging tool finished')
    }),
    tool('test_error_handling', 'Always fails with an isError result', async () => ({
      isError: true,
      content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    })),
    tool('test_tool_with_progress', 'Reports progress 0, 50 and 100 of 100', async (_args, { ctx }) => {
      const progressToken = ctx.mcpReq._meta?.progressToken
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100 },
          })
        }
        if (progress < 100) await pause(50, ctx.mcpReq.signal)
      }
      return text('Progress tool finished')
    }),
    tool(
      'test_sampling',
      'Asks the client to sample an LLM',
      async (args, { ctx }) => {
        const result = await ctx.mcpReq.requestSampling({
          messages: [{ role: 'user', content: { type: 'text', text: String(args['prompt'] ?? '') } }],
          maxTokens: 100,
        })
        const content = Array.isArray(result.content) ? result.content[0] : result.content
        const reply = content && content.type === 'text' ? content.text : JSON.stringify(content)
        return text(`LLM response: ${reply}`)
      },
      { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] },
    ),
    tool(
      'test_elicitation',
      'Asks the user for a username and email',
      async (args, { ctx }) => {
        const result = await ctx.mcpReq.elicitInput({
          message: String(args['message'] ?? ''),
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        })
        return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)
      },
      { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    ),
    tool(
      'test_elicitation_sep1034_defaults',
      'Elicits values with defaults (SEP-1034)',
      async (_args, { ctx }) => {
        const result = await ctx.mcpReq.elicitInput({
          message: 'Defaults test',
          requestedSchema: SEP1034_SCHEMA,
        })
        return text(
          `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
        )
      },
    ),
    tool(
      'test_elicitation_sep1330_enums',
      'Elicits the five enum shapes (SEP-1330)',
      async (_args, { ctx }) => {
        const result = await ctx.mcpReq.elicitInput({
          message: 'Enum test',
          requestedSchema: SEP1330_SCHEMA as never,
        })
        return text(
          `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
        )
      },
    ),
    // Diagnostic tools of the 2026-07-28 server-stateless scenario.
    tool(
      'test_missing_capability',
      'Needs the client sampling capability',
      async (_args, { ctx, server }) => {
        // SEP-2575: a request needing an undeclared client capability is refused with -32021.
        if (!clientCapabilities(ctx, server).sampling)
          throw new MissingRequiredClientCapabilityError({ requiredCapabilities: { sampling: {} } })
        return text('The client declared sampling')
      },
    ),
    tool(
      'test_streaming_elicitation',
      'Asks for input through an input-required result',
      async (_args, { ctx }) => {
        const answer = ctx.mcpReq.inputResponses?.['answer'] as
          | { action?: string; content?: unknown }
          | undefined
        if (!answer) {
          return inputRequired({
            inputRequests: {
              answer: inputRequired.elicit({
                message: 'Anything to add?',
                requestedSchema: { type: 'object', properties: { note: { type: 'string' } } },
              }),
            },
          })
        }
        return text(`Elicitation answered: action=${answer.action}`)
      },
    ),
    tool(
      'test_logging_tool',
      'Logs at info level (only sent when the request asks for logs)',
      async (_args, { ctx }) => {
        await ctx.mcpReq.log('info', 'test_logging_tool ran')
        return text('Logging tool finished')
      },
    ),
    tool(
      'test_custom_header',
      'Echoes a string argument mirrored into the Mcp-Param-Message header (SEP-2243)',
      async (args) => text(`Echo: ${String(args['message'] ?? '')}`),
      {
        type: 'object',
        properties: { message: { type: 'string', 'x-mcp-header': 'Message' } },
        required: ['message'],
      },
    ),
    tool(
      'json_schema_2020_12_tool',
      'Takes arguments described with JSON Schema 2020-12 keywords',
      async (args) => text(`Received ${JSON.stringify(args)}`),
      JSON_SCHEMA_2020_12,
    ),
  ]
}

/**
 * Every fixture: the tools (single-round first, then the multi-round ones), and the prompts,
 * resources, template, completion, subscriptions and logging the tools come with.
 */
export function createConformanceFixtures(): { tools: ServedTool[]; surface: ServerSurface } {
  const mrtr = createMrtrFixtures()
  const surface: ServerSurface = {
    capabilities: { prompts: {}, resources: { subscribe: true }, completions: {}, logging: {} },
    options: { requestState: { verify: mrtr.verifyRequestState } },
    register: (mcp) => registerSurface(mcp, mrtr.prompt),
  }
  return { tools: [...conformanceTools(), ...mrtr.tools], surface }
}
