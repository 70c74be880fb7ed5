import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { originScope } from '../../../src/internal/fetch/origin-scope.js'
import {
  type FetchLike,
  LEFT_SERVER,
  type ServerFetch,
  serverOrigin,
} from '../../../src/internal/fetch/request.js'

const msw = setupServer(http.all('*', () => HttpResponse.json({ ok: true })))
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterAll(() => msw.close())

/** The origin scope over two recording branches, both ending at the (msw) network. */
function scoped() {
  const server: { url: string; cookie: string | null }[] = []
  const other: { url: string; cookie: string | null }[] = []
  const toServer: ServerFetch = (url, init) => {
    server.push({ url, cookie: init.headers.get('cookie') })
    return globalThis.fetch(url, { ...init, headers: init.headers.toRecord() })
  }
  const next: FetchLike = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    other.push({
      url,
      cookie: new Headers(init?.headers ?? (input instanceof Request ? input.headers : {})).get('cookie'),
    })
    return globalThis.fetch(input, init)
  }
  const fetch = originScope({ server: serverOrigin(new URL('https://mcp.mock.test/mcp')), toServer })(next)
  return { fetch, server, other }
}

const json = { 'content-type': 'application/json', cookie: 'shared=1' }

describe('originScope', () => {
  it("routes the MCP server's own requests to the server branch", async () => {
    const { fetch, server, other } = scoped()
    await fetch('https://mcp.mock.test/mcp', { method: 'POST', headers: json, body: '{"jsonrpc":"2.0"}' })
    await fetch(new URL('https://mcp.mock.test/mcp'), { method: 'GET' })
    await fetch(new Request('https://MCP.mock.test:443/mcp', { method: 'DELETE' }))
    expect(server.map((r) => r.url)).toEqual([
      'https://mcp.mock.test/mcp',
      'https://mcp.mock.test/mcp',
      'https://mcp.mock.test/mcp',
    ])
    expect(server[0]!.cookie).toBe('shared=1') // the caller's own headers are the server branch's to judge
    expect(other).toEqual([])
  })

  it('sends other origins, authorization-server requests and hops that left the server around it, without a cookie', async () => {
    const { fetch, server, other } = scoped()
    await fetch('https://mcp.mock.test.evil.example/mcp', { headers: json })
    await fetch('http://mcp.mock.test/mcp', { headers: json }) // another scheme is another origin
    await fetch('https://mcp.mock.test:8443/mcp', { headers: json })
    await fetch('https://mcp.mock.test/.well-known/oauth-authorization-server', { headers: json })
    await fetch('https://mcp.mock.test/.well-known/oauth-protected-resource/mcp', { headers: json })
    await fetch('https://mcp.mock.test/token', {
      method: 'POST',
      headers: { ...json, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    })
    await fetch('https://mcp.mock.test/token', {
      method: 'POST',
      headers: json,
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    await fetch('https://mcp.mock.test/mcp', { headers: json, [LEFT_SERVER]: true } as RequestInit)
    expect(server).toEqual([])
    expect(other).toHaveLength(8)
    for (const request of other) expect(request.cookie).toBeNull()
  })

  it('does not take a query string for a metadata path', async () => {
    const { fetch, server } = scoped()
    await fetch('https://mcp.mock.test/mcp?next=/.well-known/x', {
      method: 'POST',
      headers: json,
      body: '{}',
    })
    expect(server).toHaveLength(1)
  })
})
