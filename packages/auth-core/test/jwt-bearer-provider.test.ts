// JwtBearerTokenProvider (RFC 7523 §2.1) against an msw authorization server that verifies the
// assertion (signature, audience, expiry); assertions from a string, a callback and a file that
// rotates like a Kubernetes projected service-account token.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DpopKey, JwtBearerTokenProvider, type JwtBearerTokenProviderOptions } from '../src/index.js'
import { observe } from './support/diagnostics.js'
import { signJwt, verifyJwt } from './support/jwt.js'

const AS = 'https://as.example.test'
const TOKEN_URL = `${AS}/token`
const server = setupServer()
const dir = mkdtempSync(join(tmpdir(), 'jwt-bearer-'))
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

function bearerServer() {
  const seen: { body: URLSearchParams; authorization: string | null; dpop: string | null }[] = []
  let n = 0
  server.use(
    http.post(TOKEN_URL, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      seen.push({
        body,
        authorization: request.headers.get('authorization'),
        dpop: request.headers.get('dpop'),
      })
      if (body.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return HttpResponse.json({ error: 'unsupported_grant_type' }, { status: 400 })
      const assertion = body.get('assertion') ?? ''
      try {
        const claims = await verifyJwt(assertion, { audience: AS })
        return HttpResponse.json({
          access_token: `wif-${String(claims['sub'])}-${++n}`,
          token_type: request.headers.has('dpop') ? 'DPoP' : 'Bearer',
          expires_in: 600,
        })
      } catch {
        // Echoes the assertion, as careless servers do: it must not reach our messages.
        return HttpResponse.json(
          { error: 'invalid_grant', error_description: `bad assertion ${assertion}` },
          { status: 400 },
        )
      }
    }),
  )
  return seen
}

const workload = (
  sub = 'system:serviceaccount:mcp:gateway',
  options: { aud?: string; expiresIn?: number } = {},
) =>
  signJwt(
    { iss: 'https://kubernetes.default.svc', sub, aud: options.aud ?? AS },
    { expiresIn: options.expiresIn ?? 600 },
  )

function provider(extra: Partial<JwtBearerTokenProviderOptions>) {
  return new JwtBearerTokenProvider({
    tokenUrl: TOKEN_URL,
    retry: { limit: 0 },
    ...extra,
  } as JwtBearerTokenProviderOptions)
}

describe('JwtBearerTokenProvider', () => {
  it('sends grant_type jwt-bearer with the assertion and no client authentication', async () => {
    const seen = bearerServer()
    const assertion = await workload()
    const token = await provider({ assertion, scope: 'mcp:read' }).getToken()
    expect(token.value).toBe('wif-system:serviceaccount:mcp:gateway-1')
    expect(Object.fromEntries(seen[0]!.body)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
      scope: 'mcp:read',
    })
    expect(seen[0]!.authorization).toBeNull()
  })

  it('authenticates the client when it has credentials (and names itself without: client_id)', async () => {
    const seen = bearerServer()
    await provider({ assertion: await workload(), clientId: 'gw', clientSecret: 's3cret' }).getToken()
    expect(seen[0]!.authorization).toMatch(/^Basic /)
    await provider({ assertion: await workload(), clientId: 'public-gw' }).getToken()
    expect(seen[1]!.body.get('client_id')).toBe('public-gw')
    expect(seen[1]!.authorization).toBeNull()
  })

  it('asks the callback for the current assertion at every token request', async () => {
    bearerServer()
    let calls = 0
    const p = provider({
      assertion: async () => {
        calls++
        return workload(`sa-${calls}`)
      },
    })
    expect((await p.getToken()).value).toBe('wif-sa-1-1')
    expect((await p.getToken()).value).toBe('wif-sa-1-1') // cached: no new assertion needed
    p.invalidate()
    expect((await p.getToken()).value).toBe('wif-sa-2-2')
  })

  it('re-reads an assertion file when it rotates (a projected service-account token)', async () => {
    const seen = bearerServer()
    const file = join(dir, 'token')
    writeFileSync(file, `${await workload('sa-old')}\n`)
    const p = provider({ assertionFile: file })
    expect((await p.getToken()).value).toBe('wif-sa-old-1')
    // The kubelet writes the new token beside the old one and swaps it in.
    writeFileSync(`${file}.new`, await workload('sa-new'))
    renameSync(`${file}.new`, file)
    p.invalidate()
    expect((await p.getToken()).value).toBe('wif-sa-new-2')
    expect(seen[1]!.body.get('assertion')).not.toBe(seen[0]!.body.get('assertion'))
  })

  it('refuses an expired assertion without sending it', async () => {
    const seen = bearerServer()
    const expired = await signJwt({ sub: 'sa', aud: AS }, { now: Date.now() - 120_000, expiresIn: 60 })
    await expect(provider({ assertion: expired }).getToken()).rejects.toMatchObject({
      code: 'ERR_ASSERTION_EXPIRED',
    })
    expect(seen).toHaveLength(0)
  })

  it('reports an unusable assertion file or callback typed, without its content', async () => {
    bearerServer()
    await expect(provider({ assertionFile: join(dir, 'missing') }).getToken()).rejects.toMatchObject({
      code: 'ERR_ASSERTION_UNAVAILABLE',
    })
    const empty = join(dir, 'empty')
    writeFileSync(empty, '\n')
    await expect(provider({ assertionFile: empty }).getToken()).rejects.toMatchObject({
      code: 'ERR_ASSERTION_UNAVAILABLE',
    })
    await expect(provider({ assertionFile: dir }).getToken()).rejects.toThrow(/is not a regular file/)
    const secret = 'callback-secret-text'
    const error = await provider({
      assertion: () => {
        throw new Error(secret)
      },
    })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_ASSERTION_UNAVAILABLE' })
    expect(inspect(error, { depth: 10 })).not.toContain(secret)
  })

  it('reports a refused assertion (wrong audience) once, typed, never retried, never in a message', async () => {
    const seen = bearerServer()
    const wrong = await workload('sa', { aud: 'https://wrong.example' })
    const error = await provider({ assertion: wrong })
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_OAUTH_ERROR_RESPONSE', error: 'invalid_grant', status: 400 })
    expect(seen).toHaveLength(1)
    const text = `${(error as Error).message} ${inspect(error, { depth: 10 })}`
    expect(text).not.toContain(wrong)
    expect(text).not.toContain(wrong.split('.')[2])
  })

  it('binds the token with DPoP and traces the grant', async () => {
    const seen = bearerServer()
    const key = new DpopKey()
    const observed = observe()
    try {
      const token = await provider({ assertion: await workload(), dpop: key }).getToken()
      expect(token).toMatchObject({ tokenType: 'DPoP' })
      expect(token.dpopKey).toBe(key)
      expect(seen[0]!.dpop).toBeTruthy()
      expect(observed.requests).toEqual([
        expect.objectContaining({
          grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          outcome: 'ok',
          reason: 'cold',
        }),
      ])
      expect(observed.text()).not.toContain(seen[0]!.body.get('assertion')!)
    } finally {
      observed.stop()
    }
  })

  it('rejects bad options naming them', () => {
    expect(() => provider({})).toThrow(/"assertion" or "assertionFile"/)
    expect(() => provider({ assertion: 'x', assertionFile: '/x' })).toThrow(/exactly one/)
    expect(() => provider({ assertion: 42 as never })).toThrow(/"assertion"/)
    expect(() => provider({ assertion: 'x', tokenEndpointAuthMethod: 'none', clientSecret: 's' })).toThrow(
      /none/,
    )
  })
})

describe('JwtBearerTokenProvider.cachedToken', () => {
  it('hands out the token getToken got, from memory; nothing before', async () => {
    bearerServer()
    const p = provider({ assertion: await workload(), scope: 'mcp:read' })
    expect(p.cachedToken()).toBeUndefined()
    const token = await p.getToken()
    expect(p.cachedToken()).toBe(token)
    expect(p.cachedToken({ scopes: ['mcp:write'] })).toBeUndefined()
    p.invalidate()
    expect(p.cachedToken()).toBeUndefined()
  })
})
