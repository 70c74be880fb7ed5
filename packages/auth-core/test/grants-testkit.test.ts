// The per-user and workload providers and DPoP against the testkit's mock authorization server
// (token exchange with may_act/act, ID-JAGs as an IdP, jwt-bearer, DPoP binding and nonces) and
// its mock MCP server (DPoP proofs and cnf.jkt checked), over msw.
import { createMockMcpServer, createMockOAuthServer } from '@mcp-oauth2/testkit'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  ClientCredentialsTokenProvider,
  DpopKey,
  IdJagTokenProvider,
  isDpopNonceChallenge,
  JwtBearerTokenProvider,
  TokenExchangeTokenProvider,
} from '../src/index.js'

// A workload identity issuer (say, a Kubernetes cluster) the authorization server trusts.
const k8sKeys = await generateKeyPair('ES256', { extractable: true })
const K8S = 'https://k8s.example.test'
const k8sJwk = { ...(await exportJWK(k8sKeys.publicKey)), kid: 'k8s-1', alg: 'ES256' }

const idp = createMockOAuthServer({
  issuer: 'https://idp.mock.test',
  clients: [{ clientId: 'idp-client', tokenEndpointAuthMethods: ['none'], idJagClientId: 'gateway' }],
})
const oauth = createMockOAuthServer({
  clients: [{ clientId: 'gateway', clientSecret: 'gw-secret', allowedScopes: ['mcp:read', 'customer:read'] }],
  trustedIssuers: [idp, { issuer: K8S, jwks: { keys: [k8sJwk] } }],
})
const mcp = createMockMcpServer({ oauth })
const msw = setupServer(...oauth.handlers, ...idp.handlers, ...mcp.handlers)
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(() => {
  oauth.reset()
  idp.reset()
})
afterAll(async () => {
  await mcp.close()
  msw.close()
})

const gateway = () =>
  new ClientCredentialsTokenProvider({ issuer: oauth.issuer, clientId: 'gateway', clientSecret: 'gw-secret' })

async function workloadToken(options: { aud?: string; expiresIn?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ sub: 'system:serviceaccount:mcp:gateway' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k8s-1' })
    .setIssuer(K8S)
    .setAudience(options.aud ?? oauth.issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(k8sKeys.privateKey)
}

describe('TokenExchangeTokenProvider against the testkit', () => {
  it('exchanges a user token with the gateway as actor (act), and may_act is enforced', async () => {
    const userToken = await oauth.issueToken({ sub: 'alice', aud: 'gateway', may_act: { sub: 'gateway' } })
    const provider = new TokenExchangeTokenProvider({
      resourceServerUrl: mcp.url,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      actor: gateway(),
      scope: 'mcp:read',
    })
    const token = await provider.getToken({ subjectToken: userToken })
    expect(decodeJwt(token.value)).toMatchObject({ sub: 'alice', act: { sub: 'gateway' }, aud: mcp.url })
    const exchange = oauth.tokenRequests.find((r) => r.grantType?.endsWith('token-exchange'))
    expect(exchange).toMatchObject({
      status: 200,
      issuedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    })
    const notAllowed = await oauth.issueToken({
      sub: 'bob',
      aud: 'gateway',
      may_act: { sub: 'someone-else' },
    })
    await expect(provider.getToken({ subjectToken: notAllowed })).rejects.toMatchObject({
      code: 'ERR_OAUTH_ERROR_RESPONSE',
      error: 'invalid_grant',
    })
  })

  it('reports an expired subject token and a wrong audience typed', async () => {
    const provider = new TokenExchangeTokenProvider({
      issuer: oauth.issuer,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
    })
    const expired = await oauth.issueToken({ sub: 'alice', aud: 'gateway', expiresIn: -60 })
    await expect(provider.getToken({ subjectToken: expired })).rejects.toMatchObject({
      code: 'ERR_SUBJECT_TOKEN_EXPIRED',
    })
    expect(oauth.tokenRequests).toHaveLength(0) // refused before sending
    const foreign = await oauth.issueToken({ sub: 'alice', aud: 'https://other.example' })
    await expect(provider.getToken({ subjectToken: foreign })).rejects.toMatchObject({
      error: 'invalid_grant',
    })
  })
})

describe('IdJagTokenProvider against the testkit', () => {
  it('turns an ID token into an ID-JAG at the IdP and redeems it at the MCP authorization server', async () => {
    const idToken = await idp.issueIdToken({ sub: 'alice@example.test', aud: 'idp-client' })
    const provider = new IdJagTokenProvider({
      resourceServerUrl: mcp.url,
      clientId: 'gateway',
      clientSecret: 'gw-secret',
      idp: { issuer: idp.issuer, clientId: 'idp-client' },
      scope: 'mcp:read',
    })
    const token = await provider.getToken({ idToken })
    expect(decodeJwt(token.value)).toMatchObject({ sub: 'alice@example.test', aud: mcp.url })
    expect(idp.tokenRequests[0]).toMatchObject({ tokenType: 'N_A', status: 200 })
    expect(oauth.tokenRequests[0]).toMatchObject({
      grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      status: 200,
    })
    // The MCP server accepts it.
    const response = await fetch(mcp.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token.value}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    })
    expect(response.status).toBe(200)
  })
})

describe('JwtBearerTokenProvider against the testkit', () => {
  it('gets a token for a trusted workload assertion without client authentication', async () => {
    const provider = new JwtBearerTokenProvider({
      issuer: oauth.issuer,
      assertion: workloadToken,
      scope: 'mcp:read',
    })
    const token = await provider.getToken()
    expect(decodeJwt(token.value)).toMatchObject({ sub: 'system:serviceaccount:mcp:gateway' })
    expect(oauth.tokenRequests[0]).toMatchObject({ clientId: undefined, status: 200 })
    expect(oauth.tokenRequests[0]!.headers['authorization']).toBeUndefined()
  })

  it('reports a wrong audience once, typed', async () => {
    const provider = new JwtBearerTokenProvider({
      issuer: oauth.issuer,
      assertion: () => workloadToken({ aud: 'https://wrong.example' }),
    })
    await expect(provider.getToken()).rejects.toMatchObject({ error: 'invalid_grant' })
    expect(oauth.tokenRequests).toHaveLength(1)
  })
})

describe('DPoP against the testkit', () => {
  it('binds the token to the key (cnf.jkt), answers the nonce challenge, and the MCP server accepts the proofs', async () => {
    const dpopOAuth = createMockOAuthServer({
      clients: [{ clientId: 'gateway', clientSecret: 'gw-secret' }],
      dpop: { nonce: true },
    })
    const dpopMcp = createMockMcpServer({
      oauth: dpopOAuth,
      url: 'https://dpop-mcp.mock.test/mcp',
      dpop: { nonce: true },
    })
    msw.use(...dpopOAuth.handlers, ...dpopMcp.handlers)
    try {
      const key = new DpopKey()
      const provider = new ClientCredentialsTokenProvider({
        issuer: dpopOAuth.issuer,
        clientId: 'gateway',
        clientSecret: 'gw-secret',
        resource: dpopMcp.url,
        dpop: key,
      })
      const token = await provider.getToken()
      expect(token.tokenType).toBe('DPoP')
      expect((decodeJwt(token.value).cnf as { jkt: string }).jkt).toBe(await key.thumbprint())
      expect(dpopOAuth.tokenRequests.map((r) => r.error ?? r.status)).toEqual(['use_dpop_nonce', 200])

      const send = async () =>
        fetch(dpopMcp.url, {
          method: 'POST',
          headers: {
            authorization: `DPoP ${token.value}`,
            dpop: await key.proof({ method: 'POST', url: dpopMcp.url, accessToken: token.value }),
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: {
              protocolVersion: '2025-11-25',
              capabilities: {},
              clientInfo: { name: 't', version: '1' },
            },
          }),
        })
      let response = await send()
      expect(isDpopNonceChallenge(response)).toBe(true)
      key.rememberNonce(dpopMcp.url, response.headers.get('dpop-nonce'))
      response = await send()
      expect(response.status).toBe(200)
      // A replayed proof is refused.
      const proof = await key.proof({ method: 'POST', url: dpopMcp.url, accessToken: token.value })
      const replay = () =>
        fetch(dpopMcp.url, {
          method: 'POST',
          headers: {
            authorization: `DPoP ${token.value}`,
            dpop: proof,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
        })
      await replay()
      expect((await replay()).status).toBe(401)
    } finally {
      await dpopMcp.close()
    }
  })
})
