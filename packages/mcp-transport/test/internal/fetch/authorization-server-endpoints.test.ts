import { describe, expect, it } from 'vitest'
import {
  AuthorizationServerEndpoints,
  checkAuthorizationServerUrls,
  isMetadataRequest,
} from '../../../src/internal/fetch/authorization-server-endpoints.js'

const SERVER = new URL('https://mcp.mock.test/mcp?tenant=1')

describe('isMetadataRequest', () => {
  it('knows the RFC 8414, OpenID Connect and RFC 9728 documents, with or without a path after them', () => {
    for (const url of [
      'https://mcp.mock.test/.well-known/oauth-authorization-server',
      'https://mcp.mock.test/.well-known/oauth-authorization-server/tenant/a',
      'https://mcp.mock.test/.well-known/openid-configuration',
      'https://mcp.mock.test/tenant/a/.well-known/openid-configuration',
      'https://mcp.mock.test/.well-known/oauth-protected-resource/mcp?x=1',
    ])
      expect(isMetadataRequest(url), url).toBe(true)
  })

  it('leaves other well-known paths, look-alikes and queries alone', () => {
    for (const url of [
      'https://mcp.mock.test/.well-known/jwks.json',
      'https://mcp.mock.test/.well-known/oauth-authorization-server-extra',
      'https://mcp.mock.test/mcp?next=/.well-known/openid-configuration',
      'https://mcp.mock.test/mcp#/.well-known/openid-configuration',
      'https://mcp.mock.test/mcp',
    ])
      expect(isMetadataRequest(url), url).toBe(false)
  })
})

describe('AuthorizationServerEndpoints', () => {
  it('matches origin and path, whatever the query, fragment or spelling of the URL', () => {
    const endpoints = new AuthorizationServerEndpoints(SERVER, [
      'https://mcp.mock.test/jwks?v=1',
      'https://MCP.mock.test:443/oauth/register',
    ])
    expect(endpoints.size).toBe(2)
    expect(endpoints.has('https://mcp.mock.test/jwks')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/jwks?v=2#k')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/jwks#k')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/oauth/register')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/oauth/x/../register')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/oauth/%2e/register')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/oauth\\register')).toBe(true)
    // The URL parser drops tab, LF and CR: fetch sends these to /jwks.
    expect(endpoints.has('https://mcp.mock.test/jw\tks')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/jw\nks?x=1')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/jwks\r')).toBe(true)
    expect(endpoints.has('https://mcp.mock.test/jwks/')).toBe(false)
    expect(endpoints.has('https://mcp.mock.test/JWKS')).toBe(false)
    expect(endpoints.has(SERVER.href)).toBe(false)
  })

  it('keeps neither other origins nor the MCP server URL', () => {
    const endpoints = new AuthorizationServerEndpoints(SERVER, [
      'https://auth.mock.test/jwks',
      'http://mcp.mock.test/jwks',
      'https://mcp.mock.test/mcp?other=1',
      'https://mcp.mock.test.evil.test/jwks',
    ])
    expect(endpoints.size).toBe(0)
    expect(endpoints.has('https://mcp.mock.test/mcp?other=1')).toBe(false)
    expect(endpoints.pendingFor('https://mcp.mock.test/jwks')).toBeUndefined()
  })

  it('makes only requests to other URLs of the origin wait while a document is being read', async () => {
    const endpoints = new AuthorizationServerEndpoints(SERVER)
    let close = () => {}
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"jwks_uri":"https://mcp.mock.test/jwks"'))
        close = () => {
          controller.enqueue(new TextEncoder().encode('}'))
          controller.close()
        }
      },
    })
    endpoints.learnFrom(new Response(body, { headers: { 'content-type': 'application/json' } }))
    expect(endpoints.pendingFor('https://mcp.mock.test/jwks')).toBeInstanceOf(Promise)
    expect(endpoints.pendingFor(SERVER.href)).toBeUndefined()
    expect(endpoints.pendingFor('https://auth.mock.test/jwks')).toBeUndefined()
    close()
    await endpoints.pendingFor('https://mcp.mock.test/jwks')
    await new Promise((resolve) => setImmediate(resolve))
    expect(endpoints.has('https://mcp.mock.test/jwks')).toBe(true)
    expect(endpoints.pendingFor('https://mcp.mock.test/jwks')).toBeUndefined()
  })
})

describe('checkAuthorizationServerUrls', () => {
  it('returns a copy of the list, and nothing for none', () => {
    const given = ['https://mcp.mock.test/jwks']
    const checked = checkAuthorizationServerUrls(given, SERVER)
    expect(checked).toEqual(given)
    expect(checked).not.toBe(given)
    expect(checkAuthorizationServerUrls(undefined, SERVER)).toEqual([])
  })

  it('names the entry that is not an absolute http(s) URL, or is the MCP server', () => {
    expect(() => checkAuthorizationServerUrls(['https://mcp.mock.test/x', 42], SERVER)).toThrow(
      '"authorizationServerUrls[1]" must be an absolute http(s) URL',
    )
    expect(() => checkAuthorizationServerUrls(['https://mcp.mock.test/mcp'], SERVER)).toThrow(
      `"authorizationServerUrls[0]" must not be the MCP server's own URL`,
    )
    expect(() => checkAuthorizationServerUrls('https://mcp.mock.test/x', SERVER)).toThrow(TypeError)
  })
})
