// One model turn, end to end, with no API key: the official `openai` client talks to a scripted
// Chat Completions endpoint on a loopback port, which asks for tools; manager.runToolCalls runs them
// through the manager as the user; the client sends the tool messages back; the model answers.
//
//   const turn = await runScriptedModelTurn(manager, { cookie: 'session_id=…' })
//   for (const line of turn.lines) console.log(line)   // turn.ok: the round trip held
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type McpServerManager, withUserContext } from '@mcp-oauth2/mcp-transport'
import OpenAI from 'openai'

/** What one scripted turn did, as lines to print, and whether it round-tripped. */
export interface ScriptedModelTurn {
  /**
   * True when the model's tool calls all came back to it as tool messages naming their
   * `tool_call_id`s, at least one tool answered, and the model gave a final answer.
   */
  readonly ok: boolean
  readonly lines: readonly string[]
}

interface ChatBody {
  tools?: { function: { name: string } }[]
  messages: { role: string; content?: string | null; tool_call_id?: string; tool_calls?: ToolCallBody[] }[]
}
interface ToolCallBody {
  id: string
  function: { name: string; arguments: string }
}

const MAX_SHOWN = 110

function clip(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text
}

function completion(message: Record<string, unknown>, finishReason: string) {
  return {
    id: 'chatcmpl-scripted',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'scripted-model',
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

/**
 * The scripted model: asked a question, it calls `get_customer_info` (and
 * `calculate_account_value`) when offered, else the first tool it is offered; given tool results,
 * it answers with what each returned.
 */
function reply(body: ChatBody): ReturnType<typeof completion> {
  const last = body.messages.at(-1)
  if (last?.role === 'tool') {
    const asked = body.messages.flatMap((m) => m.tool_calls ?? [])
    const parts = body.messages
      .filter((m) => m.role === 'tool')
      .map((m) => {
        const name = asked.find((c) => c.id === m.tool_call_id)?.function.name ?? 'a tool'
        const content = String(m.content ?? '')
        return content.startsWith('Error:') ? `${name} failed` : `${name} answered`
      })
    return completion({ content: `Done: ${parts.join(', ')}.` }, 'stop')
  }
  const offered = (body.tools ?? []).map((t) => t.function.name)
  const calls: ToolCallBody[] = []
  const call = (name: string, args: Record<string, unknown>) =>
    calls.push({ id: `call_${calls.length + 1}`, function: { name, arguments: JSON.stringify(args) } })
  if (offered.includes('get_customer_info')) call('get_customer_info', { customer_id: 'cust-001' })
  if (offered.includes('calculate_account_value'))
    call('calculate_account_value', { customer_id: 'cust-001' })
  if (calls.length === 0 && offered[0]) call(offered[0], {})
  if (calls.length === 0) return completion({ content: 'I was offered no tools.' }, 'stop')
  return completion({ tool_calls: calls.map((c) => ({ type: 'function', ...c })) }, 'tool_calls')
}

/** A loopback HTTP server playing the Chat Completions API; records the bodies it receives. */
async function startScriptedModel(): Promise<{
  baseURL: string
  bodies: ChatBody[]
  close(): Promise<void>
}> {
  const bodies: ChatBody[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let status = 200
      let answer: unknown
      try {
        if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) throw new Error('not found')
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody
        bodies.push(body)
        answer = reply(body)
      } catch (err) {
        status = 404
        answer = { error: { message: (err as Error).message } }
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * Runs one scripted model turn against `manager` (connected) on behalf of the user whose
 * `Cookie` header is `cookie`, and returns what to print.
 */
export async function runScriptedModelTurn(
  manager: McpServerManager,
  { cookie }: { cookie: string },
): Promise<ScriptedModelTurn> {
  const lines: string[] = []
  const model = await startScriptedModel()
  try {
    const client = new OpenAI({ baseURL: model.baseURL, apiKey: 'no-key-needed', maxRetries: 0 })
    const tools = await manager.openAITools()
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What do we know about customer cust-001, and what is the account worth?' },
    ]
    lines.push(
      `scripted model at ${model.baseURL} (the openai client, no API key), offered ${tools.length} tools`,
    )
    const first = await client.chat.completions.create({ model: 'scripted-model', messages, tools })
    const assistant = first.choices[0]?.message
    const calls = assistant?.tool_calls ?? []
    if (!assistant || calls.length === 0) {
      lines.push(`the model asked for no tool: ${assistant?.content ?? '(no answer)'}`)
      return { ok: false, lines }
    }
    const asked = calls.map((c) =>
      c.type === 'function' ? `${c.function.name}(${c.function.arguments})` : c.id,
    )
    lines.push(`the model asked for: ${asked.join(', ')}`)

    const run = await withUserContext({ cookie }, () => manager.runToolCalls(calls))
    for (const { event, message, result } of run.results) {
      const status = event.code ? `${event.outcome} (${event.code})` : event.outcome
      lines.push(`${event.callId} ${event.name} → ${status}: ${clip(message.content)}`)
      // The seed tools echo the user they were called for (from the forwarded cookies).
      const seen = (result?.structuredContent as { seen_user?: unknown } | undefined)?.seen_user
      if (seen !== undefined) lines.push(`  the tool ran for the user: ${JSON.stringify(seen)}`)
    }
    messages.push(assistant, ...run.messages)
    const second = await client.chat.completions.create({ model: 'scripted-model', messages, tools })
    const answer = second.choices[0]?.message.content ?? ''

    const sentBack = (model.bodies[1]?.messages ?? []).filter((m) => m.role === 'tool')
    const ids = sentBack.map((m) => m.tool_call_id)
    lines.push(`the client sent back ${sentBack.length} tool message(s) for ${ids.join(', ')}`)
    lines.push(`the model answered: ${answer}`)
    const everyCallAnswered = calls.every((c) => ids.includes(c.id)) && ids.length === calls.length
    const someRan = run.results.some((r) => r.event.outcome === 'ok')
    return { ok: everyCallAnswered && someRan && answer !== '', lines }
  } catch (err) {
    const e = err as { code?: string; message?: string }
    lines.push(`the model turn failed: ${e.code ?? 'error'}: ${e.message ?? String(err)}`)
    return { ok: false, lines }
  } finally {
    await model.close()
  }
}
