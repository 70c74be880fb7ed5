// The token provider against the testkit's mock authorization server and MCP server: the server
// side verifies what the provider sends (Basic decoding, private_key_jwt signatures, resources).
import { createMockMcpServer, createMockOAuthServer } from '@mcp-oauth2/testkit'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TokenRequestError } from '../src/errors.js'
import { ClientCredentialsTokenProvider } from '../src/token-provider.js'

const keys = await generateKeyPair('ES256', { extractable: true })
const publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'gw-key-1', alg: 'ES256' }
const oauth = createMockOAuthServer({
  clients: [
    { clientId: 'gateway', clientSecret: 'a+b/c:d%e-f', allowedScopes: ['mcp:read', 'customer:read'] },
    { clientId: 'jwt-gateway', jwks: { keys: [publicJwk] }, allowedScopes: ['mcp:read'] },
  ],
})
const mcp = createMockMcpServer({ oauth })
const msw = setupServer(...oauth.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => oauth.reset())
afterAll(async () => {
  await mcp.close()
  msw.close()
})

describe('ClientCredentialsTokenProvider against the testkit', () => {
  it('discovers the authorization server from the MCP server URL and gets a token for its resource', async () => {
    const provider = new ClientCredentialsTokenProvider({
      resourceServerUrl: mcp.url,
      clientId: 'gateway',
      clientSecret: 'a+b/c:d%e-f',
      scope: 'mcp:read',
    })
    const token = await provider.getToken()
    expect(token.scopes).toEqual(['mcp:read'])
    expect(oauth.tokenRequests[0]).toMatchObject({
      clientId: 'gateway',
      authMethod: 'client_secret_basic',
      resource: [mcp.url],
      status: 200,
    })
  })

  it('authenticates with private_key_jwt, verified by the server with the public key', async () => {
    const provider = new ClientCredentialsTokenProvider({
      issuer: oauth.issuer,
      clientId: 'jwt-gateway',
      privateKey: await exportPKCS8(keys.privateKey),
      privateKeyAlgorithm: 'ES256',
      privateKeyId: 'gw-key-1',
      scope: ['mcp:read'],
    })
    await provider.getToken()
    expect(oauth.tokenRequests[0]).toMatchObject({
      clientId: 'jwt-gateway',
      authMethod: 'private_key_jwt',
      status: 200,
    })
  })

  it('is refused with a typed invalid_client for a key the server does not know', async () => {
    const other = await generateKeyPair('ES256', { extractable: true })
    const provider = new ClientCredentialsTokenProvider({
      issuer: oauth.issuer,
      clientId: 'jwt-gateway',
      privateKey: other.privateKey,
    })
    const error = await provider.getToken().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenRequestError)
    expect(error).toMatchObject({ code: 'ERR_OAUTH_ERROR_RESPONSE', error: 'invalid_client', status: 401 })
  })

  it('gets a typed invalid_scope for a scope the client may not have', async () => {
    const provider = new ClientCredentialsTokenProvider({
      resourceServerUrl: mcp.url,
      clientId: 'gateway',
      clientSecret: 'a+b/c:d%e-f',
      scope: 'admin',
    })
    await expect(provider.getToken()).rejects.toMatchObject({ error: 'invalid_scope', status: 400 })
  })

  it('retries through failNext: a 503 then success', async () => {
    oauth.failNext(1, { status: 503, error: 'temporarily_unavailable' })
    const provider = new ClientCredentialsTokenProvider({
      issuer: oauth.issuer,
      clientId: 'gateway',
      clientSecret: 'a+b/c:d%e-f',
      retry: { baseDelayMs: 1 },
    })
    await provider.getToken()
    expect(oauth.tokenRequests.map((r) => r.status)).toEqual([503, 200])
  })
})
