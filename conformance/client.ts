// An MCP client for the official conformance suite, built only on our packages and the SDK
// Client. The suite passes the server URL as the last argument, the scenario in
// MCP_CONFORMANCE_SCENARIO and its credentials as JSON in MCP_CONFORMANCE_CONTEXT (absent for the
// DPoP scenarios); every token endpoint is found through RFC 9728 discovery from the server URL.
//
// The DPoP scenarios need `Authorization: DPoP` and a fresh proof on every MCP request. Until the
// transport has its DPoP middleware, `dpopFetch` below builds that from auth-core's public DPoP
// API (DpopKey.proof, isDpopNonceChallenge, rememberNonce); the other scenarios use the
// transport's createAuthFetch.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  type AccessToken,
  AuthorizationCodeTokenProvider,
  ClientCredentialsTokenProvider,
  type FetchLike,
  type GetTokenOptions,
  IdJagTokenProvider,
  isDpopNonceChallenge,
  JwtBearerTokenProvider,
  type PrivateKeyAlgorithm,
  type TokenProvider,
} from '../packages/auth-core/src/index.js'
import { createAuthFetch } from '../packages/mcp-transport/src/index.js'

interface ConformanceContext {
  name?: string
  client_id?: string
  client_secret?: string
  private_key_pem?: string
  signing_algorithm?: PrivateKeyAlgorithm
  // auth/enterprise-managed-authorization
  idp_client_id?: string
  idp_id_token?: string
  idp_issuer?: string
  idp_token_endpoint?: string
  // auth/wif-jwt-bearer
  valid_jwt?: string
}

/** A provider for one user: the ID token of the context goes with every getToken. */
function forUser(
  provider: TokenProvider,
  user: Pick<GetTokenOptions, 'idToken' | 'subjectToken'>,
): TokenProvider {
  return {
    getToken: (options) => provider.getToken({ ...options, ...user }),
    invalidate: (rejected) => provider.invalidate(rejected),
  }
}

/**
 * MCP requests with a DPoP-bound token (RFC 9449 §7): `Authorization: DPoP <token>` and a new
 * proof (htm, htu, iat, jti, ath) per request; a `401 use_dpop_nonce` challenge is answered once,
 * with a new proof that carries the server's nonce (kept for the origin's later requests).
 */
function dpopFetch(provider: TokenProvider): FetchLike {
  return async function dpopFetch(input, init) {
    const url = input instanceof Request ? input.url : String(input)
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    const send = async (token: AccessToken) => {
      const headers = new Headers(init?.headers)
      if (token.tokenType === 'DPoP' && token.dpopKey) {
        headers.set('authorization', `DPoP ${token.value}`)
        headers.set('dpop', await token.dpopKey.proof({ method, url, accessToken: token.value }))
      } else {
        headers.set('authorization', `Bearer ${token.value}`)
      }
      return fetch(url, { ...init, method, headers })
    }
    const token = await provider.getToken({ signal: init?.signal ?? undefined })
    const response = await send(token)
    if (token.dpopKey && isDpopNonceChallenge(response)) {
      token.dpopKey.rememberNonce(url, response.headers.get('dpop-nonce'))
      await response.body?.cancel()
      return send(token)
    }
    return response
  }
}

/** The authorization step of a server that answers at once: the callback URL is its redirect. */
async function followAuthorizationRedirect({ url }: { url: URL }): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' })
  const location = response.headers.get('location')
  if (response.status < 300 || response.status > 399 || !location)
    throw new Error(`the authorization endpoint answered ${response.status} without a redirect`)
  return new URL(location, url).href
}

function fetchFor(scenario: string, serverUrl: string, context: ConformanceContext): FetchLike {
  switch (scenario) {
    case 'auth/enterprise-managed-authorization': {
      const provider = new IdJagTokenProvider({
        resourceServerUrl: serverUrl,
        clientId: context.client_id!,
        clientSecret: context.client_secret,
        idp: { tokenUrl: context.idp_token_endpoint!, clientId: context.idp_client_id },
      })
      return createAuthFetch({
        serverUrl,
        tokenProvider: forUser(provider, { idToken: context.idp_id_token }),
      })
    }
    case 'auth/wif-jwt-bearer': {
      const tokenProvider = new JwtBearerTokenProvider({
        resourceServerUrl: serverUrl,
        clientId: context.client_id,
        assertion: context.valid_jwt!,
      })
      return createAuthFetch({ serverUrl, tokenProvider })
    }
    case 'auth/dpop':
    case 'auth/dpop-nonce': {
      const provider = new AuthorizationCodeTokenProvider({
        resourceServerUrl: serverUrl,
        clientId: 'mcp-oauth2-kit-conformance', // a public client (the suite does not check it)
        redirectUri: 'http://127.0.0.1:3000/callback',
        dpop: true,
        authorize: followAuthorizationRedirect,
      })
      return dpopFetch(provider)
    }
    default: {
      const tokenProvider = new ClientCredentialsTokenProvider({
        resourceServerUrl: serverUrl,
        clientId: context.client_id!,
        ...(context.private_key_pem
          ? {
              privateKey: context.private_key_pem,
              privateKeyAlgorithm: context.signing_algorithm ?? 'ES256',
              tokenEndpointAuthMethod: 'private_key_jwt' as const,
            }
          : { clientSecret: context.client_secret }),
      })
      return createAuthFetch({ serverUrl, tokenProvider })
    }
  }
}

async function main(): Promise<void> {
  const serverUrl = process.argv.at(-1)
  if (!serverUrl || !/^https?:/.test(serverUrl)) throw new Error('usage: client.ts <server-url>')
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as ConformanceContext
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? context.name ?? ''
  const client = new Client({ name: 'mcp-oauth2-kit-conformance', version: '0.1.0' })
  const fetch = fetchFor(scenario, serverUrl, context)
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch }))
  const { tools } = await client.listTools()
  console.log(`tools: ${tools.map((t) => t.name).join(', ')}`)
  if (tools[0]) {
    const result = await client.callTool({ name: tools[0].name, arguments: {} })
    console.log(`called ${tools[0].name}: isError=${result.isError === true}`)
  }
  await client.close()
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error)
  process.exit(1)
})
