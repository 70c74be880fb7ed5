// An MCP client for the official conformance suite, built only on our packages and the SDK
// Client. The suite passes the server URL as the last argument and the credentials as JSON in
// MCP_CONFORMANCE_CONTEXT; the token endpoint is found through RFC 9728 discovery.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ClientCredentialsTokenProvider, type PrivateKeyAlgorithm } from '../packages/auth-core/src/index.js'
import { createAuthFetch } from '../packages/mcp-transport/src/index.js'

interface ConformanceContext {
  name?: string
  client_id: string
  client_secret?: string
  private_key_pem?: string
  signing_algorithm?: PrivateKeyAlgorithm
}

async function main(): Promise<void> {
  const serverUrl = process.argv.at(-1)
  if (!serverUrl || !/^https?:/.test(serverUrl)) throw new Error('usage: client.ts <server-url>')
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as ConformanceContext
  const tokenProvider = new ClientCredentialsTokenProvider({
    resourceServerUrl: serverUrl,
    clientId: context.client_id,
    ...(context.private_key_pem
      ? {
          privateKey: context.private_key_pem,
          privateKeyAlgorithm: context.signing_algorithm ?? 'ES256',
          tokenEndpointAuthMethod: 'private_key_jwt' as const,
        }
      : { clientSecret: context.client_secret }),
  })
  const client = new Client({ name: 'mcp-oauth2-kit-conformance', version: '0.1.0' })
  const fetch = createAuthFetch({ serverUrl, tokenProvider })
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
