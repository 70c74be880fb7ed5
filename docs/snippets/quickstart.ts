import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createAuthFetch, withUserContext } from '@mcp-oauth2/mcp-transport'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

export interface QuickstartOptions {
  /** The MCP server's Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp */
  serverUrl: string
  clientId: string
  clientSecret: string
  /** The user's incoming Cookie header (in a gateway: the request's `cookie` header). */
  userCookie: string
}

export async function quickstart({ serverUrl, clientId, clientSecret, userCookie }: QuickstartOptions) {
  // 1. One token provider per OAuth client. It finds the authorization server from the MCP
  //    server's RFC 9728 metadata, caches the token and refreshes it before it expires.
  const tokenProvider = new ClientCredentialsTokenProvider({
    clientId,
    clientSecret,
    resourceServerUrl: serverUrl,
    scope: 'mcp:read customer:read',
  })

  // 2. The auth fetch adds `Authorization: Bearer …` (and the allowed user cookies) to requests
  //    to the MCP server's origin, and nothing to any other origin.
  const fetch = createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['session_id'] } })

  // 3. The official SDK client, unmodified: the auth fetch is its `fetch` option.
  const client = new Client({ name: 'my-gateway', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch }))
  try {
    // Service-to-service: tool discovery as the gateway itself.
    const { tools } = await client.listTools()

    // User passthrough: inside withUserContext, the allowed cookies go along with the call.
    const result = await withUserContext({ cookie: userCookie }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } }),
    )
    return { tools: tools.map((tool) => tool.name), result }
  } finally {
    await client.close()
  }
}
