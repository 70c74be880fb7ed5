/**
 * LangChain.js (`@langchain/mcp-adapters`).
 *
 * `MultiServerMCPClient` has no `fetch` option, so connect an SDK v1 `Client` through our auth fetch
 * and turn its tools into LangChain tools with `loadMcpTools`. Hand them to any agent; here one is
 * invoked directly, on behalf of a user whose `session_id` cookie is forwarded.
 *
 * ```sh
 * MCP_SERVER_URL=https://mcp.example.com/mcp OAUTH2_CLIENT_ID=… OAUTH2_CLIENT_SECRET=… \
 *   npx tsx examples/langchain.ts
 * ```
 */
import { fileURLToPath } from 'node:url'
import { loadMcpTools } from '@langchain/mcp-adapters'
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createAuthFetch, withUserContext } from '@mcp-oauth2/mcp-transport'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

export interface ExampleOptions {
  /** The MCP server's Streamable HTTP endpoint. */
  serverUrl: string
  clientId: string
  clientSecret: string
  /** The user's incoming `Cookie` header; only `session_id` is forwarded. */
  cookie?: string | undefined
}

export async function main({ serverUrl, clientId, clientSecret, cookie }: ExampleOptions) {
  const tokenProvider = new ClientCredentialsTokenProvider({
    clientId,
    clientSecret,
    resourceServerUrl: serverUrl,
  })
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    fetch: createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['session_id'] } }),
  })
  const client = new Client({ name: 'my-langchain-agent', version: '1.0.0' })
  await client.connect(transport)
  try {
    const tools = await loadMcpTools('customers', client)
    const getCustomerInfo = tools.find((tool) => tool.name === 'get_customer_info')
    if (!getCustomerInfo) throw new Error('the server has no get_customer_info tool')
    // An agent would call the tool; the user context must surround that call.
    const output = await withUserContext({ cookie }, () =>
      getCustomerInfo.invoke({ customer_id: 'cust-001' }),
    )
    // The tool's output is the MCP result's content: here a single text block.
    const block = output as { type: string; text?: string }
    return { tools: tools.map((tool) => tool.name), text: block.text }
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
