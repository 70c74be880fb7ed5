// IdJagTokenProvider (enterprise-managed authorization) against msw: the MCP server's RFC 9728
// metadata, the MCP authorization server (RFC 8414; jwt-bearer grant that verifies the ID-JAG:
// typ, aud = its issuer, resource = the MCP server's resource exactly, client_id = the
// authenticated client, one use per jti) and the enterprise IdP (RFC 8693 to an ID-JAG).
import { decodeProtectedHeader } from 'jose'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { IdJagTokenProvider, type IdJagTokenProviderOptions } from '../src/index.js'
import { observe } from './support/diagnostics.js'
import { signJwt, verifyJwt } from './support/jwt.js'

const MCP = 'https://mcp.example.test/mcp'
const RESOURCE = 'https://mcp.example.test/mcp' // what the metadata says, compared exactly
const AS = 'https://mcp-as.example.test'
const IDP = 'https://idp.example.test'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

function servers(options: { issuedTokenType?: string; accessExpiresIn?: number } = {}) {
  const idp: URLSearchParams[] = []
  const as: { body: URLSearchParams; authorization: string | null }[] = []
  const used = new Set<string>()
  let n = 0
  server.use(
    http.get('https://mcp.example.test/.well-known/oauth-protected-resource/mcp', () =>
      HttpResponse.json({ resource: RESOURCE, authorization_servers: [AS] }),
    ),
    http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
      HttpResponse.json({
        issuer: AS,
        token_endpoint: `${AS}/token`,
        authorization_endpoint: `${AS}/authorize`,
      }),
    ),
    http.post(`${IDP}/token`, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      idp.push(body)
      try {
        await verifyJwt(body.get('subject_token') ?? '', { audience: 'idp-client' })
      } catch {
        return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      }
      const jag = await signJwt(
        {
          sub: 'alice@example.com',
          aud: body.get('audience'),
          resource: body.get('resource'),
          client_id: 'mcp-client',
          jti: `jag-${++n}`,
        },
        { expiresIn: 300, typ: 'oauth-id-jag+jwt' },
      )
      return HttpResponse.json({
        access_token: jag,
        issued_token_type: options.issuedTokenType ?? 'urn:ietf:params:oauth:token-type:id-jag',
        token_type: 'N_A',
      })
    }),
    http.post(`${AS}/token`, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      const authorization = request.headers.get('authorization')
      as.push({ body, authorization })
      if (authorization !== `Basic ${btoa('mcp-client:mcp-secret')}`)
        return HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
      const assertion = body.get('assertion') ?? ''
      if (decodeProtectedHeader(assertion).typ !== 'oauth-id-jag+jwt')
        return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      const claims = await verifyJwt(assertion, { audience: AS }).catch(() => undefined)
      if (
        !claims ||
        claims['resource'] !== RESOURCE ||
        claims['client_id'] !== 'mcp-client' ||
        used.has(String(claims.jti))
      )
        return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      used.add(String(claims.jti))
      return HttpResponse.json({
        access_token: `mcp-token-${used.size}`,
        token_type: 'Bearer',
        expires_in: options.accessExpiresIn ?? 3600,
      })
    }),
  )
  return { idp, as }
}

function provider(extra: Partial<IdJagTokenProviderOptions> = {}) {
  return new IdJagTokenProvider({
    resourceServerUrl: MCP,
    clientId: 'mcp-client',
    clientSecret: 'mcp-secret',
    idp: { tokenUrl: `${IDP}/token`, clientId: 'idp-client' },
    scope: 'mcp:read',
    retry: { limit: 0 },
    ...extra,
  })
}

const idToken = (expiresIn = 3600) =>
  signJwt(
    { iss: IDP, aud: 'idp-client', sub: 'alice@example.com', email: 'alice@example.com' },
    { expiresIn },
  )

describe('IdJagTokenProvider', () => {
  it('exchanges the ID token at the IdP for an ID-JAG (audience: the AS issuer, resource: as is), then redeems it', async () => {
    const seen = servers()
    const id = await idToken()
    const token = await provider().getToken({ idToken: id })
    expect(token).toMatchObject({ value: 'mcp-token-1', tokenType: 'Bearer', scopes: ['mcp:read'] })
    expect(Object.fromEntries(seen.idp[0]!)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:id-jag',
      subject_token: id,
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
      audience: AS,
      resource: RESOURCE,
      scope: 'mcp:read',
      client_id: 'idp-client',
    })
    expect(seen.as[0]!.body.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer')
    expect(seen.as[0]!.body.get('scope')).toBe('mcp:read')
  })

  it('caches both legs per user; a cached ID-JAG the server refuses (one use) is replaced once', async () => {
    const seen = servers({ accessExpiresIn: 60 })
    let now = Date.now()
    const p = provider({ now: () => now })
    const id = await idToken()
    await p.getToken({ idToken: id })
    await p.getToken({ idToken: id })
    expect([seen.idp.length, seen.as.length]).toEqual([1, 1])
    now += 61_000 // the access token expired, the ID-JAG (300 s) has not: only leg 2, which refuses the used one
    expect((await p.getToken({ idToken: id })).value).toBe('mcp-token-2')
    expect([seen.idp.length, seen.as.length]).toEqual([2, 3])
  })

  it('takes the subject token when no idToken is given; needs one of them', async () => {
    servers()
    await expect(provider().getToken({ subjectToken: await idToken() })).resolves.toMatchObject({
      value: 'mcp-token-1',
    })
    await expect(provider().getToken()).rejects.toMatchObject({ code: 'ERR_SUBJECT_TOKEN_REQUIRED' })
  })

  it('refuses an expired ID token without a request, and caps the token at its expiry', async () => {
    const seen = servers()
    let now = Date.now()
    const p = provider({ now: () => now })
    const id = await idToken(90)
    const token = await p.getToken({ idToken: id })
    expect(token.expiresAt).toBeLessThanOrEqual(now + 91_000)
    now += 91_000
    await expect(p.getToken({ idToken: id })).rejects.toMatchObject({ code: 'ERR_SUBJECT_TOKEN_EXPIRED' })
    expect(seen.idp).toHaveLength(1)
  })

  it('refuses an IdP answer that is not an ID-JAG, and reports a refused ID token typed', async () => {
    servers({ issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token' })
    await expect(provider().getToken({ idToken: await idToken() })).rejects.toMatchObject({
      code: 'ERR_TOKEN_RESPONSE_INVALID',
    })
    servers()
    const foreign = await signJwt({ iss: IDP, aud: 'someone-else', sub: 'x' })
    await expect(provider().getToken({ idToken: foreign })).rejects.toMatchObject({
      code: 'ERR_OAUTH_ERROR_RESPONSE',
      error: 'invalid_grant',
      endpoint: `${IDP}/token`,
    })
  })

  it('traces both legs (token exchange at the IdP, jwt-bearer at the AS), no token in them', async () => {
    servers()
    const id = await idToken()
    const observed = observe()
    try {
      await provider().getToken({ idToken: id })
      expect(observed.requests.map((r) => [r.grant, r.endpoint, r.outcome])).toEqual([
        ['urn:ietf:params:oauth:grant-type:token-exchange', `${IDP}/token`, 'ok'],
        ['urn:ietf:params:oauth:grant-type:jwt-bearer', `${AS}/token`, 'ok'],
      ])
      expect(observed.text()).not.toContain(id)
      expect(observed.text()).not.toContain('mcp-token-1')
    } finally {
      observed.stop()
    }
  })

  it('rejects bad options naming them', () => {
    expect(() => provider({ idp: undefined as never })).toThrow(/"idp"/)
    expect(() => provider({ idp: { resourceServerUrl: MCP } as never })).toThrow(/"idp" takes/)
    expect(() => provider({ idp: {} })).toThrow(/"idp\.tokenUrl"/)
  })
})

describe('IdJagTokenProvider.cachedToken', () => {
  it("hands out the user's token from memory once both legs ran; nothing for another ID token", async () => {
    servers()
    const p = provider()
    const alice = await idToken()
    expect(p.cachedToken({ idToken: alice })).toBeUndefined()
    const token = await p.getToken({ idToken: alice })
    expect(p.cachedToken({ idToken: alice })).toBe(token)
    expect(p.cachedToken({ idToken: `${alice}x` })).toBeUndefined()
    expect(p.cachedToken()).toBeUndefined()
  })
})
