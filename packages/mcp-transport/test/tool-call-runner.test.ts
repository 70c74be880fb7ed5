// The runner between a model and MCP, tested with the official model clients: `openai` and
// `@anthropic-ai/sdk` talk to scripted model endpoints (msw), the MCP side is the testkit's mock
// server behind its mock authorization server, and the host is a real McpServerManager.
import Anthropic from '@anthropic-ai/sdk'
import { parseConfig } from '@mcp-oauth2/auth-core'
import {
  createMockMcpServer,
  createMockOAuthServer,
  createSeedTools,
  seedToolScopes,
} from '@mcp-oauth2/testkit'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { toAnthropicTools } from '../src/anthropic-tools.js'
import { RateLimitedError } from '../src/errors.js'
import { toOpenAIName } from '../src/openai-tools.js'
import { toResponsesTools } from '../src/responses-tools.js'
import { McpServerManager } from '../src/server-manager.js'
import type { ChatCompletionsToolMessage } from '../src/tool-call-formats.js'
import { runToolCalls, type ToolCallHost, type ToolCallHostTool } from '../src/tool-call-runner.js'
import { withUserContext } from '../src/user-context.js'

const MCP_URL = 'https://crm.mock.test/mcp'
const CHAT_URL = 'https://api.openai.com/v1/chat/completions'
const RESPONSES_URL = 'https://api.openai.com/v1/responses'
const ANTHROPIC_URL = 'https://api.anthropic.com/v1/messages'
// A 1×1 transparent PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII='

/** Calls of `wait_for_release` block until the test releases them. */
let releaseWaiting: () => void = () => {}
let waiting = Promise.resolve()
function holdWaitingCalls() {
  waiting = new Promise((resolve) => {
    releaseWaiting = resolve
  })
}

const oauth = createMockOAuthServer()
const crm = createMockMcpServer({
  oauth,
  url: MCP_URL,
  name: 'crm',
  toolScopes: { ...seedToolScopes },
  tools: [
    ...createSeedTools(),
    { name: 'lookup.v2', description: 'A name OpenAI would refuse', handler: () => ({ ok: true }) },
    {
      name: 'render_chart',
      handler: () => ({
        content: [
          { type: 'text', text: 'Chart of sales' },
          { type: 'image', data: PNG, mimeType: 'image/png' },
        ],
        structuredContent: { total: 42 },
      }),
    },
    {
      name: 'archive_customer',
      handler: () => ({ content: [{ type: 'text', text: 'the archive is read-only' }], isError: true }),
    },
    {
      name: 'wait_for_release',
      handler: async () => {
        await waiting
        return 'released'
      },
    },
  ],
})

const msw = setupServer(...oauth.handlers, ...crm.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
const managers: McpServerManager[] = []
afterEach(async () => {
  releaseWaiting()
  await Promise.all(managers.splice(0).map((m) => m.close()))
  msw.resetHandlers()
  await crm.close()
  crm.reset()
  oauth.reset()
})
afterAll(() => msw.close())

/** A connected manager: the service token has customer:read and ticket:create, not account:calculate. */
async function connected(): Promise<McpServerManager> {
  const config = parseConfig(
    {
      mcp_config: {
        default_oauth2: {
          token_url: oauth.tokenEndpoint,
          client_id: 'test-client',
          client_secret: 'test-secret',
          scope: 'customer:read ticket:create',
        },
      },
      mcp_servers: {
        crm: {
          url: MCP_URL,
          auth: { cookie_passthrough: { enabled: true, cookie_names: ['session_id', 'user_id'] } },
        },
      },
    },
    { env: {} },
  )
  const manager = McpServerManager.fromConfig(config, {
    retry: false,
    toolScopes: {
      ...seedToolScopes,
      'lookup.v2': [],
      render_chart: [],
      archive_customer: [],
      wait_for_release: [],
    },
  })
  managers.push(manager)
  await manager.connect()
  return manager
}

const openAI = () => new OpenAI({ apiKey: 'sk-mock', maxRetries: 0 })
const anthropic = () => new Anthropic({ apiKey: 'sk-ant-mock', maxRetries: 0 })

/**
 * A scripted model: the n-th request to `url` is answered by `replies[n]`, given its JSON body.
 * Returns the bodies the client sent, in order.
 */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are checked field by field
function scriptModel(url: string, replies: ((body: any) => unknown)[]): any[] {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const bodies: any[] = []
  msw.use(
    http.post(url, async ({ request }) => {
      const body = await request.json()
      bodies.push(body)
      const reply = replies[bodies.length - 1]
      if (!reply) return HttpResponse.json({ error: { message: 'not scripted' } }, { status: 500 })
      return HttpResponse.json(reply(body) as Record<string, unknown>)
    }),
  )
  return bodies
}

function chatReply(message: Record<string, unknown>, finishReason = 'tool_calls') {
  return {
    id: 'chatcmpl-mock',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-mock',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null, ...message },
        finish_reason: finishReason,
        logprobs: null,
      },
    ],
  }
}

function responsesReply(id: string, output: unknown[]) {
  return {
    id,
    object: 'response',
    created_at: 1,
    status: 'completed',
    model: 'gpt-mock',
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: {},
    temperature: 1,
    top_p: 1,
  }
}

function anthropicReply(content: unknown[], stopReason = 'tool_use') {
  return {
    id: 'msg_mock',
    type: 'message',
    role: 'assistant',
    model: 'claude-mock',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 1, output_tokens: 1 },
  }
}

const fnCall = (id: string, name: string, args: string) => ({
  id,
  type: 'function' as const,
  function: { name, arguments: args },
})

const ADA = 'session_id=s-ada; user_id=u-ada; tracking=t-1'
const BOB = 'session_id=s-bob; user_id=u-bob; theme=dark'

function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve()
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not met in time'))
      else setTimeout(tick, 5)
    }
    tick()
  })
}

const toolCallsTo = (tool: string) => crm.toolCalls.filter((c) => c.tool === tool)

describe('runToolCalls with the openai client: Chat Completions', () => {
  it('runs the tool_calls of a completion as the user and sends back tool messages naming each call', async () => {
    const manager = await connected()
    const tools = await manager.openAITools()
    const bodies = scriptModel(CHAT_URL, [
      () =>
        chatReply({
          tool_calls: [
            fnCall('call_a', 'get_customer_info', '{"customer_id":"cust-001"}'),
            fnCall('call_b', toOpenAIName('lookup.v2'), ''),
          ],
        }),
      () => chatReply({ content: 'Ada Lovelace is a gold customer.' }, 'stop'),
    ])
    const client = openAI()
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Who is cust-001?' }]
    const first = await client.chat.completions.create({ model: 'gpt-mock', messages, tools })
    const reply = first.choices[0]!.message
    const run = await withUserContext({ cookie: ADA }, () => runToolCalls(manager, reply.tool_calls ?? []))
    messages.push(reply, ...run.messages)
    const second = await client.chat.completions.create({ model: 'gpt-mock', messages, tools })

    expect(second.choices[0]!.message.content).toBe('Ada Lovelace is a gold customer.')
    expect(bodies[0].tools).toEqual(JSON.parse(JSON.stringify(tools)))
    const sent = bodies[1].messages
    expect(sent[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_a' }, { id: 'call_b' }] })
    expect(sent.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'call_a', content: expect.any(String) },
      { role: 'tool', tool_call_id: 'call_b', content: '{"ok":true}' },
    ])
    // The structured content, as JSON text, with the cookies the tool saw: only the allowed ones.
    expect(JSON.parse(sent[2].content)).toMatchObject({
      name: 'Ada Lovelace',
      seen_user: { session_id: 's-ada', user_id: 'u-ada' },
    })
    expect(crm.toolCalls.map((c) => [c.tool, c.cookies])).toEqual(
      expect.arrayContaining([
        ['get_customer_info', { session_id: 's-ada', user_id: 'u-ada' }],
        ['lookup.v2', { session_id: 's-ada', user_id: 'u-ada' }],
      ]),
    )
    expect(run.results.map((r) => r.event)).toMatchObject([
      {
        type: 'model_tool_call',
        format: 'chat_completions',
        callId: 'call_a',
        name: 'get_customer_info',
        server: 'crm',
        tool: 'get_customer_info',
        outcome: 'ok',
        isError: false,
        code: undefined,
        user: true,
      },
      { callId: 'call_b', name: toOpenAIName('lookup.v2'), tool: 'lookup.v2', outcome: 'ok' },
    ])
    expect(run.results[0]!.result?.structuredContent).toMatchObject({ customer_id: 'cust-001' })
  })

  it('answers malformed arguments with an error the model can read, without calling the tool', async () => {
    const manager = await connected()
    const bodies = scriptModel(CHAT_URL, [
      () =>
        chatReply({
          tool_calls: [
            fnCall('call_bad', 'get_customer_info', '{"customer_id": "cust-001"'),
            fnCall('call_list', 'get_customer_info', '["cust-001"]'),
            fnCall('call_good', 'get_recent_customers', '{"limit":1}'),
          ],
        }),
      () => chatReply({ content: 'Let me try again.' }, 'stop'),
    ])
    const client = openAI()
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Who is cust-001?' }]
    const reply = (await client.chat.completions.create({ model: 'gpt-mock', messages })).choices[0]!.message
    const run = await runToolCalls(manager, reply.tool_calls ?? [])
    messages.push(reply, ...run.messages)
    await client.chat.completions.create({ model: 'gpt-mock', messages })

    const [bad, list, good] = bodies[1].messages.slice(2) as ChatCompletionsToolMessage[]
    expect(bad).toMatchObject({ tool_call_id: 'call_bad' })
    expect(bad!.content).toMatch(
      /^Error: the arguments are not valid JSON \(.+\); call "get_customer_info" again/,
    )
    expect(list!.content).toMatch(/^Error: the arguments must be a JSON object/)
    expect(JSON.parse(good!.content)).toMatchObject({ customers: [{ customer_id: 'cust-001' }] })
    expect(run.results.map((r) => [r.event.outcome, r.event.code, r.event.isError])).toEqual([
      ['invalid_arguments', 'ERR_INVALID_ARGUMENTS', true],
      ['invalid_arguments', 'ERR_INVALID_ARGUMENTS', true],
      ['ok', undefined, false],
    ])
    expect(toolCallsTo('get_customer_info')).toEqual([])
  })

  it('runs two users in parallel, each call carrying only its own user cookies', async () => {
    const manager = await connected()
    // The model asks for the customer named in the user's question, twice, and one list.
    const ask = (body: { messages: { role: string; content: string }[] }) => {
      const last = body.messages.at(-1)!
      if (last.role !== 'user') return chatReply({ content: 'done' }, 'stop')
      const id = last.content
      return chatReply({
        tool_calls: [
          fnCall(`${id}-1`, 'get_customer_info', JSON.stringify({ customer_id: id })),
          fnCall(`${id}-2`, 'calculate_account_value', JSON.stringify({ customer_id: id })),
          fnCall(`${id}-3`, 'create_support_ticket', JSON.stringify({ customer_id: id, subject: id })),
          fnCall(`${id}-4`, 'get_customer_info', JSON.stringify({ customer_id: id })),
        ],
      })
    }
    scriptModel(CHAT_URL, [ask, ask, ask, ask])
    const client = openAI()
    const turn = async (customer: string, cookie: string) => {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: customer }]
      const reply = (await client.chat.completions.create({ model: 'gpt-mock', messages })).choices[0]!
        .message
      const run = await withUserContext({ cookie }, () =>
        runToolCalls(manager, reply.tool_calls ?? [], { concurrency: 2 }),
      )
      messages.push(reply, ...run.messages)
      await client.chat.completions.create({ model: 'gpt-mock', messages })
      return run
    }
    const [ada, bob] = await Promise.all([turn('cust-001', ADA), turn('cust-002', BOB)])

    const expected = {
      'cust-001': { session_id: 's-ada', user_id: 'u-ada' },
      'cust-002': { session_id: 's-bob', user_id: 'u-bob' },
    } as Record<string, unknown>
    expect(crm.toolCalls).toHaveLength(6) // 2 × (2 lookups + 1 ticket); the account values are denied
    for (const call of crm.toolCalls) expect(call.cookies).toEqual(expected[String(call.args['customer_id'])])
    for (const [run, customer] of [
      [ada, 'cust-001'],
      [bob, 'cust-002'],
    ] as const) {
      expect(run.messages.map((m) => m.tool_call_id)).toEqual([1, 2, 3, 4].map((n) => `${customer}-${n}`))
      const seen = run.results.filter((r) => r.result).map((r) => r.result?.structuredContent)
      expect(seen).toHaveLength(3)
      for (const content of seen) {
        expect((content as { seen_user: object }).seen_user).toMatchObject(expected[customer] as object)
      }
      expect(run.results.map((r) => r.event.outcome)).toEqual(['ok', 'denied', 'ok', 'ok'])
    }
    // Audit events name the call, never a cookie value.
    expect(JSON.stringify([...ada.results, ...bob.results].map((r) => r.event))).not.toMatch(
      /s-ada|s-bob|u-ada/,
    )
  })
})

describe('runToolCalls with the openai client: Responses', () => {
  it('runs function_call items and sends back function_call_output items naming each call_id', async () => {
    const manager = await connected()
    const tools = await manager.responsesTools()
    const bodies = scriptModel(RESPONSES_URL, [
      () =>
        responsesReply('resp_1', [
          {
            type: 'function_call',
            id: 'fc_1',
            call_id: 'call_r1',
            name: 'create_support_ticket',
            arguments: '{"customer_id":"cust-002","subject":"Refund"}',
            status: 'completed',
          },
          { type: 'function_call', id: 'fc_2', call_id: 'call_r2', name: 'render_chart', arguments: '{}' },
        ]),
      () =>
        responsesReply('resp_2', [
          {
            type: 'message',
            id: 'msg_1',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: 'Ticket opened.', annotations: [] }],
          },
        ]),
    ])
    const client = openAI()
    const first = await client.responses.create({ model: 'gpt-mock', input: 'Open a refund ticket', tools })
    const calls = first.output.filter((item) => item.type === 'function_call')
    const run = await withUserContext({ cookie: BOB }, () => manager.runToolCalls(calls))
    const second = await client.responses.create({
      model: 'gpt-mock',
      previous_response_id: first.id,
      input: run.messages,
      tools,
    })

    expect(second.output_text).toBe('Ticket opened.')
    expect(bodies[0].tools).toContainEqual({
      type: 'function',
      name: 'create_support_ticket',
      description: 'Create a support ticket for a customer',
      parameters: expect.objectContaining({ required: ['customer_id', 'subject'] }),
      strict: false,
    })
    expect(bodies[1].previous_response_id).toBe('resp_1')
    expect(bodies[1].input).toEqual([
      { type: 'function_call_output', call_id: 'call_r1', output: expect.any(String) },
      {
        type: 'function_call_output',
        call_id: 'call_r2',
        output: [
          { type: 'input_text', text: 'Chart of sales' },
          { type: 'input_image', image_url: `data:image/png;base64,${PNG}` },
          { type: 'input_text', text: '{"total":42}' },
        ],
      },
    ])
    expect(JSON.parse(bodies[1].input[0].output)).toMatchObject({
      subject: 'Refund',
      created_by: 'u-bob',
      seen_user: { session_id: 's-bob' },
    })
    expect(run.results.map((r) => [r.event.format, r.event.callId, r.event.outcome])).toEqual([
      ['responses', 'call_r1', 'ok'],
      ['responses', 'call_r2', 'ok'],
    ])
  })
})

describe('runToolCalls with the @anthropic-ai/sdk client: Messages', () => {
  it('runs tool_use blocks and sends back tool_result blocks, with is_error on the refused call', async () => {
    const manager = await connected()
    const tools = await manager.anthropicTools()
    const bodies = scriptModel(ANTHROPIC_URL, [
      () =>
        anthropicReply([
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_customer_info', input: { customer_id: 'cust-003' } },
          {
            type: 'tool_use',
            id: 'toolu_2',
            name: 'calculate_account_value',
            input: { customer_id: 'cust-003' },
          },
          { type: 'tool_use', id: 'toolu_3', name: 'render_chart', input: {} },
          { type: 'tool_use', id: 'toolu_4', name: 'archive_customer', input: {} },
        ]),
      () => anthropicReply([{ type: 'text', text: 'Grace Hopper is a platinum customer.' }], 'end_turn'),
    ])
    const client = anthropic()
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Tell me about cust-003' }]
    const first = await client.messages.create({ model: 'claude-mock', max_tokens: 1024, messages, tools })
    const calls = first.content.filter((block) => block.type === 'tool_use')
    const run = await withUserContext({ cookie: ADA }, () => manager.runToolCalls(calls))
    messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: run.messages })
    const second = await client.messages.create({ model: 'claude-mock', max_tokens: 1024, messages, tools })

    expect(second.content).toEqual([{ type: 'text', text: 'Grace Hopper is a platinum customer.' }])
    expect(bodies[0].tools).toContainEqual({
      name: 'get_customer_info',
      description: 'Get information about a customer by id',
      input_schema: expect.objectContaining({ type: 'object', required: ['customer_id'] }),
    })
    const [lookup, refused, chart, archived] = bodies[1].messages[2].content
    expect(bodies[1].messages[2].role).toBe('user')
    expect(lookup).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_1',
      content: [{ type: 'text', text: expect.any(String) }],
    })
    expect(JSON.parse(lookup.content[0].text)).toMatchObject({
      name: 'Grace Hopper',
      seen_user: { session_id: 's-ada' },
    })
    expect(refused).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_2',
      is_error: true,
      content: [
        { type: 'text', text: expect.stringMatching(/refused: missing scope\(s\) account:calculate/) },
      ],
    })
    expect(chart).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_3',
      content: [
        { type: 'text', text: 'Chart of sales' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'text', text: '{"total":42}' },
      ],
    })
    expect(archived).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_4',
      is_error: true,
      content: [{ type: 'text', text: 'the archive is read-only' }],
    })
    expect(run.results[1]!.event).toMatchObject({
      format: 'anthropic',
      callId: 'toolu_2',
      outcome: 'denied',
      code: 'ERR_SCOPE_DENIED',
      missingScopes: ['account:calculate'],
      server: 'crm',
      tool: 'calculate_account_value',
    })
    expect(run.results[3]!.event).toMatchObject({ outcome: 'tool_error', isError: true, code: undefined })
    // The refused call never reached the server.
    expect(toolCallsTo('calculate_account_value')).toEqual([])
  })

  it('answers a tool_use whose input is not an object with an error result', async () => {
    const manager = await connected()
    const run = await runToolCalls(manager, [
      { type: 'tool_use', id: 'toolu_x', name: 'get_customer_info', input: 'cust-001' },
    ])
    expect(run.messages).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'toolu_x',
        is_error: true,
        content: [{ type: 'text', text: expect.stringMatching(/^the arguments must be a JSON object/) }],
      },
    ])
    expect(crm.toolCalls).toEqual([])
  })
})

describe('timeouts and aborts', () => {
  it('answers a call that outlives timeoutMs with a timeout error, cancels it, and runs the rest', async () => {
    holdWaitingCalls()
    const manager = await connected()
    const run = await runToolCalls(
      manager,
      [
        fnCall('call_slow', 'wait_for_release', '{}'),
        fnCall('call_fast', 'get_customer_info', '{"customer_id":"cust-004"}'),
      ],
      // The slow call is held until released: any deadline times it out. Room for the fast one on
      // a loaded machine.
      { timeoutMs: 2000 },
    )
    expect(run.messages[0]).toEqual({
      role: 'tool',
      tool_call_id: 'call_slow',
      content: 'Error: the tool call timed out after 2000 ms',
    })
    expect(run.results.map((r) => [r.event.outcome, r.event.code])).toEqual([
      ['timeout', 'ERR_MCP_TIMEOUT'],
      ['ok', undefined],
    ])
    // The SDK told the server to stop working on it.
    await until(() => crm.requests.some((r) => r.jsonRpcMethods.includes('notifications/cancelled')))
  })

  it('aborts the batch: the call in flight and the queued one both get a result, the queued one is never sent', async () => {
    holdWaitingCalls()
    const manager = await connected()
    const controller = new AbortController()
    const pending = runToolCalls(
      manager,
      [
        { type: 'function_call', call_id: 'c1', name: 'wait_for_release', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'get_customer_info', arguments: '{"customer_id":"x"}' },
      ],
      { signal: controller.signal, concurrency: 1 },
    )
    await until(() => toolCallsTo('wait_for_release').length === 1)
    controller.abort()
    const run = await pending
    expect(run.messages).toEqual([
      { type: 'function_call_output', call_id: 'c1', output: 'Error: the tool call was cancelled' },
      { type: 'function_call_output', call_id: 'c2', output: 'Error: the tool call was cancelled' },
    ])
    expect(run.results.map((r) => [r.event.outcome, r.event.code])).toEqual([
      ['aborted', 'ERR_ABORTED'],
      ['aborted', 'ERR_ABORTED'],
    ])
    expect(toolCallsTo('get_customer_info')).toEqual([])
  })

  it('makes no call when the signal is already aborted', async () => {
    const manager = await connected()
    const run = await runToolCalls(manager, [fnCall('c', 'get_customer_info', '{"customer_id":"x"}')], {
      signal: AbortSignal.abort(),
    })
    expect(run.results[0]!.event.outcome).toBe('aborted')
    expect(crm.toolCalls).toEqual([])
  })
})

describe('failures never fail the batch', () => {
  it('answers an unknown tool and a custom tool call with errors', async () => {
    const manager = await connected()
    const run = await runToolCalls(manager, [
      fnCall('c1', 'no_such_tool', '{}'),
      { id: 'c2', type: 'custom', custom: { name: 'get_customer_info', input: 'cust-001' } },
    ])
    expect(run.messages.map((m) => m.content)).toEqual([
      'Error: no connected MCP server offers a tool "no_such_tool"',
      expect.stringMatching(/^Error: "get_customer_info": MCP tools take JSON arguments/),
    ])
    expect(run.results.map((r) => [r.event.outcome, r.event.code])).toEqual([
      ['unknown_tool', 'ERR_UNKNOWN_TOOL'],
      ['unknown_tool', 'ERR_UNKNOWN_TOOL'],
    ])
  })

  it('answers every call of a closed manager with an unavailable error', async () => {
    const manager = await connected()
    await manager.close()
    const run = await runToolCalls(manager, [fnCall('c1', 'get_customer_info', '{"customer_id":"x"}')])
    expect(run.results[0]!.event).toMatchObject({ outcome: 'unavailable', code: 'ERR_CLOSED', isError: true })
    expect(run.messages[0]!.content).toBe('Error: the server manager is closed')
  })
})

/** A host of our own, for what the manager cannot show yet (rate limits) or on purpose (a hung call). */
function fakeHost(
  callTool: ToolCallHost['callTool'],
  tools: ToolCallHostTool[] = [{ name: 'work', server: 'x' }],
): ToolCallHost & { started: string[] } {
  const started: string[] = []
  return {
    started,
    listTools: async () => tools,
    callTool: (name, args, options) => {
      started.push(String(args['n'] ?? name))
      return callTool(name, args, options)
    },
  }
}

describe('the host interface', () => {
  it('is what McpServerManager already is', async () => {
    const host: ToolCallHost = await connected()
    expect(typeof host.callTool).toBe('function')
  })

  it("the manager's anthropicTools(), responsesTools() and runToolCalls() are the standalone functions", async () => {
    const manager = await connected()
    const listed = await manager.listTools()
    expect(await manager.anthropicTools()).toEqual(toAnthropicTools(listed).tools)
    expect(await manager.responsesTools()).toEqual(toResponsesTools(listed).tools)
    expect(await manager.responsesTools({ strict: true })).toEqual(
      toResponsesTools(listed, { strict: true }).tools,
    )
    const calls = [fnCall('c1', toOpenAIName('lookup.v2'), '{}'), fnCall('c2', 'no_such_tool', '{}')]
    const viaMethod = await manager.runToolCalls(calls, { concurrency: 1, now: () => 7 })
    const viaFunction = await runToolCalls(manager, calls, { concurrency: 1, now: () => 7 })
    expect(viaMethod.messages).toEqual(viaFunction.messages)
    expect(viaMethod.results.map((r) => r.event)).toEqual(viaFunction.results.map((r) => r.event))
    expect(viaMethod.messages.map((m) => m.content)).toEqual([
      '{"ok":true}',
      'Error: no connected MCP server offers a tool "no_such_tool"',
    ])
    await expect(manager.runToolCalls(calls, { concurrency: 0 })).rejects.toThrow(/"concurrency"/)
  })

  it('runs at most `concurrency` calls at once and keeps the order of the calls', async () => {
    const gates: (() => void)[] = []
    const host = fakeHost(
      (_name, args) =>
        new Promise((resolve) => {
          gates.push(() => resolve({ content: [{ type: 'text', text: `done ${String(args['n'])}` }] }))
        }),
    )
    const calls = [1, 2, 3, 4, 5].map((n) => fnCall(`c${n}`, 'work', JSON.stringify({ n })))
    const pending = runToolCalls(host, calls, { concurrency: 2 })
    await until(() => host.started.length === 2)
    const settle = () => new Promise((resolve) => setImmediate(resolve))
    await settle()
    expect(host.started).toEqual(['1', '2'])
    gates[1]!() // the second finishes first: one slot frees, one call starts
    await until(() => host.started.length === 3)
    await settle()
    expect(host.started).toEqual(['1', '2', '3'])
    const drain = setInterval(() => {
      for (const open of gates) open()
    }, 1)
    const run = await pending.finally(() => clearInterval(drain))
    expect(run.messages.map((m) => m.content)).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5'])
  })

  it('times out a call whose host ignores the signal', async () => {
    const host = fakeHost(() => new Promise(() => {}))
    const run = await runToolCalls(host, [fnCall('c1', 'work', '{}')], { timeoutMs: 50 })
    expect(run.results[0]!.event).toMatchObject({ outcome: 'timeout', code: 'ERR_MCP_TIMEOUT', server: 'x' })
  })

  it('passes on a rate limit with its retry time', async () => {
    const host = fakeHost(async () => {
      throw new RateLimitedError('x', 'work', {
        scope: 'tool',
        limit: 5,
        windowMs: 60_000,
        retryAfterMs: 1500,
      })
    })
    const run = await runToolCalls(host, [{ type: 'tool_use', id: 't1', name: 'work', input: {} }])
    expect(run.results[0]!.event).toMatchObject({
      outcome: 'rate_limited',
      code: 'ERR_RATE_LIMITED',
      retryAfterMs: 1500,
    })
    expect(run.messages[0]).toMatchObject({
      is_error: true,
      content: [
        {
          text: 'call to tool "work" on "x" refused: the tool rate limit of 5 per minute is reached; retry in 2 s',
        },
      ],
    })
  })

  it('tells the model only the code of an error it has no use for', async () => {
    const host = fakeHost(async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 (internal db)')
    })
    const run = await runToolCalls(host, [fnCall('c1', 'work', '{}')])
    expect(run.messages[0]!.content).toBe('Error: the tool call failed (ERR_UNKNOWN)')
    expect(run.results[0]!.error).toBeInstanceOf(Error)
  })

  it('answers every call when the batch is aborted while the host is still listing its tools', async () => {
    const host: ToolCallHost = { listTools: () => new Promise(() => {}), callTool: async () => ({}) }
    const controller = new AbortController()
    const pending = runToolCalls(host, [fnCall('c1', 'work', '{}')], { signal: controller.signal })
    controller.abort()
    const run = await pending
    expect(run.results[0]!.event).toMatchObject({ outcome: 'aborted', code: 'ERR_ABORTED' })
  })

  it('keeps a long tool name out of the audit event beyond 128 characters', async () => {
    const host = fakeHost(async () => ({}))
    const run = await runToolCalls(host, [fnCall('c1', 'x'.repeat(500), '{}')])
    expect(run.results[0]!.event.name).toBe('x'.repeat(128))
  })

  it('returns an empty run for no calls without listing tools', async () => {
    let listed = 0
    const host: ToolCallHost = {
      listTools: async () => {
        listed++
        return []
      },
      callTool: async () => ({}),
    }
    expect(await runToolCalls(host, [])).toEqual({ messages: [], results: [] })
    expect(listed).toBe(0)
  })

  it('rejects input that is not tool calls, and bad options, with a TypeError naming them', async () => {
    const host = fakeHost(async () => ({}))
    await expect(runToolCalls(host, [{ type: 'text', text: 'hi' } as never])).rejects.toThrow(/"calls\[0\]"/)
    await expect(runToolCalls(host, 'x' as never)).rejects.toThrow(/"calls"/)
    await expect(runToolCalls({} as never, [])).rejects.toThrow(/"host"/)
    const call = [fnCall('c', 'work', '{}')]
    await expect(runToolCalls(host, call, { concurrency: 0 })).rejects.toThrow(/"concurrency"/)
    await expect(runToolCalls(host, call, { concurrency: 1.5 })).rejects.toThrow(TypeError)
    await expect(runToolCalls(host, call, { timeoutMs: -1 })).rejects.toThrow(/"timeoutMs"/)
    await expect(runToolCalls(host, call, { now: 5 as never })).rejects.toThrow(/"now"/)
    await expect(runToolCalls(host, call, { signal: {} as never })).rejects.toThrow(/"signal"/)
    expect(host.started).toEqual([])
  })

  it('stamps events with the injected clock', async () => {
    let t = 1000
    const host = fakeHost(async () => {
      t += 25
      return { content: [] }
    })
    const run = await runToolCalls(host, [fnCall('c1', 'work', '{}')], { now: () => t })
    expect(run.results[0]!.event).toMatchObject({ at: 1025, durationMs: 25, user: false })
    expect(run.messages[0]).toEqual({ role: 'tool', tool_call_id: 'c1', content: '' })
  })
})

describe('result messages', () => {
  const rich = {
    content: [
      { type: 'text', text: 'Summary' },
      { type: 'text', text: '' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'image', data: 'PHN2Zy8+', mimeType: 'image/svg+xml' },
      { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
      { type: 'resource_link', uri: 'file:///report.pdf', name: 'report' },
      { type: 'resource', resource: { uri: 'file:///notes.txt', text: 'the notes' } },
      {
        type: 'resource',
        resource: { uri: 'file:///blob.bin', blob: 'AAAA', mimeType: 'application/octet-stream' },
      },
    ],
    structuredContent: { total: 42 },
  }
  const host = fakeHost(async () => rich)

  it('writes every content block for Chat Completions as text', async () => {
    const run = await runToolCalls(host, [fnCall('c1', 'work', '{}')])
    expect(run.messages[0]!.content).toBe(
      [
        'Summary',
        '',
        '[image: image/png]',
        '[image: image/svg+xml]',
        '[audio: audio/wav]',
        '[resource: file:///report.pdf]',
        'the notes',
        '[resource: file:///blob.bin (application/octet-stream)]',
        '{"total":42}',
      ].join('\n'),
    )
  })

  it('writes images for Responses as data URLs, and marks an error result in front', async () => {
    const failing = fakeHost(async () => ({ ...rich, isError: true }))
    const run = await runToolCalls(failing, [
      { type: 'function_call', call_id: 'c1', name: 'work', arguments: '{}' },
    ])
    const output = run.messages[0]!.output as { type: string; text?: string; image_url?: string }[]
    expect(output[0]).toEqual({ type: 'input_text', text: 'Error:' })
    expect(output[1]).toEqual({ type: 'input_text', text: 'Summary' })
    expect(output.filter((p) => p.type === 'input_image').map((p) => p.image_url)).toEqual([
      `data:image/png;base64,${PNG}`,
      'data:image/svg+xml;base64,PHN2Zy8+',
    ])
    expect(run.results[0]!.event).toMatchObject({ outcome: 'tool_error', isError: true })
  })

  it('writes Anthropic blocks: no empty text, images of the types the API takes, a note for others', async () => {
    const run = await runToolCalls(host, [{ type: 'tool_use', id: 't1', name: 'work', input: {} }])
    expect(run.messages[0]).toEqual({
      type: 'tool_result',
      tool_use_id: 't1',
      content: [
        { type: 'text', text: 'Summary' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
        { type: 'text', text: '[image: image/svg+xml]' },
        { type: 'text', text: '[audio: audio/wav]' },
        { type: 'text', text: '[resource: file:///report.pdf]' },
        { type: 'text', text: 'the notes' },
        { type: 'text', text: '[resource: file:///blob.bin (application/octet-stream)]' },
        { type: 'text', text: '{"total":42}' },
      ],
    })
  })

  it('leaves out the content of an empty Anthropic result and writes the structured content once', async () => {
    const empty = await runToolCalls(
      fakeHost(async () => ({ content: [] })),
      [{ type: 'tool_use', id: 't1', name: 'work', input: {} }],
    )
    expect(empty.messages[0]).toEqual({ type: 'tool_result', tool_use_id: 't1' })
    const mirrored = await runToolCalls(
      fakeHost(async () => ({
        content: [{ type: 'text', text: '{ "b": 1, "a": 2 }' }],
        structuredContent: { b: 1, a: 2 },
      })),
      [fnCall('c1', 'work', '{}')],
    )
    expect(mirrored.messages[0]!.content).toBe('{ "b": 1, "a": 2 }')
  })
})
