import { createCookieFilter, createHeaderFilter } from '@mcp-oauth2/auth-core'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServerFetch, type ServerInit, USER_AUTHORIZATION } from '../../../src/internal/fetch/request.js'
import { RequestHeaders } from '../../../src/internal/fetch/request-headers.js'
import { userPassthrough } from '../../../src/internal/fetch/user-passthrough.js'
import { runAsService } from '../../../src/internal/user-context-store.js'
import { withUserContext } from '../../../src/user-context.js'

const msw = setupServer(http.all('https://mcp.mock.test/*', () => HttpResponse.json({})))
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterAll(() => msw.close())

function passthrough() {
  const sent: ServerInit[] = []
  const next: ServerFetch = (url, init) => {
    sent.push({ ...init, headers: RequestHeaders.from(init.headers) })
    return globalThis.fetch(url, { ...init, headers: init.headers.toRecord() })
  }
  const fetch = userPassthrough({
    cookieFilter: createCookieFilter({ allow: ['session_id'] }),
    headerFilter: createHeaderFilter({
      allow: ['x-user-*'],
      rename: { 'x-upstream-authorization': 'authorization' },
    }),
  })(next)
  const call = (headers: Record<string, string> = {}) =>
    fetch('https://mcp.mock.test/mcp', { method: 'POST', headers: RequestHeaders.from(headers), body: '{}' })
  return { call, sent }
}

describe('userPassthrough', () => {
  it("adds the user's allowed cookies and headers; the transport's own headers win", async () => {
    const { call, sent } = passthrough()
    await withUserContext(
      { cookie: 'session_id=s1; other=x', headers: { 'x-user-id': 'u1', 'x-user-role': 'admin' } },
      () => call({ 'x-user-role': 'transport' }),
    )
    expect(sent[0]!.headers.get('cookie')).toBe('session_id=s1')
    expect(sent[0]!.headers.get('x-user-id')).toBe('u1')
    expect(sent[0]!.headers.get('x-user-role')).toBe('transport')
    expect(sent[0]![USER_AUTHORIZATION]).toBeUndefined()
  })

  it('adds nothing outside a user context, nor in service work', async () => {
    const { call, sent } = passthrough()
    await call()
    await withUserContext({ cookie: 'session_id=s1', headers: { 'x-user-id': 'u1' } }, () =>
      runAsService(() => call()),
    )
    for (const init of sent) {
      expect(init.headers.get('cookie')).toBeNull()
      expect(init.headers.get('x-user-id')).toBeNull()
    }
  })

  it("marks a request that carries the user's own authorization (explicit rename only)", async () => {
    const { call, sent } = passthrough()
    await withUserContext({ headers: { 'x-upstream-authorization': 'Bearer user' } }, () => call())
    expect(sent[0]!.headers.get('authorization')).toBe('Bearer user')
    expect(sent[0]![USER_AUTHORIZATION]).toBe(true)
    // The transport's own authorization wins, and then the request is not the user's.
    await withUserContext({ headers: { 'x-upstream-authorization': 'Bearer user' } }, () =>
      call({ authorization: 'Bearer transport' }),
    )
    expect(sent[1]!.headers.get('authorization')).toBe('Bearer transport')
    expect(sent[1]![USER_AUTHORIZATION]).toBeUndefined()
  })
})
