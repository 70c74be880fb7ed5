/**
 * MCP TypeScript SDK v2 (`@modelcontextprotocol/client`) client.
 *
 * SDK v2 transports take an `AuthProvider` (`token()` before each request, `onUnauthorized()` on a
 * 401): `toAuthProvider` adapts our token provider to it, so the SDK's own 401 retry gets a fresh
 * token. The user's `session_id` cookie goes through an auth fetch without a token provider.
 * `versionNegotiation: { mode: 'auto' }` speaks MCP 2026-07-28 when the server offers it (the
 * SDK's default is the 2025 handshake) and falls back to 2025-11-25 otherwise.
 *
 * ```sh
 * MCP_SERVER_URL=https://mcp.example.com/mcp OAUTH2_CLIENT_ID=… OAUTH2_CLIENT_SECRET=… \
 *   npx tsx examples/sdk-v2-client.ts
 * ```
 */
import { fileURLToPath } from 'node:url'
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createAuthFetch, toAuthProvider, withUserContext } from '@mcp-oauth2/mcp-transport'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'

export interface ExampleOptions {
  /** The MCP server's Streamable HTTP endpoint. */
  serverUrl: string
  clientId: string
  clientSecret: string
  /** The user's incoming `Cookie` header; only `session_id` is forwarded. */
  cookie?: string | undefined
}

export async function main({ serverUrl, clientId, clientSecret, cookie }: ExampleOptions) {
  // One provider per service identity: it discovers the token endpoint, caches and refreshes the token.
  const tokenProvider = new ClientCredentialsTokenProvider({
    clientId,
    clientSecret,
    resourceServerUrl: serverUrl,
  })
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    authProvider: toAuthProvider(tokenProvider),
    // Cookies only: the bearer token comes from the authProvider.
    fetch: createAuthFetch({ serverUrl, cookies: { allow: ['session_id'] } }),
  })
  const client = new Client(
    { name: 'my-gateway', version: '1.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  )
  await client.connect(transport)
  try {
    const { tools } = await client.listTools()
    // Requests made inside withUserContext carry the user's allowed cookies; others carry none.
    const result = await withUserContext({ cookie }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } }),
    )
    const block = result.content.find((block) => block.type === 'text')
    return {
      tools: tools.map((tool) => tool.name),
      text: block?.text,
      protocolVersion: client.getNegotiatedProtocolVersion(),
    }
  } finally {
    await client.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = (name: string) => {
    const value = process.env[name]
    if (!value) throw new Error(`set ${name}`)
    return value
  }
  const output = await main({
    serverUrl: env('MCP_SERVER_URL'),
    clientId: env('OAUTH2_CLIENT_ID'),
    clientSecret: env('OAUTH2_CLIENT_SECRET'),
    cookie: 'session_id=demo-session; user_id=demo-user',
  })
  console.log(output)
}
