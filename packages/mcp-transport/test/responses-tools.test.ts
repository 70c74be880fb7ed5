import type OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { toOpenAIName, toOpenAITools } from '../src/openai-tools.js'
import { toResponsesTool, toResponsesTools } from '../src/responses-tools.js'

const inputSchema = {
  type: 'object' as const,
  properties: { customer_id: { type: 'string' } },
  required: ['customer_id'],
}

describe('toResponsesTool', () => {
  it('converts an MCP tool to a flat function tool with strict off', () => {
    expect(toResponsesTool({ name: 'get_customer_info', description: 'Look up', inputSchema })).toEqual({
      type: 'function',
      name: 'get_customer_info',
      description: 'Look up',
      parameters: inputSchema,
      strict: false,
    })
  })

  it('always sends strict, since the API turns it on when it is missing', () => {
    expect(toResponsesTool({ name: 'ping' })).toEqual({
      type: 'function',
      name: 'ping',
      parameters: { type: 'object', properties: {} },
      strict: false,
    })
    expect(toResponsesTool({ name: 'ping' }, { strict: true }).strict).toBe(true)
  })

  it('uses the qualified name, made valid the way toOpenAIName does', () => {
    expect(toResponsesTool({ name: 'x', qualifiedName: 'crm.v2/lookup' }).name).toBe(
      toOpenAIName('crm.v2/lookup'),
    )
  })

  it('rejects a strict option that is not a boolean and a name the API would refuse', () => {
    expect(() => toResponsesTool({ name: 't' }, { strict: 'yes' as unknown as boolean })).toThrow(/"strict"/)
    expect(() => toResponsesTool({ name: 't' }, { name: 'has space' })).toThrow(TypeError)
  })

  it('is a tool the official client accepts', () => {
    const tool: OpenAI.Responses.FunctionTool = toResponsesTool({ name: 't', inputSchema })
    expect(tool.type).toBe('function')
  })
})

describe('toResponsesTools', () => {
  it('names every tool as toOpenAITools does and maps each name back to its tool', () => {
    const tools = [
      { name: 'a.b' },
      { name: toOpenAIName('a.b') },
      { name: 'plain', qualifiedName: 'crm__plain' },
    ]
    const set = toResponsesTools(tools, { strict: true })
    const names = set.tools.map((t) => t.name)
    expect(names).toEqual(toOpenAITools(tools).tools.map((t) => t.function.name))
    expect(set.tools.every((t) => t.strict)).toBe(true)
    expect(set.byName.get(`${toOpenAIName('a.b')}_2`)).toBe(tools[1])
    expect(set.nameOf.get('crm__plain')).toBe('crm__plain')
  })
})
