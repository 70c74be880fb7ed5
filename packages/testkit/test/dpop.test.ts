// DPoP (RFC 9449) end to end: oauth4webapi's DPoP client gets bound tokens from the mock
// authorization server (nonces on demand) and the MCP SDK client, its requests signed with fresh
// proofs, calls the mock MCP server, which checks proofs, nonces and cnf.jkt.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { decodeJwt, exportJWK, SignJWT } from 'jose'
import { setupServer } from 'msw/node'
import * as oauth from 'oauth4webapi'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createMockMcpServer, createMockOAuthServer } from '../src/index.js'
import { client, dpopMcpClient, dpopToken, jkt, keyPair } from './helpers/dpop-client.js'

const as = createMockOAuthServer()
const asWithNonce = createMockOAuthServer({ issuer: 'https://nonce-auth.mock.test', dpop: { nonce: true } })
const asRequired = createMockOAuthServer({
  issuer: 'https://strict-auth.mock.test',
  dpop: { required: true },
})
const mcp = createMockMcpServer({ oauth: as, sse: false })
const mcpNonce = createMockMcpServer({
  oauth: as,
  url: 'https://nonce-mcp.mock.test/mcp',
  dpop: { nonce: true },
  sse: false,
})
const mcpRequired = createMockMcpServer({
  oauth: as,
  url: 'https://strict-mcp.mock.test/mcp',
  dpop: { required: true },
  sse: false,
})
const mcps = [mcp, mcpNonce, mcpRequired]
const msw = setupServer(
  ...[as, asWithNonce, asRequired].flatMap((s) => s.handlers),
  ...mcps.flatMap((s) => s.handlers),
)
const clients: Client[] = []
beforeAll(() => msw.listen({ onUnhandledFrame: 'error' }))
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  for (const s of [as, asWithNonce, asRequired, ...mcps]) s.reset()
})
afterAll(async () => {
  await Promise.all(mcps.map((s) => s.close()))
  msw.close()
})

async function rawProof(htu: string, claims: Record<string, unknown>) {
  return new SignJWT({
    htm: 'POST',
    htu,
    iat: Math.floor(Date.now() / 1000),
    jti: crypto.randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keyPair.publicKey) })
    .sign(keyPair.privateKey)
}

describe('mock authorization server', () => {
  it('binds the token to the proof key: cnf.jkt, token_type DPoP, and records it', async () => {
    const tokens = await dpopToken(as, oauth.DPoP(client, keyPair))
    expect(tokens.token_type).toBe('dpop')
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt })
    expect(as.tokenRequests[0]).toMatchObject({ status: 200, tokenType: 'DPoP', dpop: { jkt } })
  })

  it('asks for its nonce with 400 use_dpop_nonce and DPoP-Nonce, then accepts it; rotation asks again', async () => {
    const handle = oauth.DPoP(client, keyPair)
    await dpopToken(asWithNonce, handle)
    expect(asWithNonce.tokenRequests.map((r) => [r.status, r.error])).toEqual([
      [400, 'use_dpop_nonce'],
      [200, undefined],
    ])
    expect(asWithNonce.tokenRequests[1]?.dpop?.nonce).toBeTruthy()
    const fresh = asWithNonce.rotateDpopNonce()
    await dpopToken(asWithNonce, handle)
    expect(asWithNonce.tokenRequests.slice(2).map((r) => r.status)).toEqual([400, 200])
    expect(asWithNonce.tokenRequests[3]?.dpop?.nonce).toBe(fresh)
  })

  it('refuses a replayed proof, and a request without one when DPoP is required', async () => {
    const proof = await rawProof(as.tokenEndpoint, {})
    const post = (server: typeof as, headers: Record<string, string>) =>
      fetch(server.tokenEndpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('test-client:test-secret').toString('base64')}`,
          ...headers,
        },
        body: 'grant_type=client_credentials',
      })
    expect((await post(as, { dpop: proof })).status).toBe(200)
    const replay = await post(as, { dpop: proof })
    expect({ status: replay.status, ...(await replay.json()) }).toMatchObject({
      status: 400,
      error: 'invalid_dpop_proof',
      error_description: 'DPoP proof jti was already used',
    })
    const none = await post(asRequired, {})
    expect({ status: none.status, ...(await none.json()) }).toMatchObject({
      status: 400,
      error: 'invalid_dpop_proof',
    })
  })
})

describe('mock MCP server', () => {
  it('serves a DPoP client: fresh proof per request, cnf.jkt matches, records the scheme and proof', async () => {
    const handle = oauth.DPoP(client, keyPair)
    const { access_token } = await dpopToken(as, handle, { scope: 'customer:read', resource: mcp.url })
    const mcpClient = await dpopMcpClient(mcp, access_token, handle, clients)
    await mcpClient.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } })
    // Answered requests only (the SDK's GET stream may still be in flight).
    const served = mcp.requests.filter((r) => r.status >= 200 && r.status < 400)
    expect(served.length).toBeGreaterThanOrEqual(3)
    expect(served.every((r) => r.authScheme === 'DPoP' && r.dpop?.jkt === jkt)).toBe(true)
    expect(new Set(served.map((r) => r.dpop?.jti)).size).toBe(served.length)
    expect(mcp.toolCalls).toMatchObject([{ tool: 'get_customer_info', clientId: 'test-client' }])
  })

  it('asks for its nonce with 401 DPoP error="use_dpop_nonce" and DPoP-Nonce, separately from the AS', async () => {
    const handle = oauth.DPoP(client, keyPair)
    const { access_token } = await dpopToken(as, handle, { resource: mcpNonce.url })
    await dpopMcpClient(mcpNonce, access_token, handle, clients)
    const [first, second] = mcpNonce.requests
    expect(first).toMatchObject({ status: 401, authError: 'use_dpop_nonce', authScheme: 'DPoP' })
    expect(second).toMatchObject({ status: 200, jsonRpcMethod: 'initialize' })
    expect(second?.dpop?.nonce).toBeTruthy()
    expect(first?.dpop?.jti).not.toBe(second?.dpop?.jti)
  })

  it('answers the nonce challenge with the WWW-Authenticate and DPoP-Nonce headers', async () => {
    const handle = oauth.DPoP(client, keyPair)
    const { access_token } = await dpopToken(as, handle, { resource: mcpNonce.url })
    const response = await fetch(mcpNonce.url, {
      method: 'POST',
      headers: {
        authorization: `DPoP ${access_token}`,
        dpop: await rawProof(mcpNonce.url, { ath: await sha256(access_token) }),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{}',
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(
      /^DPoP error="use_dpop_nonce", error_description="[^"]+", algs="[^"]*ES256[^"]*", resource_metadata="https:\/\/nonce-mcp\.mock\.test\/\.well-known\/oauth-protected-resource\/mcp"$/,
    )
    expect(response.headers.get('dpop-nonce')).toBeTruthy()
  })

  it('refuses a DPoP-bound token sent as Bearer, and a proof by another key', async () => {
    const { access_token } = await dpopToken(as, oauth.DPoP(client, keyPair), { resource: mcp.url })
    const asBearer = await mcp.handle(
      new Request(mcp.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}` },
        body: '{}',
      }),
    )
    expect(asBearer.status).toBe(401)
    expect(mcp.requests.at(-1)).toMatchObject({ authError: 'invalid_token', authScheme: 'Bearer' })
    const otherKeys = await oauth.generateKeyPair('ES256')
    await expect(dpopMcpClient(mcp, access_token, oauth.DPoP(client, otherKeys), clients)).rejects.toThrow()
    expect(mcp.requests.at(-1)).toMatchObject({ status: 401, authError: 'invalid_dpop_proof' })
  })

  it('with DPoP required, challenges with DPoP only and refuses Bearer tokens', async () => {
    const bearer = await as.issueToken({ aud: mcpRequired.url })
    const response = await mcpRequired.handle(
      new Request(mcpRequired.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}` },
        body: '{}',
      }),
    )
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/)
    const anonymous = await mcpRequired.handle(new Request(mcpRequired.url, { method: 'POST', body: '{}' }))
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^DPoP algs="/)
    const metadata = await (await fetch(mcpRequired.resourceMetadataUrl)).json()
    expect(metadata).toMatchObject({ dpop_bound_access_tokens_required: true })
    expect(metadata.dpop_signing_alg_values_supported).toContain('ES256')
    expect(await (await fetch(mcp.resourceMetadataUrl)).json()).not.toHaveProperty(
      'dpop_bound_access_tokens_required',
    )
  })
})

async function sha256(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))
  return Buffer.from(digest).toString('base64url')
}
