// A DPoP client for the tests: oauth4webapi's DPoP handle for token requests (retrying once on
// use_dpop_nonce, RFC 9449 §8) and for every MCP SDK request (fresh proof each, RFC 9449 §9).
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import type { MockMcpServer, MockOAuthServer } from '../../src/index.js'

export const keyPair = await oauth.generateKeyPair('ES256', { extractable: true })
export const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256')
export const client: oauth.Client = { client_id: 'test-client' }
const auth = oauth.ClientSecretBasic('test-secret')
export const insecure = { [oauth.allowInsecureRequests]: true }

/** Client credentials with DPoP through oauth4webapi, retrying once on use_dpop_nonce as RFC 9449 §8 says. */
export async function dpopToken(
  server: MockOAuthServer,
  handle: oauth.DPoPHandle,
  params: Record<string, string> = {},
) {
  const issuer = new URL(server.issuer)
  const metadata = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, insecure),
  )
  const request = () =>
    oauth
      .clientCredentialsGrantRequest(metadata, client, auth, params, { DPoP: handle, ...insecure })
      .then((response) => oauth.processClientCredentialsResponse(metadata, client, response))
  try {
    return await request()
  } catch (error) {
    if (!oauth.isDPoPNonceError(error)) throw error
    return request()
  }
}

/** The MCP SDK client whose every request goes through oauth4webapi's DPoP protected-resource request. */
export async function dpopMcpClient(
  server: MockMcpServer,
  accessToken: string,
  handle: oauth.DPoPHandle,
  clients: Client[],
) {
  const fetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const send = () =>
      oauth.protectedResourceRequest(
        accessToken,
        init?.method ?? 'GET',
        new URL(url),
        new Headers(init?.headers),
        init?.body as oauth.ProtectedResourceRequestBody,
        { DPoP: handle, ...insecure },
      )
    try {
      return await send()
    } catch (error) {
      if (oauth.isDPoPNonceError(error)) return send().catch(challengeResponse)
      return challengeResponse(error)
    }
  }
  const mcpClient = new Client({ name: 'dpop-client', version: '1.0.0' })
  clients.push(mcpClient)
  await mcpClient.connect(new StreamableHTTPClientTransport(new URL(server.url), { fetch }))
  return mcpClient
}

function challengeResponse(error: unknown): Response {
  if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response
  throw error
}
