/**
 * The multi-round-trip fixtures of the conformance suite's `input-required-result-*` scenarios
 * (SEP-2322): tools and a prompt that answer with `input_required` until the client has supplied
 * what they asked for, with HMAC-protected `requestState`. Never re-exported.
 */
import { randomBytes } from 'node:crypto'
import {
  acceptedContent,
  type CallToolResult,
  type ClientCapabilities,
  createRequestStateCodec,
  type GetPromptResult,
  type InputRequest,
  type InputRequiredResult,
  inputRequired,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server'
import type { ServedTool } from './sdk-server.js'

type Answer = CallToolResult | InputRequiredResult

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] }
}

function ask(message: string, field: string, type: 'string' | 'boolean' = 'string'): InputRequest {
  return inputRequired.elicit({
    message,
    requestedSchema: {
      type: 'object',
      properties: { [field]: type === 'string' ? { type: 'string' } : { type: 'boolean' } },
      required: [field],
    },
  })
}

const NAME = () => ask('What is your name?', 'name')
const CAPITAL = () =>
  inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
    maxTokens: 100,
  })
const GREETING = () =>
  inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
    maxTokens: 50,
  })

function responses(ctx: ServerContext): Record<string, unknown> {
  return (ctx.mcpReq.inputResponses ?? {}) as Record<string, unknown>
}

/** The text of a sampling response, if `value` is one. */
function sampledText(value: unknown): string | undefined {
  const content = (value as { content?: unknown } | undefined)?.content
  const first = Array.isArray(content) ? content[0] : content
  return first && typeof first === 'object' && (first as { type?: unknown }).type === 'text'
    ? String((first as { text?: unknown }).text)
    : undefined
}

function roots(value: unknown): { uri: string }[] | undefined {
  const list = (value as { roots?: unknown } | undefined)?.roots
  return Array.isArray(list) ? (list as { uri: string }[]) : undefined
}

function capabilitiesOf(ctx: ServerContext): ClientCapabilities {
  const declared = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
    'io.modelcontextprotocol/clientCapabilities'
  ]
  return declared && typeof declared === 'object' ? (declared as ClientCapabilities) : {}
}

/** The fixtures, sharing one per-server HMAC key for `requestState`. */
export function createMrtrFixtures() {
  const codec: RequestStateCodec<{ round: number }> = createRequestStateCodec({ key: randomBytes(32) })
  const state = (round: number) => codec.mint({ round })
  const round = (ctx: ServerContext) => ctx.mcpReq.requestState<{ round: number }>()?.round

  const tool = (name: string, run: (ctx: ServerContext) => Promise<Answer>): ServedTool => ({
    name,
    description: `Multi-round-trip fixture ${name}`,
    inputSchema: { type: 'object', properties: {} },
    run: (_args, call) => run(call.ctx),
  })

  const tools: ServedTool[] = [
    tool('test_input_required_result_elicitation', async (ctx) => {
      const answer = acceptedContent(responses(ctx), 'user_name')
      // Missing, declined or malformed answers are asked for again (never a JSON-RPC error).
      if (typeof answer?.['name'] !== 'string') return inputRequired({ inputRequests: { user_name: NAME() } })
      return text(`Hello, ${answer['name']}!`)
    }),
    tool('test_input_required_result_sampling', async (ctx) => {
      const reply = sampledText(responses(ctx)['capital_question'])
      if (reply === undefined) return inputRequired({ inputRequests: { capital_question: CAPITAL() } })
      return text(`Sampled answer: ${reply}`)
    }),
    tool('test_input_required_result_list_roots', async (ctx) => {
      const list = roots(responses(ctx)['client_roots'])
      if (!list) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } })
      return text(`Client roots: ${list.map((r) => r.uri).join(', ') || '(none)'}`)
    }),
    tool('test_input_required_result_request_state', async (ctx) => {
      const confirmed = acceptedContent(responses(ctx), 'confirm')
      if (round(ctx) === 1 && confirmed) return text(`state-ok: confirmed=${String(confirmed['ok'])}`)
      return inputRequired({
        inputRequests: { confirm: ask('Please confirm', 'ok', 'boolean') },
        requestState: await state(1),
      })
    }),
    tool('test_input_required_result_multiple_inputs', async (ctx) => {
      const got = responses(ctx)
      const name = acceptedContent(got, 'user_name')?.['name']
      const greeting = sampledText(got['greeting'])
      const list = roots(got['client_roots'])
      if (round(ctx) === 1 && typeof name === 'string' && greeting !== undefined && list) {
        return text(`All inputs received: name=${name}, greeting=${greeting}, roots=${list.length}`)
      }
      const missing: Record<string, InputRequest> = {}
      if (typeof name !== 'string') missing['user_name'] = NAME()
      if (greeting === undefined) missing['greeting'] = GREETING()
      if (!list) missing['client_roots'] = inputRequired.listRoots()
      return inputRequired({
        inputRequests: Object.keys(missing).length > 0 ? missing : { user_name: NAME() },
        requestState: await state(1),
      })
    }),
    tool('test_input_required_result_multi_round', async (ctx) => {
      const at = round(ctx)
      const name = acceptedContent(responses(ctx), 'step1')?.['name']
      const color = acceptedContent(responses(ctx), 'step2')?.['color']
      if (at === 2 && typeof color === 'string') return text(`Done: favourite color ${color}`)
      if (at === 1 && typeof name === 'string') {
        return inputRequired({
          inputRequests: { step2: ask('Step 2: What is your favorite color?', 'color') },
          requestState: await state(2),
        })
      }
      return inputRequired({
        inputRequests: { step1: ask('Step 1: What is your name?', 'name') },
        requestState: await state(1),
      })
    }),
    tool('test_input_required_result_tampered_state', async (ctx) => {
      // A tampered requestState never reaches here: the server's verify hook answers -32602.
      if (round(ctx) === 1) return text('state verified')
      return inputRequired({
        inputRequests: { confirm: ask('Please confirm', 'ok', 'boolean') },
        requestState: await state(1),
      })
    }),
    tool('test_input_required_result_capabilities', async (ctx) => {
      const declared = capabilitiesOf(ctx)
      const got = responses(ctx)
      if (Object.keys(got).length > 0) return text('Inputs received')
      const requests: Record<string, InputRequest> = {}
      if (declared.elicitation) requests['user_name'] = NAME()
      if (declared.sampling) requests['capital_question'] = CAPITAL()
      if (declared.roots) requests['client_roots'] = inputRequired.listRoots()
      if (Object.keys(requests).length === 0) return text('The client declared no input capability')
      return inputRequired({ inputRequests: requests })
    }),
  ]

  /** `prompts/get` of `test_input_required_result_prompt`. */
  function prompt(ctx: ServerContext): GetPromptResult | InputRequiredResult {
    const context = acceptedContent(responses(ctx), 'user_context')?.['context']
    if (typeof context !== 'string') {
      return inputRequired({
        inputRequests: { user_context: ask('What context should the prompt use?', 'context') },
      })
    }
    return {
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${context}` } }],
    }
  }

  return {
    tools,
    prompt,
    verifyRequestState: (value: string, ctx: ServerContext) => codec.verify(value, ctx),
  }
}
