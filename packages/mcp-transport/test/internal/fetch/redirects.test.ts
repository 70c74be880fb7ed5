import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { redirects } from '../../../src/internal/fetch/redirects.js'
import {
  type FetchLike,
  LEFT_SERVER,
  type PipelineInit,
  serverOrigin,
} from '../../../src/internal/fetch/request.js'

const msw = setupServer()
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => msw.resetHandlers())
afterAll(() => msw.close())

function hop(from: string, status: number, location: string) {
  msw.use(http.all(from, () => new HttpResponse(null, { status, headers: { location } })))
}

/** Redirects over a `next` that records each hop (URL, method, headers, marks). */
function following(maxRedirects = 20) {
  const hops: { url: string; method: string; headers: Headers; left: boolean }[] = []
  const next: FetchLike = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    hops.push({
      url,
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      left: (init as PipelineInit | undefined)?.[LEFT_SERVER] === true,
    })
    return globalThis.fetch(input, init)
  }
  const server = serverOrigin(new URL('https://mcp.mock.test/mcp'))
  return { fetch: redirects({ server, maxRedirects })(next), hops }
}

describe('redirects', () => {
  it('marks every hop after the chain left the server, even one back on its origin', async () => {
    hop('https://mcp.mock.test/a', 307, 'https://other.example.test/b')
    hop('https://other.example.test/b', 307, 'https://mcp.mock.test/c')
    msw.use(http.post('https://mcp.mock.test/c', () => HttpResponse.json({ landed: true })))
    const { fetch, hops } = following()
    const response = await fetch('https://mcp.mock.test/a', {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'Bearer caller', cookie: 'c=1', 'x-caller': 'kept' },
    })
    expect(await response.json()).toEqual({ landed: true })
    expect(hops.map((h) => [h.url, h.left])).toEqual([
      ['https://mcp.mock.test/a', false],
      ['https://other.example.test/b', true],
      ['https://mcp.mock.test/c', true],
    ])
    // The caller's own credentials do not cross origins (Fetch §4.4); its other headers do.
    expect(hops[1]!.headers.get('authorization')).toBeNull()
    expect(hops[1]!.headers.get('cookie')).toBeNull()
    expect(hops[2]!.headers.get('authorization')).toBeNull()
    expect(hops[1]!.headers.get('x-caller')).toBe('kept')
  })

  it('keeps a same-origin chain on the server, turns a 303 into a GET and stops at maxRedirects', async () => {
    hop('https://mcp.mock.test/one', 303, '/two')
    hop('https://mcp.mock.test/two', 308, '/three')
    msw.use(http.get('https://mcp.mock.test/three', () => HttpResponse.json({ ok: true })))
    const { fetch, hops } = following()
    await fetch('https://mcp.mock.test/one', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(hops.map((h) => [h.url, h.method, h.left])).toEqual([
      ['https://mcp.mock.test/one', 'POST', false],
      ['https://mcp.mock.test/two', 'GET', false],
      ['https://mcp.mock.test/three', 'GET', false],
    ])
    expect(hops[1]!.headers.get('content-type')).toBeNull()
    const limited = following(1)
    const stopped = await limited.fetch('https://mcp.mock.test/one', { method: 'POST', body: '{}' })
    expect(stopped.status).toBe(308)
    expect(limited.hops).toHaveLength(2)
  })

  it('marks the whole chain when it starts at the authorization server', async () => {
    hop('https://mcp.mock.test/.well-known/oauth-authorization-server', 302, '/mcp')
    msw.use(http.get('https://mcp.mock.test/mcp', () => HttpResponse.json({})))
    const { fetch, hops } = following()
    await fetch('https://mcp.mock.test/.well-known/oauth-authorization-server')
    expect(hops.map((h) => h.left)).toEqual([false, true])
  })

  it('follows exactly the redirects fetch follows: 301, 302, 303, 307, 308', async () => {
    msw.use(http.get('https://mcp.mock.test/landed', () => HttpResponse.json({ landed: true })))
    const followed: number[] = []
    for (let status = 300; status <= 309; status++) {
      hop(`https://mcp.mock.test/s${status}`, status, '/landed')
      const { fetch, hops } = following()
      await fetch(`https://mcp.mock.test/s${status}`)
      if (hops.length > 1) followed.push(status)
    }
    expect(followed).toEqual([301, 302, 303, 307, 308])
  })

  it("leaves the caller's manual and error modes alone", async () => {
    hop('https://mcp.mock.test/moved', 307, '/elsewhere')
    const { fetch, hops } = following()
    expect((await fetch('https://mcp.mock.test/moved', { redirect: 'manual' })).status).toBe(307)
    expect(hops).toHaveLength(1)
  })
})
