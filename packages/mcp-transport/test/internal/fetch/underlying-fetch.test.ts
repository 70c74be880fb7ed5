import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FetchLike, serverOrigin } from '../../../src/internal/fetch/request.js'
import {
  UNDERLYING_FETCH,
  underlyingFetch,
  unwrapFetch,
} from '../../../src/internal/fetch/underlying-fetch.js'

const msw = setupServer(http.all('*', () => HttpResponse.json({})))
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterAll(() => msw.close())

/** A fetch (over msw) that records which of them served a URL. */
function recording(name: string, into: string[]): FetchLike {
  return (input, init) => {
    into.push(`${name} ${typeof input === 'string' ? input : input instanceof URL ? input.href : input.url}`)
    return globalThis.fetch(input, init)
  }
}

function marked(under: unknown): FetchLike & { [UNDERLYING_FETCH]: unknown } {
  return Object.assign((input: string | URL | Request, init?: RequestInit) => globalThis.fetch(input, init), {
    [UNDERLYING_FETCH]: under,
  })
}

describe('underlyingFetch', () => {
  it("uses the server's TLS fetch for its origin only", async () => {
    const used: string[] = []
    const fetch = underlyingFetch({
      server: serverOrigin(new URL('https://mcp.mock.test/mcp')),
      fetch: recording('plain', used),
      tls: recording('tls', used),
    })
    await fetch('https://mcp.mock.test/mcp')
    await fetch('https://auth.mock.test/token')
    await fetch(new Request('https://mcp.mock.test:444/mcp'))
    expect(used).toEqual([
      'tls https://mcp.mock.test/mcp',
      'plain https://auth.mock.test/token',
      'plain https://mcp.mock.test:444/mcp',
    ])
  })

  it('unwraps marked fetches down to one that is not, and gives up on a cycle', () => {
    const base = recording('base', [])
    expect(unwrapFetch(base)).toBe(base)
    expect(unwrapFetch(marked(marked(base)))).toBe(base)
    const a = marked(undefined)
    a[UNDERLYING_FETCH] = marked(a)
    expect(unwrapFetch(a)).toBeUndefined()
    expect(UNDERLYING_FETCH).toBe(Symbol.for('mcp-oauth2.underlyingFetch'))
  })
})
