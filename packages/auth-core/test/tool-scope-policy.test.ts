import { seedToolScopes } from '@mcp-oauth2/testkit'
import { describe, expect, it } from 'vitest'
import { createToolScopePolicy } from '../src/tool-scope-policy.js'

describe('createToolScopePolicy', () => {
  const policy = createToolScopePolicy(seedToolScopes)

  it('returns the scopes each known tool requires', () => {
    expect(policy.requiredScopesFor('get_customer_info')).toEqual(['customer:read'])
    expect(policy.requiredScopesFor('create_support_ticket')).toEqual(['ticket:create'])
    expect(policy.tools).toEqual(Object.keys(seedToolScopes))
  })

  it('denies unknown tools by default with null', () => {
    expect(policy.requiredScopesFor('drop_tables')).toBeNull()
    expect(policy.check('drop_tables', ['customer:read', 'ticket:create'])).toEqual({
      allowed: false,
      tool: 'drop_tables',
      reason: 'unknown_tool',
      requiredScopes: null,
      missingScopes: [],
    })
  })

  it('does not find Object.prototype members as tools', () => {
    expect(policy.requiredScopesFor('constructor')).toBeNull()
    expect(policy.requiredScopesFor('__proto__')).toBeNull()
    expect(policy.requiredScopesFor('toString')).toBeNull()
  })

  it('gives unknown tools defaultScopes with unknownTool allow', () => {
    const open = createToolScopePolicy(seedToolScopes, { unknownTool: 'allow', defaultScopes: ['mcp:read'] })
    expect(open.requiredScopesFor('anything')).toEqual(['mcp:read'])
    expect(open.check('anything', ['mcp:read']).allowed).toBe(true)
    expect(createToolScopePolicy({}, { unknownTool: 'allow' }).requiredScopesFor('anything')).toEqual([])
  })

  it('allows a tool when the token holds all its scopes and reports what is missing otherwise', () => {
    const multi = createToolScopePolicy({ transfer: ['account:read', 'account:write'] })
    expect(multi.check('transfer', ['account:read', 'account:write', 'x'])).toEqual({
      allowed: true,
      tool: 'transfer',
      requiredScopes: ['account:read', 'account:write'],
    })
    expect(multi.check('transfer', ['account:read'])).toMatchObject({
      allowed: false,
      reason: 'insufficient_scope',
      missingScopes: ['account:write'],
    })
  })

  it('allows a tool that requires no scopes', () => {
    expect(createToolScopePolicy({ ping: [] }).check('ping', []).allowed).toBe(true)
  })

  it('copies and freezes the map so later changes do not leak in', () => {
    const map: Record<string, string[]> = { a: ['s1'] }
    const p = createToolScopePolicy(map)
    map.a?.push('s2')
    map.b = ['s3']
    expect(p.requiredScopesFor('a')).toEqual(['s1'])
    expect(p.requiredScopesFor('b')).toBeNull()
    expect(Object.isFrozen(p.requiredScopesFor('a'))).toBe(true)
  })

  it.each([
    ['map["a"]', () => createToolScopePolicy({ a: 'customer:read' as never })],
    ['map["a"]', () => createToolScopePolicy({ a: ['two scopes'] })],
    ['map["a"]', () => createToolScopePolicy({ a: [''] })],
    ['map', () => createToolScopePolicy(null as never)],
    ['unknownTool', () => createToolScopePolicy({}, { unknownTool: 'maybe' as never })],
    ['defaultScopes', () => createToolScopePolicy({}, { defaultScopes: ['x'] })],
    ['defaultScopes', () => createToolScopePolicy({}, { unknownTool: 'allow', defaultScopes: 'x' as never })],
  ])('rejects a bad %s with a TypeError naming it', (name, make) => {
    expect(make).toThrow(TypeError)
    expect(make).toThrow(`"${name}"`)
  })
})
