import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose'
import { setupServer } from 'msw/node'
import * as oauth from 'oauth4webapi'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMockOAuthServer, type MockClient } from '../src/index.js'

const clientKeys = await generateKeyPair('ES256', { extractable: true })
const clientJwk = { ...(await exportJWK(clientKeys.publicKey)), kid: 'client-key-1', alg: 'ES256' }
const TRICKY_SECRET = 's3cr3t+/:%& ü-._*~'
const clients: MockClient[] = [
  {
    clientId: 'test-client',
    clientSecret: 'test-secret',
    allowedScopes: ['mcp:read', 'mcp:write', 'customer:read'],
    defaultScopes: ['mcp:read'],
  },
  { clientId: 'jwt-client', jwks: { keys: [clientJwk] }, allowedScopes: ['mcp:read'] },
  { clientId: 'odd-client:id-1', clientSecret: TRICKY_SECRET },
]
const as = createMockOAuthServer({ clients })
const msw = setupServer(...as.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => as.reset())
afterAll(() => msw.close())

const issuerUrl = new URL(as.issuer)
async function discover(): Promise<oauth.AuthorizationServer> {
  return oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl))
}

async function tokenWith(clientId: string, auth: oauth.ClientAuth, params: Record<string, string> = {}) {
  const server = await discover()
  const client = { client_id: clientId }
  const response = await oauth.clientCredentialsGrantRequest(server, client, auth, params)
  return oauth.processClientCredentialsResponse(server, client, response)
}

function form(params: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) body.append(k, item)
  return body
}

function basic(id: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part, then base64.
  const enc = (s: string) => new URLSearchParams({ s }).toString().slice(2)
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`
}

async function postToken(body: URLSearchParams, headers: Record<string, string> = {}) {
  return fetch(as.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  })
}

describe('metadata', () => {
  it('serves RFC 8414 metadata that oauth4webapi accepts', async () => {
    const server = await discover()
    expect(server).toMatchObject({
      issuer: as.issuer,
      token_endpoint: as.tokenEndpoint,
      jwks_uri: as.jwksUri,
      authorization_endpoint: `${as.issuer}/authorize`,
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
    })
    expect(server.token_endpoint_auth_signing_alg_values_supported).toContain('ES256')
    expect(as.metadataUrl).toBe(`${as.issuer}/.well-known/oauth-authorization-server`)
  })

  it('serves OpenID configuration with the same endpoints', async () => {
    const server = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, { algorithm: 'oidc' }),
    )
    expect(server.token_endpoint).toBe(as.tokenEndpoint)
    expect(server.jwks_uri).toBe(as.jwksUri)
  })

  it('puts the issuer path after the well-known segment for an issuer with a path', async () => {
    const tenant = createMockOAuthServer({ issuer: 'https://auth.mock.test/tenant-a/' })
    expect(tenant.issuer).toBe('https://auth.mock.test/tenant-a')
    expect(tenant.metadataUrl).toBe('https://auth.mock.test/.well-known/oauth-authorization-server/tenant-a')
    const res = await tenant.handle(new Request(tenant.metadataUrl))
    expect(await res.json()).toMatchObject({ issuer: tenant.issuer, token_endpoint: tenant.tokenEndpoint })
  })
})

describe('token endpoint', () => {
  it('issues an RFC 9068 access token over client_secret_basic that jose verifies through the JWKS', async () => {
    const tokens = await tokenWith('test-client', oauth.ClientSecretBasic('test-secret'), {
      scope: 'mcp:read customer:read',
      resource: 'https://mcp.example.test/mcp',
    })
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'mcp:read customer:read' })
    const jwks = createRemoteJWKSet(new URL(as.jwksUri))
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: as.issuer,
      audience: 'https://mcp.example.test/mcp',
      typ: 'at+jwt',
    })
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' })
    expect(payload).toMatchObject({
      sub: 'test-client',
      client_id: 'test-client',
      scope: 'mcp:read customer:read',
    })
    expect(payload.exp! - payload.iat!).toBe(3600)
    expect(typeof payload.jti).toBe('string')
    expect(as.tokenRequests).toEqual([
      expect.objectContaining({
        clientId: 'test-client',
        authMethod: 'client_secret_basic',
        grantType: 'client_credentials',
        scope: ['mcp:read', 'customer:read'],
        resource: ['https://mcp.example.test/mcp'],
        status: 200,
        grantedScope: ['mcp:read', 'customer:read'],
      }),
    ])
    expect(as.tokenRequests[0]?.headers['authorization']).toMatch(/^Basic /)
  })

  it('answers with Cache-Control: no-store and token_type Bearer', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials' }), {
      authorization: basic('test-client', 'test-secret'),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mcp:read' })
  })

  it('accepts client_secret_post', async () => {
    const tokens = await tokenWith('test-client', oauth.ClientSecretPost('test-secret'))
    expect(tokens.scope).toBe('mcp:read')
    expect(as.tokenRequests[0]).toMatchObject({ authMethod: 'client_secret_post', clientId: 'test-client' })
  })

  it('accepts private_key_jwt assertions signed with the registered key', async () => {
    const tokens = await tokenWith(
      'jwt-client',
      oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: 'client-key-1' }),
    )
    expect(tokens.scope).toBe('mcp:read')
    expect(as.tokenRequests[0]).toMatchObject({
      authMethod: 'private_key_jwt',
      clientId: 'jwt-client',
      status: 200,
    })
  })

  it('rejects a replayed private_key_jwt assertion', async () => {
    await tokenWith('jwt-client', oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: 'client-key-1' }))
    const replay = await postToken(form(as.tokenRequests[0]!.params))
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('rejects a private_key_jwt assertion signed by another key', async () => {
    const other = await generateKeyPair('ES256')
    const err = await tokenWith(
      'jwt-client',
      oauth.PrivateKeyJwt({ key: other.privateKey, kid: 'client-key-1' }),
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(oauth.ResponseBodyError)
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 })
  })

  it('decodes form-urlencoded Basic credentials, so secrets with + / : % work', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials' }), {
      authorization: basic('odd-client:id-1', TRICKY_SECRET),
    })
    expect(res.status).toBe(200)
    // oauth4webapi's own Basic encoding (which escapes more characters) decodes the same way.
    const tokens = await tokenWith('odd-client:id-1', oauth.ClientSecretBasic(TRICKY_SECRET))
    expect(tokens.access_token).toBeTruthy()
  })

  it('answers invalid_client 401 with WWW-Authenticate: Basic when Basic credentials are wrong', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials' }), {
      authorization: basic('test-client', 'wrong'),
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
    expect(await res.json()).toMatchObject({ error: 'invalid_client' })
    const err = await tokenWith('test-client', oauth.ClientSecretBasic('wrong')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(oauth.WWWAuthenticateChallengeError)
    expect(as.tokenRequests.map((r) => [r.status, r.error])).toEqual([
      [401, 'invalid_client'],
      [401, 'invalid_client'],
    ])
  })

  it('answers invalid_client 401 without a Basic challenge when client_secret_post is wrong', async () => {
    const err = await tokenWith('test-client', oauth.ClientSecretPost('wrong')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(oauth.ResponseBodyError)
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 })
  })

  it('answers invalid_client for an unknown client', async () => {
    const err = await tokenWith('nobody', oauth.ClientSecretPost('x')).catch((e: unknown) => e)
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 })
  })

  it('answers invalid_request without grant_type, with a non-form body, or with two auth methods', async () => {
    const auth = { authorization: basic('test-client', 'test-secret') }
    const missing = await postToken(form({}), auth)
    expect([missing.status, (await missing.json()).error]).toEqual([400, 'invalid_request'])
    const json = await fetch(as.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    })
    expect([json.status, (await json.json()).error]).toEqual([400, 'invalid_request'])
    const twice = await postToken(
      form({ grant_type: 'client_credentials', client_id: 'test-client', client_secret: 'test-secret' }),
      auth,
    )
    expect([twice.status, (await twice.json()).error]).toEqual([400, 'invalid_request'])
  })

  it('answers unsupported_grant_type for other grants', async () => {
    const res = await postToken(form({ grant_type: 'password', username: 'a', password: 'b' }), {
      authorization: basic('test-client', 'test-secret'),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' })
  })

  it('answers invalid_scope when any requested scope is not allowed', async () => {
    const err = await tokenWith('test-client', oauth.ClientSecretBasic('test-secret'), {
      scope: 'mcp:read admin:all',
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ error: 'invalid_scope', status: 400 })
    expect(as.tokenRequests[0]).toMatchObject({
      status: 400,
      error: 'invalid_scope',
      scope: ['mcp:read', 'admin:all'],
    })
  })

  it('grants the default scopes when none are requested', async () => {
    const tokens = await tokenWith('test-client', oauth.ClientSecretBasic('test-secret'))
    expect(tokens.scope).toBe('mcp:read')
  })

  it('sets aud from resource, then audience, then defaultAudience', async () => {
    const aud = async (params: Record<string, string>, server = as) => {
      const body = form({ grant_type: 'client_credentials', ...params })
      const res = await server.handle(
        new Request(server.tokenEndpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basic('test-client', 'test-secret'),
          },
          body,
        }),
      )
      const { access_token } = (await res.json()) as { access_token: string }
      return JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()).aud
    }
    expect(await aud({ resource: 'https://r.test/mcp' })).toBe('https://r.test/mcp')
    expect(await aud({ audience: 'api://x' })).toBe('api://x')
    expect(await aud({})).toBeUndefined()
    const withDefault = createMockOAuthServer({ defaultAudience: ['a', 'b'] })
    expect(await aud({}, withDefault)).toEqual(['a', 'b'])
  })

  it('answers invalid_target for a resource that is not an absolute URI', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials', resource: 'not a uri' }), {
      authorization: basic('test-client', 'test-secret'),
    })
    expect([res.status, (await res.json()).error]).toEqual([400, 'invalid_target'])
  })
})

describe('failNext', () => {
  it('fails the next n requests with the given status, error and headers, then recovers', async () => {
    as.failNext(2, { status: 503, headers: { 'retry-after': '1' }, errorDescription: 'down for maintenance' })
    const auth = { authorization: basic('test-client', 'test-secret') }
    for (let i = 0; i < 2; i++) {
      const res = await postToken(form({ grant_type: 'client_credentials' }), auth)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(await res.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'down for maintenance',
      })
    }
    const ok = await postToken(form({ grant_type: 'client_credentials' }), auth)
    expect(ok.status).toBe(200)
    expect(as.tokenRequests.map((r) => r.status)).toEqual([503, 503, 200])
  })

  it('fails with a raw body such as an HTML error page', async () => {
    as.failNext(1, {
      status: 502,
      body: '<html>Bad gateway</html>',
      headers: { 'content-type': 'text/html' },
    })
    const err = await tokenWith('test-client', oauth.ClientSecretBasic('test-secret')).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(oauth.OperationProcessingError)
    expect(as.tokenRequests[0]?.status).toBe(502)
  })

  it('fails at the network level with networkError', async () => {
    as.failNext(1, { networkError: true })
    await expect(
      postToken(form({ grant_type: 'client_credentials' }), {
        authorization: basic('test-client', 'test-secret'),
      }),
    ).rejects.toThrow(TypeError)
    expect(as.tokenRequests[0]).toMatchObject({ status: 0, error: 'network_error', clientId: 'test-client' })
  })

  it('delays the failure by delayMs', async () => {
    as.failNext(1, { delayMs: 150, status: 500, error: 'server_error' })
    const started = performance.now()
    const res = await postToken(form({ grant_type: 'client_credentials' }), {
      authorization: basic('test-client', 'test-secret'),
    })
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    expect([res.status, (await res.json()).error]).toEqual([500, 'server_error'])
  })

  it('delayNext delays successful answers', async () => {
    as.delayNext(1, 100)
    const started = performance.now()
    const tokens = await tokenWith('test-client', oauth.ClientSecretBasic('test-secret'))
    expect(performance.now() - started).toBeGreaterThanOrEqual(90)
    expect(tokens.access_token).toBeTruthy()
  })

  it('fails the JWKS or metadata endpoints with endpoint, each with its own queue', async () => {
    as.failNext(1, { endpoint: 'jwks', status: 500 })
    as.failNext(1, { endpoint: 'metadata', networkError: true })
    expect((await fetch(as.jwksUri)).status).toBe(500)
    expect((await fetch(as.jwksUri)).status).toBe(200)
    await expect(fetch(as.metadataUrl)).rejects.toThrow(TypeError)
    expect((await fetch(as.metadataUrl)).status).toBe(200)
    expect(as.tokenRequests).toEqual([])
  })

  it('records every request to every endpoint', async () => {
    await fetch(as.metadataUrl)
    await fetch(as.jwksUri)
    await tokenWith('test-client', oauth.ClientSecretBasic('test-secret'))
    expect(as.requests.map((r) => [r.endpoint, r.status])).toEqual([
      ['metadata', 200],
      ['jwks', 200],
      ['metadata', 200],
      ['token', 200],
    ])
  })

  it('reset clears records and pending failures', async () => {
    as.failNext(3)
    await postToken(form({ grant_type: 'client_credentials' }))
    as.reset()
    expect(as.tokenRequests).toEqual([])
    const tokens = await tokenWith('test-client', oauth.ClientSecretBasic('test-secret'))
    expect(tokens.access_token).toBeTruthy()
  })
})

describe('issueToken, clock and keys', () => {
  const verifyOptions = { issuer: as.issuer, typ: 'at+jwt' }

  it('issues tokens with custom claims, and expired ones with a negative expiresIn', async () => {
    const jwks = createRemoteJWKSet(new URL(as.jwksUri))
    const token = await as.issueToken({ aud: 'https://x.test', scope: ['a', 'b'], sub: 'user-1' })
    const { payload } = await jwtVerify(token, jwks, { ...verifyOptions, audience: 'https://x.test' })
    expect(payload).toMatchObject({ scope: 'a b', sub: 'user-1', client_id: 'test-client' })
    const expired = await as.issueToken({ aud: 'https://x.test', expiresIn: -60 })
    await expect(jwtVerify(expired, jwks, verifyOptions)).rejects.toBeInstanceOf(errors.JWTExpired)
  })

  it('leaves out claims set to undefined and honours kid/typ overrides', async () => {
    const token = await as.issueToken(
      { exp: undefined, scope: undefined },
      { kid: 'unknown-kid', typ: 'JWT' },
    )
    expect(decodeProtectedHeader(token)).toMatchObject({ kid: 'unknown-kid', typ: 'JWT' })
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
    expect(payload.exp).toBeUndefined()
    expect(payload.scope).toBeUndefined()
  })

  it('uses the injected clock for iat/exp, settable with setNow and advanceTime', async () => {
    const server = createMockOAuthServer({ now: () => 1_700_000_000_000 })
    const iat = async () =>
      JSON.parse(Buffer.from((await server.issueToken()).split('.')[1]!, 'base64url').toString()).iat
    expect(await iat()).toBe(1_700_000_000)
    server.advanceTime(10_000)
    expect(await iat()).toBe(1_700_000_010)
    server.setNow(() => 1_800_000_000_000)
    expect(await iat()).toBe(1_800_000_000)
  })

  it('gives every server its own kid, so tokens of one server never match the JWKS of another', async () => {
    const other = createMockOAuthServer({ issuer: 'https://other.mock.test' })
    const token = await other.issueToken({ iss: as.issuer })
    expect(other.publicJwks().keys[0]?.kid).not.toBe(as.publicJwks().keys[0]?.kid)
    await expect(
      jwtVerify(token, createRemoteJWKSet(new URL(as.jwksUri)), verifyOptions),
    ).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey)
  })

  it('signs with ES256 when asked', async () => {
    const server = createMockOAuthServer({ algorithm: 'ES256' })
    expect(decodeProtectedHeader(await server.issueToken()).alg).toBe('ES256')
    expect(server.publicJwks().keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
  })

  it('rotateKeys serves only the new key, so old tokens stop verifying', async () => {
    const before = await as.issueToken()
    const oldKid = decodeProtectedHeader(before).kid
    await as.rotateKeys()
    const after = await as.issueToken()
    const kids = as.publicJwks().keys.map((k) => k.kid)
    expect(kids).toEqual([decodeProtectedHeader(after).kid])
    expect(kids).not.toContain(oldKid)
    const jwks = createRemoteJWKSet(new URL(as.jwksUri))
    await expect(jwtVerify(after, jwks, verifyOptions)).resolves.toBeTruthy()
    await expect(jwtVerify(before, jwks, verifyOptions)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey)
  })

  it('rotateKeys({ keepPrevious: true }) keeps the previous key in the JWKS', async () => {
    const before = await as.issueToken()
    await as.rotateKeys({ keepPrevious: true })
    expect(as.publicJwks().keys).toHaveLength(2)
    const jwks = createRemoteJWKSet(new URL(as.jwksUri))
    await expect(jwtVerify(before, jwks, verifyOptions)).resolves.toBeTruthy()
    await as.rotateKeys()
    expect(as.publicJwks().keys).toHaveLength(1)
  })
})

describe('options', () => {
  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => createMockOAuthServer({ issuer: 'nope' })).toThrow(/"issuer"/)
    expect(() => createMockOAuthServer({ tokenTtlSeconds: 0 })).toThrow(/"tokenTtlSeconds"/)
    expect(() => createMockOAuthServer({ clients: [{ clientId: 'a' }, { clientId: 'a' }] })).toThrow(
      /"clients"/,
    )
  })

  it('rejects a bad failNext/delayNext count, delay or endpoint with a TypeError naming it', () => {
    expect(() => as.failNext(-1)).toThrow(/failNext: "n"/)
    expect(() => as.failNext(1.5)).toThrow(/failNext: "n"/)
    expect(() => as.failNext(1, { endpoint: 'nope' as never })).toThrow(/failNext: "endpoint"/)
    expect(() => as.delayNext(1, -5)).toThrow(/delayNext: "delayMs"/)
    expect(() => as.delayNext(1, 5, 'nope' as never)).toThrow(/delayNext: "endpoint"/)
  })

  it('registers the default test client with the seed scopes', () => {
    const server = createMockOAuthServer()
    expect(server.clients).toEqual([
      expect.objectContaining({
        clientId: 'test-client',
        clientSecret: 'test-secret',
        allowedScopes: ['mcp:read', 'mcp:write', 'customer:read', 'ticket:create', 'account:calculate'],
      }),
    ])
  })
})
