// An authorization server on the MCP server's own origin (issue #13 item 3): its endpoints that
// have neither the shape of metadata (`/.well-known/…`) nor of a token request (form-encoded) —
// the JWKS, dynamic client registration (RFC 7591, JSON), userinfo — get nothing of ours once its
// metadata passed through the auth fetch, or when `authorizationServerUrls` names them. The MCP
// server is the testkit's, with real tokens from the testkit's authorization server on the same
// origin; msw adds the endpoints that server lacks and records every request on the wire.
import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
import { createMockMcpServer, createMockOAuthServer } from '@mcp-oauth2/testkit'
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { OAuthClientInformationMixed } from '@modelcontextprotocol/sdk/shared/auth.js'
import { context, trace } from '@opentelemetry/api'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type AuthFetchOptions, createAuthFetch } from '../src/auth-fetch.js'
import {
  MAX_LEARNED_ENDPOINTS,
  MAX_METADATA_BYTES,
} from '../src/internal/fetch/authorization-server-endpoints.js'
import { withUserContext } from '../src/user-context.js'
import { type Otel, startOtel } from './support/otel.js'

const ORIGIN = 'https://shared-as.mock.test'
const MCP_URL = `${ORIGIN}/mcp`
const oauth = createMockOAuthServer({ issuer: ORIGIN })
const mcp = createMockMcpServer({ oauth, url: MCP_URL })

/** The origin's authorization-server metadata: the testkit's endpoints, and three it lacks. */
const metadata = {
  issuer: ORIGIN,
  authorization_endpoint: `${ORIGIN}/authorize`,
  token_endpoint: oauth.tokenEndpoint,
  jwks_uri: `${ORIGIN}/jwks`,
  registration_endpoint: `${ORIGIN}/register`,
  userinfo_endpoint: `${ORIGIN}/userinfo`,
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'client_credentials'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
}

/** The endpoints the testkit's server lacks, as a real one would answer them. */
const extraEndpoints = [
  http.get(`${ORIGIN}/.well-known/oauth-authorization-server`, () => HttpResponse.json(metadata)),
  http.get(`${ORIGIN}/.well-known/openid-configuration`, () => HttpResponse.json(metadata)),
  http.get(`${ORIGIN}/jwks`, () => HttpResponse.json(oauth.publicJwks())),
  http.get(`${ORIGIN}/userinfo`, () => HttpResponse.json({ sub: 'u1' })),
  http.post(`${ORIGIN}/register`, async ({ request }) => {
    const client = (await request.json()) as Record<string, unknown>
    return HttpResponse.json({ ...client, client_id: 'registered-client' }, { status: 201 })
  }),
]

/** Any other path on the origin: a JSON answer, so the tests can ask for paths of their own. */
const anyOtherPath = http.all(`${ORIGIN}/:path`, () => HttpResponse.json({}))
const msw = setupServer(...extraEndpoints, ...oauth.handlers, ...mcp.handlers, anyOtherPath)

/** What one request carried of ours (header presence only: no value is kept but the path). */
interface Seen {
  readonly method: string
  readonly path: string
  readonly cookie: boolean
  readonly user: boolean
  readonly authorization: boolean
  readonly traceparent: boolean
  readonly staticHeader: boolean
  readonly dpop: boolean
}
const seen: Seen[] = []
function record({ request }: { request: Request }) {
  const url = new URL(request.url)
  if (url.origin !== ORIGIN) return
  const has = (name: string) => request.headers.has(name)
  seen.push({
    method: request.method,
    path: url.pathname,
    cookie: has('cookie'),
    user: has('x-user-id'),
    authorization: has('authorization'),
    traceparent: has('traceparent'),
    staticHeader: has('x-api-key'),
    dpop: has('dpop'),
  })
}
const NOTHING = {
  cookie: false,
  user: false,
  authorization: false,
  traceparent: false,
  staticHeader: false,
  dpop: false,
}
const EVERYTHING = { cookie: true, user: true, authorization: true, traceparent: true, staticHeader: true }

let otel: Otel
beforeAll(() => {
  msw.listen({ onUnhandledFrame: 'error' })
  msw.events.on('request:start', record)
})
beforeEach(() => {
  otel = startOtel()
})
afterEach(async () => {
  await otel.shutdown()
  msw.resetHandlers()
  await mcp.close()
  mcp.reset()
  oauth.reset()
  seen.length = 0
})
afterAll(() => {
  msw.events.removeListener('request:start', record)
  msw.close()
})

function authFetch(extra: Partial<AuthFetchOptions> = {}) {
  return createAuthFetch({
    serverUrl: MCP_URL,
    tokenProvider: new ClientCredentialsTokenProvider({
      tokenUrl: oauth.tokenEndpoint,
      clientId: 'test-client',
      clientSecret: 'test-secret',
      scope: 'mcp:read customer:read',
    }),
    cookies: { allow: ['session_id'] },
    headers: { allow: ['x-user-id'] },
    staticHeaders: { 'x-api-key': 'static-value' },
    telemetry: { tracerProvider: otel.tracerProvider },
    ...extra,
  })
}

/** Runs `fn` for a user (cookie and header) inside an active span, so everything could be added. */
function asUser<T>(fn: () => Promise<T>): Promise<T> {
  const span = otel.tracerProvider.getTracer('test').startSpan('gateway request')
  return context
    .with(trace.setSpan(context.active(), span), () =>
      withUserContext({ cookie: 'session_id=abc; theme=dark', headers: { 'x-user-id': 'u1' } }, fn),
    )
    .finally(() => span.end())
}

const jsonPost = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json' },
  body: JSON.stringify(body),
})
const MCP_PING = { jsonrpc: '2.0', id: 1, method: 'ping' }

/** The requests seen for `path`, without their method and path. */
function to(path: string) {
  return seen.filter((r) => r.path === path).map(({ method: _m, path: _p, ...rest }) => rest)
}

describe("the authorization server's endpoints on the MCP server's origin", () => {
  it('get no cookie, user header, bearer, static header, DPoP proof or trace context once its metadata passed through', async () => {
    const fetch = authFetch()
    await asUser(async () => {
      // Before discovery a JSON POST to /register is indistinguishable from an MCP request.
      await (await fetch(`${ORIGIN}/register`, jsonPost({ client_name: 'early' }))).text()
      const response = await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)
      expect(await response.json()).toEqual(metadata)
      await (await fetch(`${ORIGIN}/jwks`)).text()
      await (await fetch(`${ORIGIN}/register`, jsonPost({ client_name: 'late' }))).text()
      await (await fetch(`${ORIGIN}/userinfo?claims=email`)).text()
      // Not in serialised form: still the same endpoint, as fetch would send it.
      await (await fetch('https://SHARED-AS.mock.test:443/./jwks')).text()
      await (await fetch(MCP_URL, jsonPost(MCP_PING))).text()
    })
    expect(to('/register')[0]).toMatchObject(EVERYTHING)
    expect(to('/register')[1]).toEqual(NOTHING)
    expect(to('/jwks')).toEqual([NOTHING, NOTHING])
    expect(to('/userinfo')).toEqual([NOTHING])
    expect(to('/.well-known/oauth-authorization-server')).toEqual([NOTHING])
    // The MCP server's own requests still get everything.
    expect(to('/mcp')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it('grow with each document: a URL asked about before is recognised once a later document names it', async () => {
    msw.use(
      http.get(`${ORIGIN}/.well-known/openid-configuration`, () =>
        HttpResponse.json({ ...metadata, end_session_endpoint: `${ORIGIN}/logout` }),
      ),
    )
    const fetch = authFetch()
    await asUser(async () => {
      await (await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).text()
      await (await fetch(`${ORIGIN}/logout`)).text()
      await (await fetch(`${ORIGIN}/.well-known/openid-configuration`)).text()
      await (await fetch(`${ORIGIN}/logout`)).text()
    })
    expect(to('/logout')).toEqual([expect.objectContaining(EVERYTHING), NOTHING])
  })

  it('are known to a request made as soon as the caller has read the metadata, however it reads it', async () => {
    const fetch = authFetch()
    await asUser(async () => {
      const response = await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)
      // A reader of its own: its last read ends one microtask before the auth fetch's copy.
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      while (!(await reader.read()).done) {}
      const [register, mcpCall] = await Promise.all([
        fetch(`${ORIGIN}/register`, jsonPost({ client_name: 'right after' })),
        fetch(MCP_URL, jsonPost(MCP_PING)),
      ])
      await Promise.all([register.text(), mcpCall.text()])
    })
    expect(to('/register')).toEqual([NOTHING])
    expect(to('/mcp')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it('learn from protected-resource metadata and the SDK discovery of a real client, then its tool calls still carry the user', async () => {
    const fetch = authFetch()
    await asUser(async () => {
      const client = new Client({ name: 'shared-origin', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(MCP_URL), { fetch }))
      // The PRM names the issuer (the origin itself here); the SDK's discovery reads both documents.
      await auth(registeringProvider(), { serverUrl: MCP_URL, fetchFn: fetch })
      await (await fetch(`${ORIGIN}/jwks`)).text()
      await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
      await client.close()
    })
    expect(to('/register')).toEqual([NOTHING])
    expect(to('/jwks')).toEqual([NOTHING])
    expect(mcp.toolCalls[0]!.cookies).toEqual({ session_id: 'abc' })
    const posts = seen.filter((r) => r.path === '/mcp' && r.method === 'POST')
    expect(posts.length).toBeGreaterThan(0)
    for (const post of posts) expect(post).toMatchObject(EVERYTHING)
  })

  it("reach the SDK's dynamic client registration without the user's cookie or header, or our bearer", async () => {
    const fetch = authFetch()
    const provider = registeringProvider()
    const result = await asUser(() => auth(provider, { serverUrl: MCP_URL, fetchFn: fetch }))
    expect(result).toBe('REDIRECT')
    expect(provider.registered?.client_id).toBe('registered-client')
    // Discovery, then the JSON registration: none of them got anything of ours.
    const paths = seen.map((r) => r.path)
    expect(paths).toContain('/.well-known/oauth-protected-resource/mcp')
    expect(paths).toContain('/.well-known/oauth-authorization-server')
    expect(to('/register')).toEqual([NOTHING])
    for (const request of seen) expect(request).toMatchObject(NOTHING)
  })

  it('are recognised without discovery when authorizationServerUrls names them (any query)', async () => {
    const fetch = authFetch({
      authorizationServerUrls: [
        `${ORIGIN}/jwks`,
        `${ORIGIN}/register?ignored=1`,
        'https://elsewhere.mock.test/x',
      ],
    })
    await asUser(async () => {
      await (await fetch(`${ORIGIN}/jwks?v=2`)).text()
      await (await fetch(`${ORIGIN}/register`, jsonPost({ client_name: 'x' }))).text()
      await (await fetch(`${ORIGIN}/userinfo`)).text() // not named, not discovered
      await (await fetch(MCP_URL, jsonPost(MCP_PING))).text()
    })
    expect(to('/jwks')).toEqual([NOTHING])
    expect(to('/register')).toEqual([NOTHING])
    expect(to('/userinfo')).toEqual([expect.objectContaining(EVERYTHING)])
    expect(to('/mcp')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it('send nothing of ours along a redirect chain that starts at one of them, even back on the origin', async () => {
    msw.use(
      http.get(
        `${ORIGIN}/moved-jwks`,
        () => new HttpResponse(null, { status: 302, headers: { location: '/jwks-here' } }),
      ),
    )
    const fetch = authFetch({ authorizationServerUrls: [`${ORIGIN}/moved-jwks`] })
    await asUser(async () => {
      const response = await fetch(`${ORIGIN}/moved-jwks`)
      expect(response.status).toBe(200)
      await response.text()
    })
    expect(to('/moved-jwks')).toEqual([NOTHING])
    expect(to('/jwks-here')).toEqual([NOTHING])
  })

  it('refuses an authorizationServerUrls entry that is not an absolute URL, or is the MCP server itself', () => {
    expect(() => authFetch({ authorizationServerUrls: ['/jwks'] })).toThrow(TypeError)
    expect(() => authFetch({ authorizationServerUrls: ['ftp://shared-as.mock.test/x'] })).toThrow(
      /authorizationServerUrls\[0\]/,
    )
    expect(() => authFetch({ authorizationServerUrls: [`${ORIGIN}/jwks`, `${MCP_URL}?x=1`] })).toThrow(
      /authorizationServerUrls\[1\]/,
    )
    expect(() => authFetch({ authorizationServerUrls: 'https://x.test/' as never })).toThrow(TypeError)
  })
})

describe('metadata documents that teach nothing', () => {
  it('a huge one: the caller gets all of it, nothing is learned', async () => {
    const huge = { ...metadata, jwks_uri: `${ORIGIN}/huge-jwks`, padding: 'x'.repeat(MAX_METADATA_BYTES) }
    msw.use(http.get(`${ORIGIN}/.well-known/oauth-authorization-server`, () => HttpResponse.json(huge)))
    const fetch = authFetch()
    await asUser(async () => {
      const response = await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)
      expect(await response.text()).toBe(JSON.stringify(huge))
      await (await fetch(`${ORIGIN}/huge-jwks`)).text()
    })
    expect(to('/huge-jwks')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it('a huge one streamed without a content-length: the caller gets all of it, nothing is learned', async () => {
    const head = JSON.stringify({ jwks_uri: `${ORIGIN}/streamed-jwks`, padding: '' }).slice(0, -2)
    const chunk = new TextEncoder().encode('y'.repeat(16 * 1024))
    const chunks = Math.ceil(MAX_METADATA_BYTES / chunk.byteLength) + 2
    msw.use(
      http.get(`${ORIGIN}/.well-known/openid-configuration`, () => {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(head))
            for (let i = 0; i < chunks; i++) controller.enqueue(chunk)
            controller.enqueue(new TextEncoder().encode('"}'))
            controller.close()
          },
        })
        return new HttpResponse(body, { headers: { 'content-type': 'application/json' } })
      }),
    )
    const fetch = authFetch()
    await asUser(async () => {
      const response = await fetch(`${ORIGIN}/.well-known/openid-configuration`)
      const document = (await response.json()) as { padding: string }
      expect(document.padding).toHaveLength(chunks * chunk.byteLength)
      await (await fetch(`${ORIGIN}/streamed-jwks`)).text()
    })
    expect(to('/streamed-jwks')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it('one that is slow to arrive: other requests to the origin are not held up by it', async () => {
    let finish: () => void = () => {}
    const finished = new Promise<void>((resolve) => {
      finish = resolve
    })
    msw.use(
      http.get(`${ORIGIN}/.well-known/oauth-authorization-server`, () => {
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode(`{"jwks_uri":"${ORIGIN}/slow-jwks"`))
            await finished
            controller.enqueue(new TextEncoder().encode('}'))
            controller.close()
          },
        })
        return new HttpResponse(body, { headers: { 'content-type': 'application/json' } })
      }),
    )
    const fetch = authFetch()
    await asUser(async () => {
      const response = await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)
      // The document is still arriving: these go on (the JWKS as the MCP origin's, not yet known).
      await (await fetch(`${ORIGIN}/slow-jwks`)).text()
      await (await fetch(`${ORIGIN}/userinfo`)).text()
      finish()
      expect(await response.json()).toEqual({ jwks_uri: `${ORIGIN}/slow-jwks` })
      await (await fetch(`${ORIGIN}/slow-jwks`)).text()
    })
    expect(to('/slow-jwks')).toEqual([expect.objectContaining(EVERYTHING), NOTHING])
    expect(to('/userinfo')).toHaveLength(1)
  })

  it('one that is not JSON, or not an object, or fails: the caller gets it as sent', async () => {
    msw.use(
      http.get(`${ORIGIN}/.well-known/oauth-authorization-server`, () => HttpResponse.text('{"jwks_uri": ')),
      http.get(`${ORIGIN}/.well-known/openid-configuration`, () => HttpResponse.json([`${ORIGIN}/jwks`])),
      http.get(`${ORIGIN}/.well-known/oauth-protected-resource/mcp`, () =>
        HttpResponse.json({ authorization_servers: [`${ORIGIN}/jwks`] }, { status: 500 }),
      ),
    )
    const fetch = authFetch()
    await asUser(async () => {
      expect(await (await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).text()).toBe(
        '{"jwks_uri": ',
      )
      expect(await (await fetch(`${ORIGIN}/.well-known/openid-configuration`)).json()).toEqual([
        `${ORIGIN}/jwks`,
      ])
      const failed = await fetch(`${ORIGIN}/.well-known/oauth-protected-resource/mcp`)
      expect(failed.status).toBe(500)
      expect(await failed.json()).toEqual({ authorization_servers: [`${ORIGIN}/jwks`] })
      await (await fetch(`${ORIGIN}/jwks`)).text()
    })
    expect(to('/jwks')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it('one that names other origins or the MCP server itself: the MCP requests keep everything', async () => {
    msw.use(
      http.get(`${ORIGIN}/.well-known/oauth-authorization-server`, () =>
        HttpResponse.json({
          ...metadata,
          jwks_uri: `${MCP_URL}?jwks`,
          registration_endpoint: 'https://elsewhere.mock.test/register',
          userinfo_endpoint: 'not a url',
          introspection_endpoint: 42,
        }),
      ),
      http.get('https://elsewhere.mock.test/register', () => HttpResponse.json({})),
    )
    const fetch = authFetch()
    await asUser(async () => {
      await (await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).text()
      await (await fetch(MCP_URL, jsonPost(MCP_PING))).text()
      await (await fetch(`${MCP_URL}?jwks`, jsonPost(MCP_PING))).text()
      await (await fetch(`${ORIGIN}/register`, jsonPost({}))).text()
    })
    expect(to('/mcp')).toEqual([expect.objectContaining(EVERYTHING), expect.objectContaining(EVERYTHING)])
    expect(to('/register')).toEqual([expect.objectContaining(EVERYTHING)])
  })

  it(`keeps at most ${MAX_LEARNED_ENDPOINTS} learned endpoints`, async () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_LEARNED_ENDPOINTS + 8 }, (_, i) => [`e${i}_endpoint`, `${ORIGIN}/e${i}`]),
    )
    msw.use(http.get(`${ORIGIN}/.well-known/oauth-authorization-server`, () => HttpResponse.json(many)))
    const fetch = authFetch({ authorizationServerUrls: [`${ORIGIN}/given`] })
    await asUser(async () => {
      await (await fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)).text()
      for (const path of ['e0', `e${MAX_LEARNED_ENDPOINTS - 1}`, `e${MAX_LEARNED_ENDPOINTS}`, 'given'])
        await (await fetch(`${ORIGIN}/${path}`)).text()
    })
    expect(to('/e0')).toEqual([NOTHING])
    expect(to(`/e${MAX_LEARNED_ENDPOINTS - 1}`)).toEqual([NOTHING])
    expect(to(`/e${MAX_LEARNED_ENDPOINTS}`)).toEqual([expect.objectContaining(EVERYTHING)])
    expect(to('/given')).toEqual([NOTHING])
  })
})

/** An interactive SDK client without a registration: `auth()` registers it (RFC 7591), then redirects. */
function registeringProvider(): OAuthClientProvider & { registered?: OAuthClientInformationMixed } {
  let registered: OAuthClientInformationMixed | undefined
  let verifier = ''
  return {
    get registered() {
      return registered
    },
    get redirectUrl() {
      return 'https://gateway.mock.test/callback'
    },
    get clientMetadata() {
      return {
        client_name: 'gateway',
        redirect_uris: ['https://gateway.mock.test/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }
    },
    clientInformation: () => registered,
    saveClientInformation: (info) => {
      registered = info
    },
    tokens: () => undefined,
    saveTokens: () => {},
    redirectToAuthorization: () => {},
    saveCodeVerifier: (v) => {
      verifier = v
    },
    codeVerifier: () => verifier,
  }
}
