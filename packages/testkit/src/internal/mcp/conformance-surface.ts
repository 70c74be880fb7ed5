/**
 * The prompts, resources, resource template, completion, subscriptions and logging the conformance
 * suite's server scenarios call by name (see conformance-fixtures.ts for the tools). Never
 * re-exported.
 */
import {
  type GetPromptResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/server'
import { PNG_1X1 } from './conformance-media.js'
import type { createMrtrFixtures } from './conformance-mrtr.js'

const STATIC_TEXT = 'This is the content of the static text resource.'
const RESOURCES = [
  {
    uri: 'test://static-text',
    name: 'static-text',
    description: 'A static text resource',
    mimeType: 'text/plain',
  },
  {
    uri: 'test://static-binary',
    name: 'static-binary',
    description: 'A static binary resource',
    mimeType: 'image/png',
  },
  {
    uri: 'test://watched-resource',
    name: 'watched-resource',
    description: 'A resource to subscribe to',
    mimeType: 'text/plain',
  },
]
const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/
const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt embedding a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image' },
]
const COMPLETIONS = ['paris', 'park', 'party']

function readResource(uri: string) {
  if (uri === 'test://static-text' || uri === 'test://watched-resource')
    return { uri, mimeType: 'text/plain', text: STATIC_TEXT }
  if (uri === 'test://static-binary') return { uri, mimeType: 'image/png', blob: PNG_1X1 }
  const id = TEMPLATE.exec(uri)?.[1]
  if (id !== undefined) {
    return {
      uri,
      mimeType: 'application/json',
      text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
    }
  }
  // SEP-2164: an unknown URI is -32602 with the URI in `data`, never an empty result.
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Resource not found', { uri })
}

function getPrompt(name: string, args: Record<string, string>): GetPromptResult {
  switch (name) {
    case 'test_simple_prompt':
      return {
        messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
      }
    case 'test_prompt_with_arguments':
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Prompt with arguments: arg1='${args['arg1']}', arg2='${args['arg2']}'`,
            },
          },
        ],
      }
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: args['resourceUri'] ?? 'test://example-resource',
                mimeType: 'text/plain',
                text: 'Embedded resource content for testing.',
              },
            },
          },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ],
      }
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: PNG_1X1, mimeType: 'image/png' } },
          { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
        ],
      }
    default:
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Prompt ${name} not found`)
  }
}

const MRTR_PROMPT = {
  name: 'test_input_required_result_prompt',
  description: 'A prompt that asks the client for context first',
}

export function registerSurface(
  mcp: McpServer,
  mrtrPrompt: ReturnType<typeof createMrtrFixtures>['prompt'],
): void {
  const server = mcp.server
  server.setRequestHandler('prompts/list', () => ({ prompts: [...PROMPTS, MRTR_PROMPT] }))
  server.setRequestHandler('prompts/get', (request, ctx) =>
    request.params.name === MRTR_PROMPT.name
      ? mrtrPrompt(ctx)
      : getPrompt(request.params.name, (request.params.arguments ?? {}) as Record<string, string>),
  )
  server.setRequestHandler('resources/list', () => ({ resources: RESOURCES }))
  server.setRequestHandler('resources/templates/list', () => ({
    resourceTemplates: [
      {
        uriTemplate: 'test://template/{id}/data',
        name: 'template-data',
        description: 'Data for an id',
        mimeType: 'application/json',
      },
    ],
  }))
  server.setRequestHandler('resources/read', (request) => ({
    contents: [readResource(request.params.uri)],
  }))
  server.setRequestHandler('resources/subscribe', () => ({}))
  server.setRequestHandler('resources/unsubscribe', () => ({}))
  server.setRequestHandler('completion/complete', (request) => {
    const value = request.params.argument.value
    return { completion: { values: COMPLETIONS.filter((c) => c.startsWith(value)), hasMore: false } }
  })
}
