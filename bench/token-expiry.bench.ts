// Token expiry under concurrency: the SDK's own ClientCredentialsProvider against our
// ClientCredentialsTokenProvider + createAuthFetch, in the same run, against the testkit's real
// loopback servers. 200 concurrent tool calls are fired right after the token has expired.
//
//   npx tsx bench/token-expiry.bench.ts
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createAuthFetch } from '@mcp-oauth2/mcp-transport'
import { startMockServers } from '@mcp-oauth2/testkit'
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

const CONCURRENCY = 200
const TTL_SECONDS = 3

interface Outcome {
  name: string
  tokenRequests: number
  unauthorized: number
  failedCalls: number
  wallMs: number
}

async function run(
  name: string,
  makeTransport: (url: string, issuer: string) => StreamableHTTPClientTransport,
) {
  const servers = await startMockServers({ tokenTtlSeconds: TTL_SECONDS })
  try {
    const client = new Client({ name: 'bench', version: '1.0.0' })
    await client.connect(makeTransport(servers.mcp.url, servers.oauth.issuer))
    await client.listTools()
    // Let the token expire, then measure only what happens from here on.
    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 200))
    const tokenBefore = servers.oauth.server.tokenRequests.length
    const requestsBefore = servers.mcp.server.requests.length
    const started = performance.now()
    const results = await Promise.allSettled(
      Array.from({ length: CONCURRENCY }, (_, i) =>
        client.callTool({ name: 'get_customer_info', arguments: { customer_id: `c-${i}` } }),
      ),
    )
    const wallMs = performance.now() - started
    const outcome: Outcome = {
      name,
      tokenRequests: servers.oauth.server.tokenRequests.length - tokenBefore,
      unauthorized: servers.mcp.server.requests.slice(requestsBefore).filter((r) => r.status === 401).length,
      failedCalls: results.filter((r) => r.status === 'rejected' || r.value.isError).length,
      wallMs: Math.round(wallMs),
    }
    await client.close().catch(() => {})
    return outcome
  } finally {
    await servers.close()
  }
}

const sdk = await run('SDK ClientCredentialsProvider', (url, issuer) => {
  const authProvider = new ClientCredentialsProvider({
    clientId: 'test-client',
    clientSecret: 'test-secret',
    expectedIssuer: issuer,
  })
  return new StreamableHTTPClientTransport(new URL(url), { authProvider })
})

const ours = await run('mcp-oauth2-kit auth fetch', (url) => {
  const tokenProvider = new ClientCredentialsTokenProvider({
    resourceServerUrl: url,
    clientId: 'test-client',
    clientSecret: 'test-secret',
  })
  return new StreamableHTTPClientTransport(new URL(url), {
    fetch: createAuthFetch({ serverUrl: url, tokenProvider }),
  })
})

console.log(
  `\n${CONCURRENCY} concurrent tool calls right after a ${TTL_SECONDS} s token expired (Node ${process.version})\n`,
)
console.log('| client | token requests | 401 responses | failed calls | wall time |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const o of [sdk, ours]) {
  console.log(`| ${o.name} | ${o.tokenRequests} | ${o.unauthorized} | ${o.failedCalls} | ${o.wallMs} ms |`)
}
