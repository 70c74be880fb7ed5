/**
 * MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`) client.
 *
 * A gateway connects to an OAuth2-protected MCP server as a service (client credentials, the
 * authorization server found through the server's RFC 9728 metadata) and calls a tool on behalf of
 * a user, forwarding only the user's `session_id` cookie.
 *
 * ```sh
 * MCP_SERVER_URL=https://mcp.example.com/mcp OAUTH2_CLIENT_ID=… OAUTH2_CLIENT_SECRET=… \
 *   npx tsx examples/sdk-v1-client.ts
 * ```
 */
import { fileURLToPath } from 'node:url'
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createAuthFetch, withUserContext } from '@mcp-oauth2/mcp-transport'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'

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
    fetch: createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['session_id'] } }),
  })
  const client = new Client({ name: 'my-gateway', version: '1.0.0' })
  await client.connect(transport)
  try {
    const { tools } = await client.listTools()
    // Requests made inside withUserContext carry the user's allowed cookies; others carry none.
    const result = await withUserContext({ cookie }, () =>
      client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'cust-001' } }),
    )
    // v1 types the result as a union with the legacy `toolResult` shape.
    const block = (result as CallToolResult).content.find((block) => block.type === 'text')
    return { tools: tools.map((tool) => tool.name), text: block?.text }
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
