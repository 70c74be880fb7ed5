import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OPENAI_NAME_PATTERN, toOpenAIName, toOpenAITool, toOpenAITools } from '../src/openai-tools.js'

describe('toOpenAIName', () => {
  it('keeps a name that is already valid for OpenAI', () => {
    expect(toOpenAIName('get_customer_info')).toBe('get_customer_info')
    expect(toOpenAIName('crm__get-info')).toBe('crm__get-info')
    expect(toOpenAIName('x'.repeat(64))).toBe('x'.repeat(64))
  })

  it('replaces invalid characters and appends a stable hash of the original name', () => {
    const name = toOpenAIName('crm.v2/lookup customer')
    expect(name).toMatch(/^crm_v2_lookup_customer_[0-9a-f]{8}$/)
    expect(toOpenAIName('crm.v2/lookup customer')).toBe(name)
  })

  it('gives names that sanitise alike different results', () => {
    expect(toOpenAIName('a.b')).not.toBe(toOpenAIName('a/b'))
    expect(toOpenAIName('a.b')).not.toBe('a_b')
  })

  it('cuts a long name to 64 characters with a hash suffix', () => {
    const long = `server__${'t'.repeat(100)}`
    const name = toOpenAIName(long)
    expect(name).toHaveLength(64)
    expect(name).toMatch(OPENAI_NAME_PATTERN)
    expect(toOpenAIName(`${long}x`)).not.toBe(name)
  })

  it('always returns a valid name, for any non-empty input', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }), (input) =>
        OPENAI_NAME_PATTERN.test(toOpenAIName(input)),
      ),
      { numRuns: 300 },
    )
  })

  it('rejects an empty name with a TypeError', () => {
    expect(() => toOpenAIName('')).toThrow(TypeError)
  })
})

describe('toOpenAITool', () => {
  it('converts an MCP tool to the function-calling format', () => {
    const inputSchema = {
      type: 'object' as const,
      properties: { customer_id: { type: 'string' } },
      required: ['customer_id'],
    }
    expect(toOpenAITool({ name: 'get_customer_info', description: 'Look up', inputSchema })).toEqual({
      type: 'function',
      function: { name: 'get_customer_info', description: 'Look up', parameters: inputSchema },
    })
  })

  it('uses the qualified name of a managed tool', () => {
    const tool = toOpenAITool({ name: 'search', qualifiedName: 'docs__search' })
    expect(tool.function.name).toBe('docs__search')
  })

  it('defaults parameters to an empty object schema and adds missing properties', () => {
    expect(toOpenAITool({ name: 'ping' }).function.parameters).toEqual({ type: 'object', properties: {} })
    expect(toOpenAITool({ name: 'ping', inputSchema: { type: 'object' } }).function.parameters).toEqual({
      type: 'object',
      properties: {},
    })
  })

  it('copies the schema, so changing the result leaves the tool untouched', () => {
    const inputSchema = { type: 'object', properties: { a: { type: 'string' } } }
    const tool = toOpenAITool({ name: 't', inputSchema })
    ;(tool.function.parameters['properties'] as Record<string, unknown>)['b'] = {}
    expect(Object.keys(inputSchema.properties)).toEqual(['a'])
  })

  it('omits an empty description and sets strict only when asked', () => {
    const tool = toOpenAITool({ name: 't', description: '' }, { strict: true })
    expect(tool.function).not.toHaveProperty('description')
    expect(tool.function.strict).toBe(true)
    expect(toOpenAITool({ name: 't' }).function).not.toHaveProperty('strict')
  })

  it('rejects a name option OpenAI would refuse', () => {
    expect(() => toOpenAITool({ name: 't' }, { name: 'has space' })).toThrow(TypeError)
  })
})

describe('toOpenAITools', () => {
  it('gives every tool a unique valid name and maps each back to its tool', () => {
    const tools = [
      { name: 'a.b', qualifiedName: 'a.b' },
      { name: 'a/b', qualifiedName: 'a/b' },
      { name: 'plain' },
      { name: `a__${'x'.repeat(80)}` },
    ]
    const set = toOpenAITools(tools)
    const names = set.tools.map((t) => t.function.name)
    expect(new Set(names).size).toBe(tools.length)
    for (const [i, name] of names.entries()) {
      expect(name).toMatch(OPENAI_NAME_PATTERN)
      expect(set.byOpenAIName.get(name)).toBe(tools[i])
      expect(set.openAINameOf.get(tools[i]!.qualifiedName ?? tools[i]!.name)).toBe(name)
    }
  })

  it('de-duplicates a tool named like another tool sanitised form', () => {
    const clash = toOpenAIName('a.b')
    const set = toOpenAITools([{ name: 'a.b' }, { name: clash }])
    const names = set.tools.map((t) => t.function.name)
    expect(names[0]).toBe(clash)
    expect(names[1]).toBe(`${clash}_2`)
    expect(set.byOpenAIName.get(`${clash}_2`)?.name).toBe(clash)
  })
})
