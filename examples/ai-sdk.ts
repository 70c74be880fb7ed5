/**
 * Vercel AI SDK (`@ai-sdk/mcp`).
 *
 * The AI SDK's HTTP transport takes a custom `fetch`: give it our auth fetch. `tools()` returns AI
 * SDK tools for `generateText`/`streamText`; here one is executed directly, on behalf of a user
 * whose `session_id` cookie is forwarded.
 *
 * ```sh
 * MCP_SERVER_URL=https://mcp.example.com/mcp OAUTH2_CLIENT_ID=… OAUTH2_CLIENT_SECRET=… \
 *   npx tsx examples/ai-sdk.ts
 * ```
 */
import { fileURLToPath } from 'node:url'
import { createMCPClient } from '@ai-sdk/mcp'
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createAuthFetch, withUserContext } from '@mcp-oauth2/mcp-transport'

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
  const authFetch = createAuthFetch({ serverUrl, tokenProvider, cookies: { allow: ['session_id'] } })
  const client = await createMCPClient({
    // The auth fetch also takes a `Request` as input; its declared type is only narrower.
    transport: { type: 'http', url: serverUrl, fetch: authFetch as typeof globalThis.fetch },
  })
  try {
    const tools = await client.tools()
    const getCustomerInfo = tools['get_customer_info']
    if (!getCustomerInfo?.execute) throw new Error('the server has no get_customer_info tool')
    const execute = getCustomerInfo.execute
    // generateText({ model, tools, prompt }) would call it; the user context must surround that call.
    const result = (await withUserContext({ cookie }, () =>
      execute({ customer_id: 'cust-001' }, { toolCallId: 'call-1', messages: [], context: {} }),
    )) as { content: { type: string; text?: string }[] } // an MCP CallToolResult
    const block = result.content.find((block) => block.type === 'text')
    return { tools: Object.keys(tools), text: block?.text }
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
