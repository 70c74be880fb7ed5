// AuthorizationCodeTokenProvider against an msw authorization server whose /authorize answers at
// once with a 302 (as the conformance suite's does): PKCE S256 checked at the token endpoint, the
// RFC 9207 iss, DPoP, refresh tokens.
import { base64url, calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from 'jose'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  AuthorizationCodeTokenProvider,
  type AuthorizationCodeTokenProviderOptions,
  type AuthorizationRequest,
} from '../src/index.js'
import { observe } from './support/diagnostics.js'

const AS = 'https://as.example.test'
const MCP = 'https://mcp.example.test/mcp'
const REDIRECT = 'http://127.0.0.1:8765/callback'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

async function s256(verifier: string): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  )
}

function authorizationServer(options: { callback?: (url: URL) => URL } = {}) {
  const authorizations: URL[] = []
  const tokens: { body: URLSearchParams; jkt?: string }[] = []
  const challenges = new Map<string, string>()
  let n = 0
  server.use(
    http.get('https://mcp.example.test/.well-known/oauth-protected-resource/mcp', () =>
      HttpResponse.json({ resource: MCP, authorization_servers: [AS] }),
    ),
    http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
      HttpResponse.json({
        issuer: AS,
        authorization_endpoint: `${AS}/authorize`,
        token_endpoint: `${AS}/token`,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      }),
    ),
    http.get(`${AS}/authorize`, ({ request }) => {
      const url = new URL(request.url)
      authorizations.push(url)
      const code = `code-${authorizations.length}`
      challenges.set(code, url.searchParams.get('code_challenge') ?? '')
      let callback = new URL(url.searchParams.get('redirect_uri')!)
      callback.searchParams.set('code', code)
      callback.searchParams.set('state', url.searchParams.get('state')!)
      callback.searchParams.set('iss', AS)
      if (options.callback) callback = options.callback(callback)
      return new HttpResponse(null, { status: 302, headers: { location: callback.href } })
    }),
    http.post(`${AS}/token`, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      const entry: { body: URLSearchParams; jkt?: string } = { body }
      tokens.push(entry)
      const proof = request.headers.get('dpop')
      if (proof) {
        const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK)
        entry.jkt = await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256')
      }
      if (body.get('grant_type') === 'refresh_token') {
        if (body.get('refresh_token') !== `refresh-${n}`)
          return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      } else {
        const code = body.get('code') ?? ''
        if ((await s256(body.get('code_verifier') ?? '')) !== challenges.get(code))
          return HttpResponse.json({ error: 'invalid_grant', error_description: 'PKCE' }, { status: 400 })
        challenges.delete(code)
      }
      n++
      return HttpResponse.json({
        access_token: `user-token-${n}`,
        token_type: proof ? 'DPoP' : 'Bearer',
        expires_in: 60,
        refresh_token: `refresh-${n}`,
      })
    }),
  )
  return { authorizations, tokens }
}

/** Follows the authorization endpoint's redirect without following it (nothing listens at the redirect URI). */
async function authorize({ url }: AuthorizationRequest): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' })
  return response.headers.get('location')!
}

function provider(extra: Partial<AuthorizationCodeTokenProviderOptions> = {}) {
  return new AuthorizationCodeTokenProvider({
    resourceServerUrl: MCP,
    clientId: 'desktop-app',
    redirectUri: REDIRECT,
    scope: 'mcp:read',
    authorize,
    retry: { limit: 0 },
    ...extra,
  })
}

describe('AuthorizationCodeTokenProvider', () => {
  it('runs the authorization request with PKCE S256, state and resource, then redeems the code', async () => {
    const seen = authorizationServer()
    const token = await provider().getToken()
    expect(token).toMatchObject({ value: 'user-token-1', tokenType: 'Bearer' })
    const query = seen.authorizations[0]!.searchParams
    expect(Object.fromEntries(query)).toEqual({
      response_type: 'code',
      client_id: 'desktop-app',
      redirect_uri: REDIRECT,
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      code_challenge_method: 'S256',
      state: expect.any(String),
      scope: 'mcp:read',
      resource: MCP,
    })
    expect(Object.fromEntries(seen.tokens[0]!.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'code-1',
      redirect_uri: REDIRECT,
      code_verifier: expect.any(String),
      resource: MCP,
      client_id: 'desktop-app', // a public client names itself
    })
  })

  it('uses the refresh token before asking the user again, and asks again when it is refused', async () => {
    const seen = authorizationServer()
    let now = Date.now()
    const p = provider({ now: () => now })
    await p.getToken()
    now += 61_000
    expect((await p.getToken()).value).toBe('user-token-2')
    expect(seen.tokens[1]!.body.get('grant_type')).toBe('refresh_token')
    expect(seen.authorizations).toHaveLength(1)
    p.invalidate() // forgets the refresh token too
    expect((await p.getToken()).value).toBe('user-token-3')
    expect(seen.authorizations).toHaveLength(2)
  })

  it('binds the code and the token to the DPoP key (dpop_jkt, a proof at the token endpoint)', async () => {
    const seen = authorizationServer()
    const p = provider({ dpop: true })
    const token = await p.getToken()
    expect(token.tokenType).toBe('DPoP')
    expect(token.dpopKey).toBe(p.dpopKey)
    const jkt = await p.dpopKey!.thumbprint()
    expect(seen.authorizations[0]!.searchParams.get('dpop_jkt')).toBe(jkt)
    expect(seen.tokens[0]!.jkt).toBe(jkt)
  })

  it('refuses a callback with another state, another issuer or an error, typed and without the code', async () => {
    const withParam = (name: string, value: string) => (u: URL) => {
      u.searchParams.set(name, value)
      return u
    }
    for (const [change, pattern] of [
      [withParam('state', 'forged'), /state/],
      [withParam('iss', 'https://evil.example'), /iss/],
      [
        (u: URL) => {
          const denied = new URL(u)
          denied.search = ''
          denied.searchParams.set('error', 'access_denied')
          denied.searchParams.set('state', u.searchParams.get('state')!)
          denied.searchParams.set('iss', AS)
          return denied
        },
        /access_denied/,
      ],
    ] as const) {
      authorizationServer({ callback: change })
      const error = await provider()
        .getToken()
        .catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_AUTHORIZATION_FAILED' })
      expect((error as Error).message).toMatch(pattern)
      expect((error as Error).message).not.toContain('code-1')
      server.resetHandlers()
    }
  })

  it('traces the authorization_code and refresh_token requests', async () => {
    authorizationServer()
    let now = Date.now()
    const p = provider({ now: () => now })
    const observed = observe()
    try {
      await p.getToken()
      now += 61_000
      await p.getToken()
      expect(observed.requests.map((r) => [r.grant, r.reason, r.outcome])).toEqual([
        ['authorization_code', 'cold', 'ok'],
        ['refresh_token', 'expired', 'ok'],
      ])
      expect(observed.text()).not.toContain('refresh-1')
      expect(observed.text()).not.toContain('code-1')
    } finally {
      observed.stop()
    }
  })

  it('rejects bad options naming them', () => {
    expect(() => provider({ authorize: undefined as never })).toThrow(/"authorize"/)
    expect(() => provider({ redirectUri: 'not a url' })).toThrow(/"redirectUri"/)
  })
})

describe('AuthorizationCodeTokenProvider.cachedToken', () => {
  it('hands out the token getToken got, from memory; nothing before', async () => {
    authorizationServer()
    const p = provider()
    expect(p.cachedToken()).toBeUndefined()
    const token = await p.getToken()
    expect(p.cachedToken()).toBe(token)
    expect(p.cachedToken({ scopes: ['mcp:write'] })).toBeUndefined()
  })
})
