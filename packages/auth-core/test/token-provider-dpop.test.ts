// DPoP (RFC 9449) at the token endpoint, for ClientCredentialsTokenProvider (the other providers
// share the request path; their own tests cover a DPoP grant each): an msw authorization server
// that verifies every proof with the embedded key, binds tokens to its thumbprint, and asks for
// nonces on demand.
import { calculateJwkThumbprint, decodeJwt, EmbeddedJWK, type JWK, jwtVerify } from 'jose'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ClientCredentialsTokenProvider, DpopKey, TokenRequestError } from '../src/index.js'
import { observe } from './support/diagnostics.js'

const TOKEN_URL = 'https://as.example.test/oauth2/token'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

interface Seen {
  proof: string | null
  claims: Record<string, unknown> | undefined
  jkt: string | undefined
}

/** A DPoP authorization server. `nonces`: the nonce each request must carry (a new one per request when `rotate`). */
function dpopServer(
  options: {
    requireNonce?: boolean
    rotate?: boolean
    sendNonce?: boolean
    failFirst?: 503
    tokenType?: string
  } = {},
) {
  const seen: Seen[] = []
  const jtis = new Set<string>()
  let nonce = 'nonce-0'
  let n = 0
  let failed = false
  server.use(
    http.post(TOKEN_URL, async ({ request }) => {
      const proof = request.headers.get('dpop')
      const entry: Seen = { proof, claims: undefined, jkt: undefined }
      seen.push(entry)
      if (options.failFirst && !failed) {
        failed = true
        return new HttpResponse(null, { status: 503 })
      }
      if (proof === null) return HttpResponse.json({ access_token: `bearer-${++n}`, token_type: 'Bearer' })
      try {
        const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' })
        entry.claims = payload
        entry.jkt = await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256')
        if (payload.htm !== 'POST' || payload.htu !== TOKEN_URL) throw new Error('htm/htu')
        if (jtis.has(String(payload.jti))) throw new Error('replayed')
        jtis.add(String(payload.jti))
      } catch {
        return HttpResponse.json({ error: 'invalid_dpop_proof' }, { status: 400 })
      }
      // `rotate`: a server whose nonce never satisfies (a new one on every answer).
      if (options.requireNonce && (entry.claims.nonce !== nonce || options.rotate)) {
        if (options.rotate) nonce = `nonce-${seen.length}`
        return HttpResponse.json(
          { error: 'use_dpop_nonce', error_description: 'nonce required' },
          { status: 400, headers: options.sendNonce === false ? {} : { 'dpop-nonce': nonce } },
        )
      }
      return HttpResponse.json(
        { access_token: `dpop-${++n}`, token_type: options.tokenType ?? 'DPoP', expires_in: 60 },
        { headers: { 'dpop-nonce': nonce } },
      )
    }),
  )
  return seen
}

function provider(dpop: boolean | DpopKey = true) {
  return new ClientCredentialsTokenProvider({
    tokenUrl: TOKEN_URL,
    clientId: 'gateway',
    clientSecret: 'secret-1',
    retry: { baseDelayMs: 1, maxDelayMs: 1 },
    dpop,
  })
}

describe('DPoP at the token endpoint', () => {
  it('sends a proof made with the provider key and hands out a DPoP token with that key', async () => {
    const seen = dpopServer()
    const key = new DpopKey()
    const token = await provider(key).getToken()
    expect(token).toMatchObject({ value: 'dpop-1', tokenType: 'DPoP' })
    expect(token.dpopKey).toBe(key)
    expect(seen[0]!.jkt).toBe(await key.thumbprint())
    expect(seen[0]!.claims).toMatchObject({ htm: 'POST', htu: TOKEN_URL })
    expect(seen[0]!.claims!.nonce).toBeUndefined()
  })

  it('answers use_dpop_nonce with one retry carrying the nonce (a new proof), and keeps the nonce', async () => {
    const seen = dpopServer({ requireNonce: true })
    const p = provider()
    const observed = observe()
    try {
      await p.getToken()
      expect(seen.map((s) => s.claims?.nonce)).toEqual([undefined, 'nonce-0'])
      expect(seen[0]!.claims!.jti).not.toBe(seen[1]!.claims!.jti)
      expect(observed.requests[0]).toMatchObject({ outcome: 'ok', attempts: 2 })
    } finally {
      observed.stop()
    }
    p.invalidate()
    await p.getToken()
    expect(seen).toHaveLength(3)
    expect(seen[2]!.claims!.nonce).toBe('nonce-0')
  })

  it('gives up after that one retry when the server wants yet another nonce (typed use_dpop_nonce)', async () => {
    const seen = dpopServer({ requireNonce: true, rotate: true })
    const error = await provider()
      .getToken()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenRequestError)
    expect(error).toMatchObject({ code: 'ERR_OAUTH_ERROR_RESPONSE', error: 'use_dpop_nonce', status: 400 })
    expect(seen).toHaveLength(2)
  })

  it('does not retry a use_dpop_nonce that brings no nonce (missing nonce)', async () => {
    const seen = dpopServer({ requireNonce: true, sendNonce: false })
    await expect(provider().getToken()).rejects.toMatchObject({ error: 'use_dpop_nonce' })
    expect(seen).toHaveLength(1)
  })

  it('signs a fresh proof (new jti) for a retry after a 503: no proof is replayed', async () => {
    const seen = dpopServer({ failFirst: 503 })
    await provider().getToken()
    expect(seen).toHaveLength(2)
    expect(decodeJwt(seen[0]!.proof!).jti).not.toBe(decodeJwt(seen[1]!.proof!).jti)
  })

  it('reports invalid_dpop_proof typed, and a DPoP token without the dpop option as an invalid response', async () => {
    server.use(
      http.post(TOKEN_URL, () => HttpResponse.json({ error: 'invalid_dpop_proof' }, { status: 400 })),
    )
    await expect(provider().getToken()).rejects.toMatchObject({ error: 'invalid_dpop_proof' })
    server.resetHandlers()
    server.use(http.post(TOKEN_URL, () => HttpResponse.json({ access_token: 'x', token_type: 'DPoP' })))
    await expect(provider(false).getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE_INVALID' })
  })

  it('keeps a Bearer answer a bearer token (a server without DPoP), without a key', async () => {
    dpopServer({ tokenType: 'Bearer' })
    const token = await provider().getToken()
    expect(token.tokenType).toBe('Bearer')
    expect(token.dpopKey).toBeUndefined()
  })

  it('rejects a dpop option that is not a boolean, key or key options', () => {
    expect(() => provider('yes' as never)).toThrow(/"dpop"/)
  })
})
