import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createToolScopePolicy, InsufficientScopeError, JwtScopeVerifier } from '@mcp-oauth2/auth-core'
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

export interface GuardedServerOptions {
  /** The authorization server's issuer (the tokens' `iss`). */
  issuer: string
  /** Its JWK Set. */
  jwksUri: string
  port?: number
}

/** What the SDK's express app hands to handlers: the parsed JSON body, and `auth` after requireBearerAuth. */
type McpRequest = IncomingMessage & { body?: unknown; auth?: AuthInfo }

/** Which scopes each tool needs. Tools it does not name are denied. */
const policy = createToolScopePolicy({
  get_customer_info: ['customer:read'],
  create_support_ticket: ['ticket:create'],
})

export async function startGuardedServer({ issuer, jwksUri, port = 0 }: GuardedServerOptions) {
  const app = createMcpExpressApp()
  const server: Server = app.listen(port, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const url = `${origin}/mcp`
  const resourceMetadata = `${origin}/.well-known/oauth-protected-resource/mcp`

  const verifier = new JwtScopeVerifier({
    issuer,
    jwksUri,
    audience: url, // tokens must be issued for this server (RFC 8707 resource)
    typ: 'at+jwt', // RFC 9068 access tokens only, not ID tokens
    resourceMetadata, // named in every WWW-Authenticate challenge
  })

  // RFC 9728: tells clients which authorization server issues tokens for this server.
  const metadata = { resource: url, authorization_servers: [issuer], scopes_supported: ['customer:read'] }
  app.get('/.well-known/oauth-protected-resource/mcp', (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata))
  })

  app.post(
    '/mcp',
    // 401 + WWW-Authenticate: Bearer error="invalid_token" for a missing or bad token.
    requireBearerAuth({ verifier: verifier.toMcpTokenVerifier(), resourceMetadataUrl: resourceMetadata }),
    // 403 + WWW-Authenticate: Bearer error="insufficient_scope", scope="…" for a tool call the token's
    // scopes do not cover, before the MCP server runs: clients using the auth fetch step up and retry.
    async (req: McpRequest, res: ServerResponse, next: (error?: unknown) => void) => {
      const body = req.body as { method?: unknown; params?: { name?: unknown } } | undefined
      const tool = body?.method === 'tools/call' ? body.params?.name : undefined
      if (typeof tool !== 'string' || req.auth === undefined) return next() // not a tool call
      const required = policy.requiredScopesFor(tool)
      if (required === null) {
        // A tool the policy does not know is denied, never run unchecked (fail closed).
        res.writeHead(403, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: 'access_denied', error_description: 'tool not allowed' }))
        return
      }
      try {
        await verifier.verify(req.auth.token, { requiredScopes: required }) // cached: no signature check
        next()
      } catch (error) {
        if (!(error instanceof InsufficientScopeError)) return next(error)
        res
          .writeHead(403, { 'www-authenticate': error.wwwAuthenticate, 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'insufficient_scope', error_description: error.message }))
      }
    },
    async (req: McpRequest, res: ServerResponse) => {
      const mcp = new McpServer({ name: 'customers', version: '1.0.0' })
      mcp.registerTool(
        'get_customer_info',
        { inputSchema: { customer_id: z.string() } },
        async ({ customer_id }, extra) => ({
          content: [{ type: 'text', text: `customer ${customer_id}` }],
          structuredContent: { customer_id, caller: extra.authInfo?.clientId ?? null },
        }),
      )
      // Stateless: one transport per request.
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      res.on('close', () => {
        void transport.close()
        void mcp.close()
      })
      await mcp.connect(transport)
      await transport.handleRequest(req, res, req.body)
    },
  )

  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
