import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { http } from 'msw'
import { describe, expect, it } from 'vitest'
import { createMockMcpServer, createMockOAuthServer } from '../src/index.js'
import { useMockServers, useMswServer } from '../src/vitest.js'

describe('useMswServer', () => {
  const oauth = createMockOAuthServer()
  const mcp = createMockMcpServer({ oauth })
  const server = useMswServer([...oauth.handlers, ...mcp.handlers])

  it('listens before the tests run', async () => {
    const res = await fetch(oauth.metadataUrl)
    expect(res.status).toBe(200)
  })

  it('fails requests no handler matches', async () => {
    await expect(fetch('https://unhandled.mock.test/')).rejects.toThrow()
  })

  it('resets runtime handlers after each test (part 1: override)', async () => {
    server.use(http.get(oauth.metadataUrl, () => new Response('down', { status: 503 })))
    expect((await fetch(oauth.metadataUrl)).status).toBe(503)
  })

  it('resets runtime handlers after each test (part 2: back to normal)', async () => {
    expect((await fetch(oauth.metadataUrl)).status).toBe(200)
  })
})

describe('useMockServers', () => {
  const servers = useMockServers({ stateless: true })

  it('starts loopback servers that the SDK client can use', async () => {
    const { oauth, mcp } = servers()
    const client = new Client({ name: 't', version: '1' })
    const authProvider = new ClientCredentialsProvider({
      clientId: 'test-client',
      clientSecret: 'test-secret',
      expectedIssuer: oauth.issuer,
    })
    await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider }))
    expect((await client.listTools()).tools).toHaveLength(4)
    await client.close()
  })

  it('resets records between tests', () => {
    expect(servers().oauth.server.tokenRequests).toEqual([])
    expect(servers().mcp.server.requests).toEqual([])
  })
})
