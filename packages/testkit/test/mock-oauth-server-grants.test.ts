// The delegation grants of the mock authorization server: RFC 8693 token exchange (may_act/act),
// ID-JAGs issued as an IdP, RFC 7523 jwt-bearer (workload identity and ID-JAG), and their failures.
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMockMcpServer, createMockOAuthServer } from '../src/index.js'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token'
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token'
const ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag'

// A workload identity provider outside the mocks (e.g. a Kubernetes API server): its own key.
const workloadKeys = await generateKeyPair('ES256', { extractable: true })
const WORKLOAD_ISSUER = 'https://workload-idp.mock.test'

const idp = createMockOAuthServer({
  issuer: 'https://idp.mock.test',
  algorithm: 'ES256',
  clients: [{ clientId: 'idp-client', tokenEndpointAuthMethods: ['none'], idJagClientId: 'gateway' }],
})
const as = createMockOAuthServer({
  clients: [
    { clientId: 'gateway', clientSecret: 'gw-secret', allowedScopes: ['customer:read', 'ticket:create'] },
    { clientId: 'other', clientSecret: 'other-secret' },
  ],
  trustedIssuers: [
    idp,
    {
      issuer: WORKLOAD_ISSUER,
      jwks: { keys: [{ ...(await exportJWK(workloadKeys.publicKey)), kid: 'w1' }] },
    },
  ],
})
const mcp = createMockMcpServer({ oauth: as, url: 'https://mcp.mock.test/mcp', sse: false })
const msw = setupServer(...idp.handlers, ...as.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => {
  for (const server of [idp, as]) {
    server.reset()
    server.setNow(Date.now)
  }
})
afterAll(() => msw.close())

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`

async function token(server: typeof as, params: Record<string, string | string[]>, authorization?: string) {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) body.append(k, item)
  const response = await fetch(server.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(authorization ? { authorization } : {}),
    },
    body,
  })
  return { status: response.status, body: (await response.json()) as Record<string, string> }
}

const asGateway = basic('gateway', 'gw-secret')

function exchange(subject: string, extra: Record<string, string> = {}, authorization = asGateway) {
  return token(
    as,
    { grant_type: TOKEN_EXCHANGE, subject_token: subject, subject_token_type: ACCESS_TOKEN, ...extra },
    authorization,
  )
}

function workloadAssertion(claims: Record<string, unknown> = {}, expiresIn = 300) {
  const iat = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: 'system:serviceaccount:prod:gateway', aud: as.issuer, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'w1', typ: 'JWT' })
    .setIssuer(WORKLOAD_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + expiresIn)
    .setJti(crypto.randomUUID())
    .sign(workloadKeys.privateKey)
}

describe('token exchange (RFC 8693)', () => {
  it("exchanges a user's token for one for the MCP server, with the user as subject", async () => {
    const subject = await as.issueToken({ sub: 'alice', aud: 'gateway', scope: 'customer:read openid' })
    const { status, body } = await exchange(subject, { resource: mcp.url })
    expect(status).toBe(200)
    expect(body).toMatchObject({
      issued_token_type: ACCESS_TOKEN,
      token_type: 'Bearer',
      scope: 'customer:read',
    })
    expect(decodeJwt(body['access_token']!)).toMatchObject({
      sub: 'alice',
      client_id: 'gateway',
      aud: mcp.url,
    })
    expect(decodeJwt(body['access_token']!).act).toBeUndefined()
    expect(as.tokenRequests[0]).toMatchObject({
      grantType: TOKEN_EXCHANGE,
      clientId: 'gateway',
      subject: 'alice',
      issuedTokenType: ACCESS_TOKEN,
      status: 200,
    })
  })

  it('records the actor as act, nesting earlier actors, when may_act allows it', async () => {
    const subject = await as.issueToken({
      sub: 'alice',
      aud: 'gateway',
      may_act: { sub: 'gateway' },
      act: { sub: 'frontend' },
    })
    const actor = await as.issueToken({ sub: 'gateway', aud: 'gateway' })
    const { status, body } = await exchange(subject, { actor_token: actor, actor_token_type: ACCESS_TOKEN })
    expect(status).toBe(200)
    expect(decodeJwt(body['access_token']!).act).toEqual({ sub: 'gateway', act: { sub: 'frontend' } })
    expect(as.tokenRequests[0]).toMatchObject({ actor: 'gateway' })
  })

  it("refuses an actor that the subject's may_act does not name", async () => {
    const subject = await as.issueToken({ sub: 'alice', aud: 'gateway', may_act: { sub: 'someone-else' } })
    const actor = await as.issueToken({ sub: 'gateway', aud: 'gateway' })
    const { status, body } = await exchange(subject, { actor_token: actor, actor_token_type: ACCESS_TOKEN })
    expect({ status, error: body['error'] }).toEqual({ status: 400, error: 'invalid_grant' })
    expect(body['error_description']).toContain('may_act')
  })

  it.each([
    [
      'an expired subject token',
      { sub: 'alice', aud: 'gateway', expiresIn: -60 },
      'subject_token is expired',
    ],
    ['a subject token for another audience', { sub: 'alice', aud: 'https://elsewhere.test' }, 'audience'],
  ])('refuses %s with invalid_grant, without echoing the token', async (_name, claims, description) => {
    const subject = await as.issueToken(claims)
    const { status, body } = await exchange(subject)
    expect({ status, error: body['error'] }).toEqual({ status: 400, error: 'invalid_grant' })
    expect(body['error_description']).toContain(description)
    expect(JSON.stringify(body)).not.toContain(subject)
    expect(as.tokenRequests[0]).toMatchObject({ status: 400, error: 'invalid_grant' })
  })

  it('refuses a subject token from an untrusted issuer, a missing type, an unknown requested type or no client', async () => {
    const stranger = createMockOAuthServer({ issuer: 'https://stranger.mock.test' })
    expect((await exchange(await stranger.issueToken({ sub: 'alice', aud: 'gateway' }))).body).toMatchObject({
      error: 'invalid_grant',
    })
    const subject = await as.issueToken({ sub: 'alice', aud: 'gateway' })
    const noType = await token(as, { grant_type: TOKEN_EXCHANGE, subject_token: subject }, asGateway)
    expect(noType.body).toMatchObject({ error: 'invalid_request' })
    expect((await exchange(subject, { requested_token_type: 'urn:x:saml' })).body).toMatchObject({
      error: 'invalid_request',
    })
    const anonymous = await token(as, {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN,
    })
    expect(anonymous).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
  })

  it("grants requested scopes the client may have, and otherwise the subject's scopes it may have", async () => {
    const subject = await as.issueToken({ sub: 'alice', aud: 'gateway', scope: 'customer:read admin' })
    expect((await exchange(subject, { scope: 'admin' })).body).toMatchObject({ error: 'invalid_scope' })
    expect((await exchange(subject, { scope: 'ticket:create' })).body).toMatchObject({
      scope: 'ticket:create',
    })
    expect((await exchange(subject)).body).toMatchObject({ scope: 'customer:read' })
  })
})

describe('ID-JAG (identity assertion authorization grant)', () => {
  async function idJag(extra: Record<string, string> = {}) {
    const idToken = await idp.issueIdToken({
      sub: 'alice@example.test',
      aud: 'idp-client',
      email: 'alice@example.test',
    })
    return token(idp, {
      grant_type: TOKEN_EXCHANGE,
      client_id: 'idp-client',
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
      requested_token_type: ID_JAG,
      audience: as.issuer,
      resource: mcp.url,
      ...extra,
    })
  }

  it('issues an ID-JAG as the IdP for an ID token, and the resource server grants a token for it', async () => {
    const jag = await idJag({ scope: 'customer:read' })
    expect(jag).toMatchObject({ status: 200, body: { issued_token_type: ID_JAG, token_type: 'N_A' } })
    const assertion = jag.body['access_token']!
    expect(decodeProtectedHeader(assertion).typ).toBe('oauth-id-jag+jwt')
    expect(decodeJwt(assertion)).toMatchObject({
      iss: idp.issuer,
      sub: 'alice@example.test',
      aud: as.issuer,
      client_id: 'gateway',
      resource: mcp.url,
      scope: 'customer:read',
    })
    expect(idp.tokenRequests[0]).toMatchObject({
      authMethod: 'none',
      issuedTokenType: ID_JAG,
      subject: 'alice@example.test',
    })

    const granted = await token(as, { grant_type: JWT_BEARER, assertion }, asGateway)
    expect(granted).toMatchObject({ status: 200, body: { token_type: 'Bearer', scope: 'customer:read' } })
    expect(decodeJwt(granted.body['access_token']!)).toMatchObject({
      sub: 'alice@example.test',
      client_id: 'gateway',
      aud: mcp.url,
    })
  })

  it('refuses an ID-JAG presented by another client, for another audience, expired, or without client auth', async () => {
    const assertion = (await idJag()).body['access_token']!
    expect(
      (await token(as, { grant_type: JWT_BEARER, assertion }, basic('other', 'other-secret'))).body,
    ).toMatchObject({
      error: 'invalid_grant',
    })
    expect((await token(as, { grant_type: JWT_BEARER, assertion })).status).toBe(401)
    const elsewhere = (await idJag({ audience: 'https://other-as.test' })).body['access_token']!
    const wrongAudience = await token(as, { grant_type: JWT_BEARER, assertion: elsewhere }, asGateway)
    expect(wrongAudience.body['error_description']).toContain('audience')
    as.advanceTime(400_000) // past the 300 s lifetime and the 5 s leeway
    const expired = await token(as, { grant_type: JWT_BEARER, assertion }, asGateway)
    expect(expired.body).toMatchObject({ error: 'invalid_grant', error_description: 'assertion is expired' })
  })

  it('only issues ID-JAGs for ID tokens, to a named audience', async () => {
    const accessToken = await idp.issueToken({ sub: 'alice', aud: 'idp-client' })
    expect(
      (await idJag({ subject_token: accessToken, subject_token_type: ACCESS_TOKEN })).body,
    ).toMatchObject({
      error: 'invalid_request',
    })
    expect((await idJag({ audience: '' })).body).toMatchObject({ error: 'invalid_request' })
    const otherClient = await idp.issueIdToken({ sub: 'alice', aud: 'someone-else' })
    expect((await idJag({ subject_token: otherClient })).body).toMatchObject({ error: 'invalid_grant' })
  })
})

describe('jwt-bearer (RFC 7523 §2.1, workload identity)', () => {
  it('grants a token for the subject of an assertion from a trusted issuer, without client authentication', async () => {
    const { status, body } = await token(as, {
      grant_type: JWT_BEARER,
      assertion: await workloadAssertion(),
      client_id: 'gateway-workload',
      scope: 'mcp:read',
    })
    expect(status).toBe(200)
    expect(decodeJwt(body['access_token']!)).toMatchObject({
      sub: 'system:serviceaccount:prod:gateway',
      client_id: 'gateway-workload',
      scope: 'mcp:read',
      aud: mcp.url,
    })
    expect(as.tokenRequests[0]).toMatchObject({ grantType: JWT_BEARER, authMethod: 'none', status: 200 })
  })

  it.each([
    [
      'a wrong audience',
      () => workloadAssertion({ aud: 'https://wrong.example' }),
      'assertion audience is not accepted here',
    ],
    ['an expired assertion', () => workloadAssertion({}, -60), 'assertion is expired'],
  ])('refuses %s with invalid_grant', async (_name, make, description) => {
    const { status, body } = await token(as, { grant_type: JWT_BEARER, assertion: await make() })
    expect({ status, ...body }).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: description,
    })
  })

  it('refuses a missing assertion and one from an untrusted issuer', async () => {
    expect((await token(as, { grant_type: JWT_BEARER })).body).toMatchObject({ error: 'invalid_request' })
    const stranger = createMockOAuthServer({ issuer: 'https://stranger.mock.test' })
    const assertion = await stranger.issueToken({ aud: as.issuer }, { typ: 'JWT' })
    expect((await token(as, { grant_type: JWT_BEARER, assertion })).body).toMatchObject({
      error: 'invalid_grant',
      error_description: 'assertion issuer is not trusted',
    })
  })

  it('advertises the grants in its metadata', async () => {
    const metadata = await (await fetch(as.metadataUrl)).json()
    expect(metadata.grant_types_supported).toEqual(['client_credentials', TOKEN_EXCHANGE, JWT_BEARER])
    expect(metadata.dpop_signing_alg_values_supported).toContain('ES256')
  })

  it('rejects bad trustedIssuers and idJagTtlSeconds options with a TypeError naming them', () => {
    expect(() => createMockOAuthServer({ trustedIssuers: [{ issuer: 'x' } as never] })).toThrow(
      /"trustedIssuers"/,
    )
    expect(() => createMockOAuthServer({ idJagTtlSeconds: 0 })).toThrow(/"idJagTtlSeconds"/)
  })
})
