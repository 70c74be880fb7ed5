import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AccessToken, GetTokenOptions, TokenProvider } from '@mcp-oauth2/auth-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bearer,
  MAX_SCOPE_LENGTH,
  MAX_STEP_UP_SCOPES,
  MAX_USER_STEP_UPS,
} from '../../../src/internal/fetch/bearer.js'
import { type ServerFetch, USER_AUTHORIZATION } from '../../../src/internal/fetch/request.js'
import { RequestHeaders } from '../../../src/internal/fetch/request-headers.js'
import { withUserContext } from '../../../src/user-context.js'

/**
 * A real loopback MCP-like endpoint that wants the scope named in the request body: 403
 * insufficient_scope for it unless the bearer token (`t:<scopes, comma-separated>`) carries it.
 */
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const { need } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { need?: string }
    const token = (req.headers.authorization ?? '').replace(/^Bearer t:/, '')
    if (need === undefined || token.split(',').includes(need)) {
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
      return
    }
    res.statusCode = 403
    res.setHeader(
      'www-authenticate',
      `Bearer error="insufficient_scope", scope="${need.replace(/["\\]/g, '\\$&')}"`,
    )
    res.end()
  })
})
let URL_ = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  URL_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** A token provider that grants whatever it is asked for, and records what that was. */
function grantingProvider() {
  const asked: (readonly string[])[] = []
  const provider: TokenProvider = {
    async getToken(options?: GetTokenOptions): Promise<AccessToken> {
      const scopes = [...(options?.scopes ?? [])]
      asked.push(scopes)
      return { value: `t:${scopes.join(',')}`, tokenType: 'Bearer', expiresAt: Date.now() + 3600_000, scopes }
    },
    invalidate() {},
  }
  return { provider, asked }
}

const network: ServerFetch = (url, init) =>
  globalThis.fetch(url, { ...init, headers: init.headers.toRecord() })

/** One request; answers its status, the body read so the connection is free again. */
async function call(fetch: ServerFetch, need?: string): Promise<number> {
  const response = await fetch(URL_, {
    method: 'POST',
    headers: RequestHeaders.from({ 'content-type': 'application/json' }),
    body: JSON.stringify(need === undefined ? {} : { need }),
  })
  await response.arrayBuffer()
  return response.status
}

describe('bearer', () => {
  it('keeps at most 32 step-up scopes, the most recent, however many distinct challenges come', async () => {
    const { provider, asked } = grantingProvider()
    const fetch = bearer({ tokenProvider: provider, stepUp: 'any', now: Date.now })(network)
    for (let i = 0; i < 2000; i++) expect(await call(fetch, `s-${i}`)).toBe(200)
    asked.length = 0
    expect(await call(fetch)).toBe(200)
    const carried = asked[0] ?? []
    expect(carried.length).toBe(32)
    expect(carried).toContain('s-1999')
    expect(carried).not.toContain('s-0')
  }, 60_000) // 4,000 loopback requests: bounded work, a few seconds

  it('does not step up to a scope that is too long, malformed, or to too many at once', async () => {
    const { provider, asked } = grantingProvider()
    const fetch = bearer({ tokenProvider: provider, stepUp: 'any', now: Date.now })(network)
    const tooLong = 'x'.repeat(MAX_SCOPE_LENGTH + 1)
    expect(await call(fetch, tooLong)).toBe(403)
    const many = Array.from({ length: MAX_STEP_UP_SCOPES + 1 }, (_, i) => `m-${i}`).join(' ')
    expect(await call(fetch, many)).toBe(403)
    expect(await call(fetch, 'bad"scope')).toBe(403)
    // One token request per call: none was retried with the challenged scopes.
    expect(asked).toEqual([[], [], []])
    // A well-formed scope of the maximum length is fine.
    expect(await call(fetch, 'y'.repeat(MAX_SCOPE_LENGTH))).toBe(200)
  })

  it('steps up only to scopes of the allow-list', async () => {
    const { provider, asked } = grantingProvider()
    const fetch = bearer({ tokenProvider: provider, stepUp: new Set(['ticket:create']), now: Date.now })(
      network,
    )
    expect(await call(fetch, 'admin:all')).toBe(403)
    expect(await call(fetch, 'ticket:create')).toBe(200)
    expect(asked).toEqual([[], [], ['ticket:create']])
  })

  it("leaves a request that carries the user's own authorization alone", async () => {
    const { provider, asked } = grantingProvider()
    const seen: (string | null)[] = []
    const fetch = bearer({ tokenProvider: provider, stepUp: 'any', now: Date.now })((url, init) => {
      seen.push(init.headers.get('authorization'))
      return network(url, init)
    })
    const headers = RequestHeaders.from({
      authorization: 'Bearer t:user',
      'content-type': 'application/json',
    })
    const response = await fetch(URL_, {
      method: 'POST',
      headers,
      body: '{"need":"x"}',
      [USER_AUTHORIZATION]: true,
    })
    expect(response.status).toBe(403)
    expect(asked).toEqual([])
    expect(seen).toEqual(['Bearer t:user'])
  })

  it('keeps the step-up states of at most MAX_USER_STEP_UPS users, dropping the least recently used', async () => {
    const { provider: userTokenProvider, asked } = grantingProvider()
    const fetch = bearer({ tokenProvider: undefined, userTokenProvider, stepUp: 'any', now: Date.now })(
      network,
    )
    const asUser = (i: number, need?: string) =>
      withUserContext({ subjectToken: `user-${i}` }, () => call(fetch, need))
    const users = MAX_USER_STEP_UPS + 1
    for (let i = 0; i < users; i++) expect(await asUser(i, 'extra')).toBe(200)
    asked.length = 0
    // The newest users still carry their step-up; the first one's state was dropped.
    expect(await asUser(users - 1)).toBe(200)
    expect(await asUser(0)).toBe(200)
    expect(asked).toEqual([['extra'], []])
  }, 60_000) // about 2,000 loopback requests
})
