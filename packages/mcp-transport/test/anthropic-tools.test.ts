import type Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { toAnthropicTool, toAnthropicTools } from '../src/anthropic-tools.js'
import { OPENAI_NAME_PATTERN, toOpenAIName, toOpenAITools } from '../src/openai-tools.js'

const inputSchema = {
  type: 'object' as const,
  properties: { customer_id: { type: 'string' } },
  required: ['customer_id'],
}

describe('toAnthropicTool', () => {
  it('converts an MCP tool to name, description and input_schema', () => {
    expect(toAnthropicTool({ name: 'get_customer_info', description: 'Look up', inputSchema })).toEqual({
      name: 'get_customer_info',
      description: 'Look up',
      input_schema: inputSchema,
    })
  })

  it('gives a tool without a schema an empty object schema and omits an empty description', () => {
    const tool = toAnthropicTool({ name: 'ping', description: '' })
    expect(tool).toEqual({ name: 'ping', input_schema: { type: 'object', properties: {} } })
  })

  it('copies the schema, so changing the result leaves the tool untouched', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } }
    const tool = toAnthropicTool({ name: 't', inputSchema: schema })
    ;(tool.input_schema['properties'] as Record<string, unknown>)['b'] = {}
    expect(Object.keys(schema.properties)).toEqual(['a'])
  })

  it('uses the qualified name, made valid the way toOpenAIName does', () => {
    expect(toAnthropicTool({ name: 'lookup', qualifiedName: 'crm.v2/lookup' }).name).toBe(
      toOpenAIName('crm.v2/lookup'),
    )
  })

  it('rejects a name option the API would refuse', () => {
    expect(() => toAnthropicTool({ name: 't' }, { name: 'has space' })).toThrow(TypeError)
  })

  it('is a tool the official client accepts', () => {
    const tool: Anthropic.Messages.Tool = toAnthropicTool({ name: 't', inputSchema })
    expect(tool.input_schema.type).toBe('object')
  })
})

describe('toAnthropicTools', () => {
  it('names every tool as toOpenAITools does and maps each name back to its tool', () => {
    const tools = [
      { name: 'a.b', qualifiedName: 'a.b' },
      { name: 'a/b', qualifiedName: 'a/b' },
      { name: toOpenAIName('a.b') },
      { name: `s__${'x'.repeat(80)}` },
    ]
    const set = toAnthropicTools(tools)
    const names = set.tools.map((t) => t.name)
    expect(names).toEqual(toOpenAITools(tools).tools.map((t) => t.function.name))
    expect(new Set(names).size).toBe(tools.length)
    for (const [i, name] of names.entries()) {
      expect(name).toMatch(OPENAI_NAME_PATTERN)
      expect(set.byName.get(name)).toBe(tools[i])
      expect(set.nameOf.get(tools[i]!.qualifiedName ?? tools[i]!.name)).toBe(name)
    }
  })
})
