import { inspect } from 'node:util'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuthFetch } from '../src/auth-fetch.js'
import { getUserContext, withUserContext } from '../src/user-context.js'

const URL_ = 'https://mcp.mock.test/mcp'
const seen: Headers[] = []
const msw = setupServer(
  http.post(URL_, ({ request }) => {
    seen.push(request.headers)
    return HttpResponse.json({})
  }),
)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterAll(() => msw.close())

const fetch = createAuthFetch({
  serverUrl: URL_,
  cookies: { allow: ['session_id'] },
  headers: { allow: ['x-user-id', 'x-user-groups'] },
})

/** Runs a call in `context` that sends only after `mutate` changed the caller's objects. */
async function sendAfter(
  context: Parameters<typeof withUserContext>[0],
  mutate: () => void,
): Promise<Headers> {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const call = withUserContext(context, async () => {
    await gate
    return fetch(URL_, { method: 'POST', body: '{}' })
  })
  mutate()
  release()
  await call
  return seen.at(-1) as Headers
}

describe('withUserContext', () => {
  it("snapshots what it is given: changing the caller's objects during a call changes nothing it sends", async () => {
    const record: Record<string, string | string[]> = { 'x-user-id': 'alice', 'x-user-groups': ['a', 'b'] }
    const context = { cookie: 'session_id=alice', headers: record }
    const fromRecord = await sendAfter(context, () => {
      record['x-user-id'] = 'mallory'
      ;(record['x-user-groups'] as string[]).push('admin')
      context.cookie = 'session_id=mallory'
    })
    expect(fromRecord.get('x-user-id')).toBe('alice')
    expect(fromRecord.get('x-user-groups')).toBe('a, b')
    expect(fromRecord.get('cookie')).toBe('session_id=alice')

    const headers = new Headers({ 'x-user-id': 'alice' })
    const fromHeaders = await sendAfter({ headers }, () => headers.set('x-user-id', 'mallory'))
    expect(fromHeaders.get('x-user-id')).toBe('alice')

    const pairs: [string, string][] = [['x-user-id', 'alice']]
    const fromPairs = await sendAfter({ headers: pairs }, () => {
      pairs[0]![1] = 'mallory'
      pairs.push(['x-user-groups', 'admin'])
    })
    expect(fromPairs.get('x-user-id')).toBe('alice')
    expect(fromPairs.get('x-user-groups')).toBeNull()
  })

  it('hands out a frozen copy', () => {
    const headers = { 'x-user-id': 'alice' }
    withUserContext({ cookie: 'a=1', headers }, () => {
      const context = getUserContext()
      expect(context?.headers).not.toBe(headers)
      expect(context?.headers).toEqual(headers)
      expect(Object.isFrozen(context)).toBe(true)
      expect(Object.isFrozen(context?.headers)).toBe(true)
    })
  })

  it('rejects what is not a context', () => {
    expect(() => withUserContext(null as never, () => 0)).toThrow(TypeError)
    expect(() => withUserContext({ cookie: 42 as never }, () => 0)).toThrow(/"cookie"/)
    expect(() => withUserContext({ userId: '' }, () => 0)).toThrow(/"userId"/)
    expect(() => withUserContext({ userId: 'u'.repeat(257) }, () => 0)).toThrow(/"userId"/)
    expect(() => withUserContext({ subjectToken: '' }, () => 0)).toThrow(/"subjectToken"/)
    expect(() => withUserContext({ subjectToken: 42 as never }, () => 0)).toThrow(/"subjectToken"/)
    expect(() => withUserContext({ idToken: 'x'.repeat(16_385) }, () => 0)).toThrow(/"idToken"/)
  })

  it('keeps userId, subjectToken and idToken, and never prints a token, cookie or header value', () => {
    const subjectToken = 'eyJ.subject-token-secret.sig'
    const idToken = 'eyJ.id-token-secret.sig'
    withUserContext(
      {
        userId: 'alice',
        subjectToken,
        idToken,
        cookie: 'session_id=cookie-secret',
        headers: { 'x-user-id': 'hdr-secret' },
      },
      () => {
        const context = getUserContext()!
        expect(context.userId).toBe('alice')
        expect(context.subjectToken).toBe(subjectToken)
        expect(context.idToken).toBe(idToken)
        const printed = [
          inspect(context),
          inspect(context, { showHidden: true, depth: 10 }),
          inspect({ nested: context }),
          JSON.stringify(context),
          String(Object.keys(context)),
        ]
        for (const text of printed) {
          for (const secret of ['subject-token-secret', 'id-token-secret', 'cookie-secret', 'hdr-secret'])
            expect(text).not.toContain(secret)
        }
        expect(inspect(context)).toBe(
          'UserContext { userId: "alice", cookie: "[redacted]", headers: ["x-user-id"], subjectToken: "[redacted]", idToken: "[redacted]" }',
        )
        expect(JSON.parse(JSON.stringify(context))).toEqual({
          userId: 'alice',
          cookie: '[redacted]',
          headers: ['x-user-id'],
          subjectToken: '[redacted]',
          idToken: '[redacted]',
        })
        expect(Object.isFrozen(context)).toBe(true)
        expect(() => {
          ;(context as { subjectToken?: string }).subjectToken = 'other'
        }).toThrow(TypeError)
      },
    )
  })
})
