import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { AuthCoreError, ConfigError, DiscoveryError, TokenRequestError } from '../src/errors.js'
import { UNDERLYING_FETCH } from '../src/fetch-like.js'
import { parseRetryAfter } from '../src/internal/http.js'
import { ClientCredentialsTokenProvider } from '../src/token-provider.js'

const AS = 'https://as.example.test'
const TOKEN_URL = `${AS}/oauth2/token`

// Real loopback requests bypass msw: the fetch from before msw patched it.
const loopbackFetch = globalThis.fetch
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

interface Seen {
  body: URLSearchParams
  headers: Headers
}

/** A token endpoint that records requests and answers with a fresh token each time. */
function tokenEndpoint(options: { expiresIn?: number | null; scope?: string; url?: string } = {}) {
  const seen: Seen[] = []
  let n = 0
  server.use(
    http.post(options.url ?? TOKEN_URL, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      seen.push({ body, headers: request.headers })
      n++
      return HttpResponse.json(
        {
          access_token: `token-${n}`,
          token_type: 'Bearer',
          ...(options.expiresIn === null ? {} : { expires_in: options.expiresIn ?? 3600 }),
          ...(options.scope
            ? { scope: options.scope }
            : body.get('scope')
              ? { scope: body.get('scope') }
              : {}),
        },
        { headers: { 'cache-control': 'no-store' } },
      )
    }),
  )
  return seen
}

function provider(extra: Partial<ConstructorParameters<typeof ClientCredentialsTokenProvider>[0]> = {}) {
  return new ClientCredentialsTokenProvider({
    tokenUrl: TOKEN_URL,
    clientId: 'gateway',
    clientSecret: 's3cret-value',
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  })
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('ClientCredentialsTokenProvider', () => {
  describe('1. endpoint', () => {
    it('posts a client_credentials grant to an explicit tokenUrl', async () => {
      const seen = tokenEndpoint()
      const token = await provider({ scope: 'mcp:read mcp:write' }).getToken()
      expect(token.value).toBe('token-1')
      expect(token.tokenType).toBe('Bearer')
      expect(token.scopes).toEqual(['mcp:read', 'mcp:write'])
      expect(seen).toHaveLength(1)
      expect(seen[0]!.body.get('grant_type')).toBe('client_credentials')
      expect(seen[0]!.body.get('scope')).toBe('mcp:read mcp:write')
    })

    it('discovers the token endpoint from RFC 8414 metadata of an issuer', async () => {
      const issuer = 'https://idp.example.test/tenant-a'
      server.use(
        http.get('https://idp.example.test/.well-known/oauth-authorization-server/tenant-a', () =>
          HttpResponse.json({ issuer, token_endpoint: 'https://idp.example.test/tenant-a/token' }),
        ),
      )
      const seen = tokenEndpoint({ url: 'https://idp.example.test/tenant-a/token' })
      const token = await provider({ tokenUrl: undefined, issuer }).getToken()
      expect(token.value).toBe('token-1')
      expect(seen).toHaveLength(1)
    })

    it('falls back to OpenID Connect discovery when RFC 8414 metadata is absent', async () => {
      const issuer = 'https://oidc.example.test'
      server.use(
        http.get('https://oidc.example.test/.well-known/oauth-authorization-server', () =>
          HttpResponse.json({ error: 'not_found' }, { status: 404 }),
        ),
        http.get('https://oidc.example.test/.well-known/openid-configuration', () =>
          HttpResponse.json({ issuer, token_endpoint: 'https://oidc.example.test/token' }),
        ),
      )
      tokenEndpoint({ url: 'https://oidc.example.test/token' })
      expect((await provider({ tokenUrl: undefined, issuer }).getToken()).value).toBe('token-1')
    })

    it('rejects metadata whose issuer differs from the configured issuer', async () => {
      server.use(
        http.get('https://evil.example.test/.well-known/oauth-authorization-server', () =>
          HttpResponse.json({
            issuer: 'https://other.example.test',
            token_endpoint: 'https://other.example.test/t',
          }),
        ),
      )
      const error = await rejection(
        provider({ tokenUrl: undefined, issuer: 'https://evil.example.test' }).getToken(),
      )
      expect(error).toBeInstanceOf(DiscoveryError)
      expect((error as DiscoveryError).code).toBe('ERR_DISCOVERY_INVALID_METADATA')
    })

    it('discovers through RFC 9728 metadata of the MCP server and sends its resource', async () => {
      const mcp = 'https://mcp.example.test/mcp'
      server.use(
        http.get('https://mcp.example.test/.well-known/oauth-protected-resource/mcp', () =>
          HttpResponse.json({ resource: mcp, authorization_servers: [AS] }),
        ),
        http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
          HttpResponse.json({ issuer: AS, token_endpoint: TOKEN_URL }),
        ),
      )
      const seen = tokenEndpoint()
      await provider({ tokenUrl: undefined, resourceServerUrl: mcp }).getToken()
      expect(seen[0]!.body.getAll('resource')).toEqual([mcp])
    })

    it('tries the root well-known URL when the path-aware one is missing', async () => {
      const mcp = 'https://mcp2.example.test/mcp'
      const tried: string[] = []
      server.use(
        http.get('https://mcp2.example.test/.well-known/oauth-protected-resource/mcp', ({ request }) => {
          tried.push(request.url)
          return new HttpResponse(null, { status: 404 })
        }),
        http.get('https://mcp2.example.test/.well-known/oauth-protected-resource', ({ request }) => {
          tried.push(request.url)
          return HttpResponse.json({ resource: 'https://mcp2.example.test/', authorization_servers: [AS] })
        }),
        http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
          HttpResponse.json({ issuer: AS, token_endpoint: TOKEN_URL }),
        ),
      )
      const seen = tokenEndpoint()
      await provider({ tokenUrl: undefined, resourceServerUrl: mcp, resource: 'urn:configured' }).getToken()
      expect(tried).toHaveLength(2)
      // A configured resource wins over the metadata's.
      expect(seen[0]!.body.getAll('resource')).toEqual(['urn:configured'])
    })

    it('refuses protected-resource metadata naming another resource', async () => {
      server.use(
        http.get('https://mcp3.example.test/.well-known/oauth-protected-resource/mcp', () =>
          HttpResponse.json({ resource: 'https://attacker.example.test/mcp', authorization_servers: [AS] }),
        ),
      )
      const error = await rejection(
        provider({ tokenUrl: undefined, resourceServerUrl: 'https://mcp3.example.test/mcp' }).getToken(),
      )
      expect((error as DiscoveryError).code).toBe('ERR_DISCOVERY_INVALID_METADATA')
    })

    it('caches discovery and retries it like token requests', async () => {
      let metadataCalls = 0
      server.use(
        http.get(`${AS}/.well-known/oauth-authorization-server`, () => {
          metadataCalls++
          if (metadataCalls === 1) return HttpResponse.json({ error: 'busy' }, { status: 503 })
          return HttpResponse.json({ issuer: AS, token_endpoint: TOKEN_URL })
        }),
      )
      tokenEndpoint()
      const p = provider({ tokenUrl: undefined, issuer: AS })
      await p.getToken()
      await p.getToken({ scopes: ['extra'] })
      expect(metadataCalls).toBe(2) // one 503, one success, then cached
    })

    it('reports a typed error when no metadata exists', async () => {
      server.use(http.get('https://none.example.test/*', () => new HttpResponse(null, { status: 404 })))
      const error = await rejection(
        provider({ tokenUrl: undefined, issuer: 'https://none.example.test' }).getToken(),
      )
      expect(error).toBeInstanceOf(DiscoveryError)
      expect((error as DiscoveryError).code).toBe('ERR_DISCOVERY_FAILED')
      expect((error as DiscoveryError).status).toBe(404)
      expect((error as DiscoveryError).urls).toEqual([
        'https://none.example.test/.well-known/oauth-authorization-server',
        'https://none.example.test/.well-known/openid-configuration',
      ])
    })

    it('discovers from a legacy SSE URL through the metadata of its Streamable HTTP sibling (fastmcp)', async () => {
      const tried: string[] = []
      server.use(
        http.get('https://fast.example.test/.well-known/oauth-protected-resource/sse', ({ request }) => {
          tried.push(new URL(request.url).pathname)
          return new HttpResponse(null, { status: 404 })
        }),
        http.get('https://fast.example.test/.well-known/oauth-protected-resource/mcp', ({ request }) => {
          tried.push(new URL(request.url).pathname)
          return HttpResponse.json({ resource: 'https://fast.example.test/mcp', authorization_servers: [AS] })
        }),
        http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
          HttpResponse.json({ issuer: AS, token_endpoint: TOKEN_URL }),
        ),
      )
      const seen = tokenEndpoint()
      await provider({ tokenUrl: undefined, resourceServerUrl: 'https://fast.example.test/sse' }).getToken()
      expect(tried).toEqual([
        '/.well-known/oauth-protected-resource/sse',
        '/.well-known/oauth-protected-resource/mcp',
      ])
      expect(seen[0]!.body.getAll('resource')).toEqual(['https://fast.example.test/mcp'])
    })

    it('says to configure issuer and resource when a legacy SSE URL has no metadata at all', async () => {
      server.use(http.get('https://bare.example.test/*', () => new HttpResponse(null, { status: 404 })))
      const error = (await rejection(
        provider({ tokenUrl: undefined, resourceServerUrl: 'https://bare.example.test/v1/sse' }).getToken(),
      )) as DiscoveryError
      expect(error.code).toBe('ERR_DISCOVERY_FAILED')
      expect(error.message).toMatch(/"issuer" and "resource"/)
      expect(error.urls).toEqual([
        'https://bare.example.test/.well-known/oauth-protected-resource/v1/sse',
        'https://bare.example.test/.well-known/oauth-protected-resource/v1/mcp',
        'https://bare.example.test/.well-known/oauth-protected-resource',
      ])
    })

    it('still refuses SSE-sibling metadata that names another path', async () => {
      server.use(
        http.get('https://fast2.example.test/.well-known/oauth-protected-resource/sse', () =>
          HttpResponse.json({ resource: 'https://fast2.example.test/admin', authorization_servers: [AS] }),
        ),
      )
      const error = (await rejection(
        provider({ tokenUrl: undefined, resourceServerUrl: 'https://fast2.example.test/sse' }).getToken(),
      )) as DiscoveryError
      expect(error.code).toBe('ERR_DISCOVERY_INVALID_METADATA')
    })

    it('requires exactly one endpoint option', () => {
      expect(() => provider({ issuer: AS })).toThrow(TypeError)
      expect(() => provider({ tokenUrl: undefined })).toThrow(/exactly one/)
    })
  })

  describe('2. client authentication', () => {
    it('uses client_secret_basic by default, form-urlencoding id and secret before base64', async () => {
      const seen = tokenEndpoint()
      const secret = 'a+b/c:d%e f-g*h.i_j~k'
      await provider({ clientId: 'my client:1', clientSecret: secret }).getToken()
      const auth = seen[0]!.headers.get('authorization')!
      expect(auth.startsWith('Basic ')).toBe(true)
      const decoded = atob(auth.slice(6))
      expect(decoded).toBe('my+client%3A1:a%2Bb%2Fc%3Ad%25e+f-g*h.i_j%7Ek')
      // A server that form-decodes both halves recovers the originals.
      const [id, pw] = decoded.split(':').map((part) => new URLSearchParams(`x=${part}`).get('x'))
      expect(id).toBe('my client:1')
      expect(pw).toBe(secret)
      expect(seen[0]!.body.has('client_secret')).toBe(false)
    })

    it('sends credentials in the body with client_secret_post', async () => {
      const seen = tokenEndpoint()
      await provider({ tokenEndpointAuthMethod: 'client_secret_post', clientSecret: 'p+q' }).getToken()
      expect(seen[0]!.headers.has('authorization')).toBe(false)
      expect(seen[0]!.body.get('client_id')).toBe('gateway')
      expect(seen[0]!.body.get('client_secret')).toBe('p+q')
    })

    for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA'] as const) {
      it(`signs a fresh private_key_jwt assertion with ${alg} (PEM and JWK)`, async () => {
        const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
        const seen = tokenEndpoint()
        const pem = await exportPKCS8(privateKey)
        const jwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg }
        await provider({ clientSecret: undefined, privateKey: pem, privateKeyAlgorithm: alg }).getToken()
        await provider({ clientSecret: undefined, privateKey: jwk }).getToken()
        const jtis = new Set<string>()
        for (const { body, headers } of seen) {
          expect(headers.has('authorization')).toBe(false)
          expect(body.get('client_assertion_type')).toBe(
            'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          )
          const { payload, protectedHeader } = await jwtVerify(body.get('client_assertion')!, publicKey, {
            issuer: 'gateway',
            subject: 'gateway',
            audience: TOKEN_URL, // no metadata: the token endpoint
            algorithms: [alg],
          })
          expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60)
          jtis.add(payload.jti!)
          if (protectedHeader.kid) expect(protectedHeader.kid).toBe('k1')
        }
        expect(jtis.size).toBe(2)
      })
    }

    it('signs a fresh assertion (new jti) for each retry', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      const jtis: string[] = []
      server.use(
        http.post(TOKEN_URL, async ({ request }) => {
          const body = new URLSearchParams(await request.text())
          jtis.push(decodeJwt(body.get('client_assertion')!).jti!)
          if (jtis.length < 3) return HttpResponse.json({ error: 'temporarily_unavailable' }, { status: 503 })
          return HttpResponse.json({
            access_token: 'jwt-after-retries',
            token_type: 'Bearer',
            expires_in: 60,
          })
        }),
      )
      const token = await provider({ clientSecret: undefined, privateKey }).getToken()
      expect(token.value).toBe('jwt-after-retries')
      expect(jtis).toHaveLength(3)
      expect(new Set(jtis).size).toBe(3)
    })

    it('uses the issuer as assertion audience when metadata names one', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
      server.use(
        http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
          HttpResponse.json({ issuer: AS, token_endpoint: TOKEN_URL }),
        ),
      )
      const seen = tokenEndpoint()
      await provider({ tokenUrl: undefined, issuer: AS, clientSecret: undefined, privateKey }).getToken()
      const { payload } = await jwtVerify(seen[0]!.body.get('client_assertion')!, publicKey)
      expect(payload.aud).toBe(AS)
    })

    it('rejects a method without the credential it needs', () => {
      expect(() => provider({ clientSecret: undefined })).toThrow(/clientSecret/)
      expect(() => provider({ tokenEndpointAuthMethod: 'private_key_jwt' })).toThrow(/privateKey/)
      expect(() => provider({ tokenEndpointAuthMethod: 'none' as never })).toThrow(/tokenEndpointAuthMethod/)
    })
  })

  describe('3. parameters', () => {
    it('sends scope lists, several resources, audience and extra params', async () => {
      const seen = tokenEndpoint()
      await provider({
        scope: ['a', 'b', 'a'],
        resource: ['https://r1.example.test', 'https://r2.example.test'],
        audience: 'api://default',
        extraParams: { tenant: 't1', grant_type: 'password' },
      }).getToken()
      const body = seen[0]!.body
      expect(body.get('scope')).toBe('a b')
      expect(body.getAll('resource')).toEqual(['https://r1.example.test', 'https://r2.example.test'])
      expect(body.get('audience')).toBe('api://default')
      expect(body.get('tenant')).toBe('t1')
      expect(body.getAll('grant_type')).toEqual(['client_credentials'])
    })

    it('rejects invalid scope tokens at construction', () => {
      expect(() => provider({ scope: ['ok', 'bad"quote'] })).toThrow(TypeError)
    })
  })

  describe('4. caching', () => {
    it('gives 500 concurrent cold callers one token request', async () => {
      const seen = tokenEndpoint()
      const p = provider()
      const tokens = await Promise.all(Array.from({ length: 500 }, () => p.getToken()))
      expect(seen).toHaveLength(1)
      expect(new Set(tokens.map((t) => t.value))).toEqual(new Set(['token-1']))
    })

    it('computes expiresAt from expires_in and a default when it is absent', async () => {
      let now = 1_000_000
      tokenEndpoint({ expiresIn: 120 })
      const p = provider({ now: () => now })
      expect((await p.getToken()).expiresAt).toBe(now + 120_000)
      server.resetHandlers()
      tokenEndpoint({ expiresIn: null })
      now += 10_000
      const q = provider({ now: () => now, defaultExpiresInSeconds: 42 })
      expect((await q.getToken()).expiresAt).toBe(now + 42_000)
    })

    it('refreshes refreshSkewSeconds before expiry', async () => {
      let now = 0
      const seen = tokenEndpoint({ expiresIn: 3600 })
      const p = provider({ now: () => now, refreshSkewSeconds: 60 })
      expect((await p.getToken()).value).toBe('token-1')
      now = 3_539_000 // 61 s before expiry: cached
      expect((await p.getToken()).value).toBe('token-1')
      now = 3_541_000 // 59 s before expiry: inside the window, served at once, refreshed behind
      expect((await p.getToken()).value).toBe('token-1')
      await vi.waitFor(async () => expect((await p.getToken()).value).toBe('token-2'))
      expect(seen).toHaveLength(2)
    })

    it('clamps the skew for short-lived tokens so they are not refetched on every call', async () => {
      let now = 0
      const seen = tokenEndpoint({ expiresIn: 10 })
      const p = provider({ now: () => now })
      await p.getToken()
      for (now = 0; now < 5_000; now += 500) await p.getToken()
      expect(seen).toHaveLength(1)
      now = 5_000 // half the lifetime
      await p.getToken()
      await vi.waitFor(() => expect(seen).toHaveLength(2))
      await vi.waitFor(async () => expect((await p.getToken()).value).toBe('token-2'))
    })

    it('keeps serving the cached token when a refresh fails while it is still valid', async () => {
      let now = 0
      tokenEndpoint({ expiresIn: 3600 })
      const p = provider({ now: () => now, retry: { limit: 0 } })
      await p.getToken()
      let failures = 0
      server.use(
        http.post(TOKEN_URL, () => {
          failures++
          return HttpResponse.json({ error: 'temporarily_unavailable' }, { status: 503 })
        }),
      )
      now = 3_560_000 // in the window, 40 s of validity left
      expect((await p.getToken()).value).toBe('token-1')
      await vi.waitFor(() => expect(failures).toBe(1))
      // Within the cooldown callers get the cached token without waiting on another attempt.
      expect((await p.getToken()).value).toBe('token-1')
      expect(failures).toBe(1)
      now = 3_600_000 // expired: the failure surfaces
      const error = await rejection(p.getToken())
      expect(error).toBeInstanceOf(TokenRequestError)
      expect(failures).toBe(2)
    })

    it('caches step-up tokens for configured ∪ requested scopes separately', async () => {
      const seen = tokenEndpoint()
      const p = provider({ scope: 'mcp:read' })
      const base = await p.getToken()
      const stepUp = await p.getToken({ scopes: ['ticket:create'] })
      const again = await p.getToken({ scopes: ['ticket:create', 'mcp:read'] })
      expect(base.scopes).toEqual(['mcp:read'])
      expect(stepUp.scopes).toEqual(['mcp:read', 'ticket:create'])
      expect(again).toBe(stepUp)
      expect(seen.map((s) => s.body.get('scope'))).toEqual(['mcp:read', 'mcp:read ticket:create'])
      expect(await p.getToken()).toBe(base)
    })

    it('bounds the cache of step-up scope sets', async () => {
      const seen = tokenEndpoint()
      const p = provider({ scope: 'base' })
      const first = await p.getToken({ scopes: ['s0'] })
      for (let i = 1; i <= 64; i++) await p.getToken({ scopes: [`s${i}`] })
      expect(seen).toHaveLength(65)
      // The oldest scope set was evicted: asking again fetches anew.
      expect(await p.getToken({ scopes: ['s0'] })).not.toBe(first)
      expect(seen).toHaveLength(66)
      await p.getToken({ scopes: ['s64'] })
      expect(seen).toHaveLength(66)
    })

    it('lets an aborted caller go without cancelling the shared request', async () => {
      const seen = tokenEndpoint()
      const p = provider()
      const controller = new AbortController()
      const aborted = p.getToken({ signal: controller.signal })
      const other = p.getToken()
      controller.abort(new Error('caller gave up'))
      await expect(aborted).rejects.toThrow('caller gave up')
      expect((await other).value).toBe('token-1')
      expect(seen).toHaveLength(1)
    })
  })

  describe('5. invalidate', () => {
    it('drops the cached token only when it is the rejected one', async () => {
      const seen = tokenEndpoint()
      const p = provider()
      const first = await p.getToken()
      p.invalidate('some-other-token')
      expect(await p.getToken()).toBe(first)
      p.invalidate(first.value)
      const second = await p.getToken()
      expect(second.value).toBe('token-2')
      // A late invalidate of the old token must not drop the new one.
      p.invalidate(first.value)
      expect(await p.getToken()).toBe(second)
      expect(seen).toHaveLength(2)
    })

    it('drops every cached token without an argument', async () => {
      const seen = tokenEndpoint()
      const p = provider()
      await p.getToken()
      await p.getToken({ scopes: ['x'] })
      p.invalidate()
      await p.getToken()
      await p.getToken({ scopes: ['x'] })
      expect(seen).toHaveLength(4)
    })
  })

  describe('6. resilience', () => {
    it('retries a 503 and then succeeds', async () => {
      let calls = 0
      server.use(
        http.post(TOKEN_URL, () => {
          calls++
          if (calls === 1) return HttpResponse.json({ error: 'temporarily_unavailable' }, { status: 503 })
          return HttpResponse.json({ access_token: 'after-503', token_type: 'bearer', expires_in: 60 })
        }),
      )
      expect((await provider().getToken()).value).toBe('after-503')
      expect(calls).toBe(2)
    })

    it('retries network errors with backoff, then gives a typed error', async () => {
      let calls = 0
      server.use(
        http.post(TOKEN_URL, () => {
          calls++
          return HttpResponse.error()
        }),
      )
      const error = (await rejection(
        provider({ retry: { limit: 3, baseDelayMs: 1 } }).getToken(),
      )) as TokenRequestError
      expect(calls).toBe(4)
      expect(error.code).toBe('ERR_TOKEN_NETWORK')
      expect(error.attempts).toBe(4)
      expect(error.endpoint).toBe(TOKEN_URL)
    })

    it('honours Retry-After on 429', async () => {
      const times: number[] = []
      server.use(
        http.post(TOKEN_URL, () => {
          times.push(performance.now())
          if (times.length === 1) {
            return HttpResponse.json({ error: 'slow_down' }, { status: 429, headers: { 'retry-after': '1' } })
          }
          return HttpResponse.json({ access_token: 'after-429', token_type: 'Bearer', expires_in: 60 })
        }),
      )
      expect((await provider().getToken()).value).toBe('after-429')
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950)
    })

    it('fails at once when Retry-After exceeds maxRetryAfterMs', async () => {
      let calls = 0
      server.use(
        http.post(TOKEN_URL, () => {
          calls++
          return HttpResponse.json(
            { error: 'slow_down' },
            { status: 429, headers: { 'retry-after': '3600' } },
          )
        }),
      )
      const error = (await rejection(provider().getToken())) as TokenRequestError
      expect(calls).toBe(1)
      expect(error.status).toBe(429)
      expect(error.error).toBe('slow_down')
    })

    it('does not retry invalid_client and reports it typed', async () => {
      let calls = 0
      server.use(
        http.post(TOKEN_URL, () => {
          calls++
          return HttpResponse.json(
            { error: 'invalid_client', error_description: 'bad credentials' },
            { status: 401, headers: { 'www-authenticate': 'Basic realm="as"' } },
          )
        }),
      )
      const error = (await rejection(provider().getToken())) as TokenRequestError
      expect(calls).toBe(1)
      expect(error).toBeInstanceOf(TokenRequestError)
      expect(error.code).toBe('ERR_OAUTH_ERROR_RESPONSE')
      expect(error.error).toBe('invalid_client')
      expect(error.errorDescription).toBe('bad credentials')
      expect(error.status).toBe(401)
    })

    it('reports invalid_scope typed', async () => {
      server.use(http.post(TOKEN_URL, () => HttpResponse.json({ error: 'invalid_scope' }, { status: 400 })))
      const error = (await rejection(provider({ scope: 'admin' }).getToken())) as TokenRequestError
      expect(error.code).toBe('ERR_OAUTH_ERROR_RESPONSE')
      expect(error.error).toBe('invalid_scope')
      expect(error.status).toBe(400)
    })

    it('reports an HTTP error status without an OAuth body after retries', async () => {
      let calls = 0
      server.use(
        http.post(TOKEN_URL, () => {
          calls++
          return new HttpResponse('<html>bad gateway</html>', {
            status: 502,
            headers: { 'content-type': 'text/html' },
          })
        }),
      )
      const error = (await rejection(provider().getToken())) as TokenRequestError
      expect(calls).toBe(3)
      expect(error.code).toBe('ERR_TOKEN_HTTP_STATUS')
      expect(error.status).toBe(502)
    })

    it('times out each attempt', async () => {
      let calls = 0
      server.use(
        http.post(TOKEN_URL, async () => {
          calls++
          await new Promise((resolve) => setTimeout(resolve, 500))
          return HttpResponse.json({ access_token: 'late', token_type: 'Bearer' })
        }),
      )
      const error = (await rejection(
        provider({ timeoutMs: 50, retry: { limit: 1, baseDelayMs: 1 } }).getToken(),
      )) as TokenRequestError
      expect(error.code).toBe('ERR_TIMEOUT')
      expect(calls).toBe(2)
    })
  })

  describe('7. errors', () => {
    it('never exposes the secret or the token in messages, inspect or JSON', async () => {
      const secret = 'super-secret-do-not-leak'
      server.use(http.post(TOKEN_URL, () => HttpResponse.json({ error: 'invalid_client' }, { status: 401 })))
      const p = provider({ clientSecret: secret })
      const error = (await rejection(p.getToken())) as Error
      const rendered = [
        error.message,
        error.stack,
        inspect(error, { depth: 10 }),
        JSON.stringify(error),
        inspect(p, { depth: 10 }),
        JSON.stringify(p),
      ].join('\n')
      expect(rendered).not.toContain(secret)
      expect(rendered).not.toContain(btoa(`gateway:${secret}`))

      server.resetHandlers()
      tokenEndpoint()
      const token = await p.getToken()
      expect(inspect(p, { depth: 10 })).not.toContain(token.value)
      expect(JSON.stringify(p)).not.toContain(token.value)
    })

    it('keeps no credential in the cause chain of a network error (inspect at any depth)', async () => {
      const secret = 'super-secret-do-not-leak'
      server.use(http.post(TOKEN_URL, () => HttpResponse.error()))
      const error = (await rejection(
        provider({ clientSecret: secret, retry: { limit: 1, baseDelayMs: 1 } }).getToken(),
      )) as TokenRequestError
      expect(error.code).toBe('ERR_TOKEN_NETWORK')
      const rendered = inspect(error, { depth: Number.POSITIVE_INFINITY })
      expect(rendered).not.toContain(btoa(`gateway:${secret}`))
      expect(rendered).not.toContain(secret)
    })

    it('does not leak the token from an invalid response', async () => {
      server.use(
        http.post(TOKEN_URL, () =>
          HttpResponse.json({ access_token: 'leaky-token', token_type: 'mac', expires_in: 60 }),
        ),
      )
      const error = (await rejection(provider().getToken())) as TokenRequestError
      expect(error.code).toBe('ERR_TOKEN_RESPONSE_INVALID')
      expect(inspect(error, { depth: 10 })).not.toContain('leaky-token')
    })
  })

  describe('8. safety', () => {
    it('refuses plain http to a non-loopback host', () => {
      const error = (() => {
        try {
          provider({ tokenUrl: 'http://as.example.test/token' })
        } catch (e) {
          return e
        }
      })() as AuthCoreError
      expect(error).toBeInstanceOf(AuthCoreError)
      expect(error.code).toBe('ERR_INSECURE_HTTP')
      expect(() =>
        provider({ tokenUrl: 'http://as.example.test/token', allowInsecureHttp: true }),
      ).not.toThrow()
      // *.localhost goes to the system resolver in Node: not loopback for us.
      expect(() => provider({ tokenUrl: 'http://evil.localhost/token' })).toThrow(
        expect.objectContaining({ code: 'ERR_INSECURE_HTTP' }),
      )
    })

    it('allows plain http to loopback', async () => {
      for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.8.9.10']) {
        expect(() => provider({ tokenUrl: `http://${host}:8080/token` })).not.toThrow()
      }
      const seen = tokenEndpoint({ url: 'http://127.0.0.1:8080/token' })
      await provider({ tokenUrl: 'http://127.0.0.1:8080/token' }).getToken()
      expect(seen).toHaveLength(1)
    })

    it('refuses a discovered http token endpoint on another host', async () => {
      server.use(
        http.get(`${AS}/.well-known/oauth-authorization-server`, () =>
          HttpResponse.json({ issuer: AS, token_endpoint: 'http://plain.example.test/token' }),
        ),
      )
      const error = (await rejection(
        provider({ tokenUrl: undefined, issuer: AS }).getToken(),
      )) as AuthCoreError
      expect(error.code).toBe('ERR_INSECURE_HTTP')
    })

    it('validates the token response', async () => {
      for (const body of [
        { token_type: 'Bearer' },
        { access_token: 42, token_type: 'Bearer' },
        { access_token: 'x', token_type: 'Bearer', expires_in: 'soon' },
      ]) {
        server.resetHandlers()
        server.use(http.post(TOKEN_URL, () => HttpResponse.json(body)))
        const error = (await rejection(provider().getToken())) as TokenRequestError
        expect(error.code).toBe('ERR_TOKEN_RESPONSE_INVALID')
      }
      server.resetHandlers()
      server.use(http.post(TOKEN_URL, () => HttpResponse.json({ access_token: 'x', token_type: 'BEARER' })))
      expect((await provider().getToken()).tokenType).toBe('Bearer')
    })
  })

  describe('9. hardening: token values, lifetimes, Retry-After', () => {
    it.each([
      ['CR', 'abc\rdef'],
      ['LF', 'abc\ndef'],
      ['NUL', 'abc\u0000def'],
      ['space', 'abc def'],
      ['DEL', 'abc\u007fdef'],
      ['non-ASCII', 'abcédef'],
    ])('refuses an access_token with %s as an invalid token response, never caching it', async (_, value) => {
      const values: string[] = []
      server.use(
        http.post(TOKEN_URL, () => {
          values.push(value)
          return HttpResponse.json({ access_token: value, token_type: 'Bearer', expires_in: 3600 })
        }),
      )
      const p = provider()
      for (let i = 0; i < 2; i++) {
        const error = (await rejection(p.getToken())) as TokenRequestError
        expect(error).toBeInstanceOf(TokenRequestError)
        expect(error.code).toBe('ERR_TOKEN_RESPONSE_INVALID')
        const rendered = `${error.message} ${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`
        expect(rendered).not.toContain('abc')
      }
      expect(values).toHaveLength(2) // not cached: the second call asked again
    })

    it('bounds expires_in: 0 is cached for 1 s, 1e308 for maxTokenLifetimeSeconds, never forever', async () => {
      const now = 1_000_000
      for (const [expiresIn, options, lifetimeMs] of [
        [0, {}, 1_000],
        [1e308, {}, 86_400_000],
        [7200, { maxTokenLifetimeSeconds: 600 }, 600_000],
        [120, {}, 120_000],
      ] as const) {
        server.resetHandlers()
        tokenEndpoint({ expiresIn })
        const token = await provider({ now: () => now, ...options }).getToken()
        expect(token.expiresAt, `expires_in ${expiresIn}`).toBe(now + lifetimeMs)
      }
    })

    it.each([-1, 'NaN', 'soon'])('refuses expires_in %s as an invalid token response', async (expiresIn) => {
      server.use(
        http.post(TOKEN_URL, () =>
          HttpResponse.json({ access_token: 'x', token_type: 'Bearer', expires_in: expiresIn }),
        ),
      )
      const error = (await rejection(provider().getToken())) as TokenRequestError
      expect(error.code).toBe('ERR_TOKEN_RESPONSE_INVALID')
    })

    it('rejects a maxTokenLifetimeSeconds that is not positive', () => {
      expect(() => provider({ maxTokenLifetimeSeconds: 0 })).toThrow('"maxTokenLifetimeSeconds"')
      expect(() => provider({ maxTokenLifetimeSeconds: Number.POSITIVE_INFINITY })).toThrow(TypeError)
    })

    it.each(['Infinity', 'NaN', '-5', '1e308', '1.5', 'soon', ''])(
      'falls back to the normal backoff on Retry-After %j instead of waiting or giving up',
      async (retryAfter) => {
        let calls = 0
        server.use(
          http.post(TOKEN_URL, () => {
            calls++
            if (calls === 1) {
              return HttpResponse.json(
                { error: 'temporarily_unavailable' },
                { status: 503, headers: { 'retry-after': retryAfter } },
              )
            }
            return HttpResponse.json({ access_token: 'after-retry', token_type: 'Bearer', expires_in: 60 })
          }),
        )
        // Were the value read as "the maximum", this would wait ten minutes (the test would time out).
        const p = provider({ retry: { baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 600_000 } })
        expect((await p.getToken()).value).toBe('after-retry')
        expect(calls).toBe(2)
      },
    )
  })

  describe('10. hardening: the refresh window', () => {
    it('serves a still-valid token at once while the refresh waits on a hung authorization server', async () => {
      let now = 0
      tokenEndpoint({ expiresIn: 3600 })
      const p = provider({ now: () => now, timeoutMs: 600_000 })
      const first = await p.getToken()
      let release: () => void = () => {}
      const hung = new Promise<void>((resolve) => {
        release = resolve
      })
      let reached = 0
      server.use(
        http.post(TOKEN_URL, async () => {
          reached++
          await hung
          return HttpResponse.json({ access_token: 'late', token_type: 'Bearer', expires_in: 3600 })
        }),
      )
      now = 3_560_000 // in the refresh window, 40 s of validity left
      // Without the background refresh these would wait for the hung server (10 minutes).
      const during = await Promise.all([p.getToken(), p.getToken(), p.getToken({})])
      expect(during).toEqual([first, first, first])
      await vi.waitFor(() => expect(reached).toBe(1)) // one refresh, shared
      release()
      await vi.waitFor(async () => expect((await p.getToken()).value).toBe('late'))
      expect(reached).toBe(1)
    })
  })

  describe('11. hardening: what servers say never carries secrets', () => {
    const secret = 'sup3r+s3cret/value:%'

    it('scrubs the secret, its encodings and tokens from error and error_description, and caps them', async () => {
      const basic = btoa(`gateway:${new URLSearchParams([['', secret]]).toString().slice(1)}`)
      server.use(
        http.post(TOKEN_URL, () =>
          HttpResponse.json(
            {
              error: `invalid_client ${secret}`,
              error_description: `bad secret ${secret} (${encodeURIComponent(secret)}) from Basic ${basic}\r\nheader: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln ${'x'.repeat(1000)}`,
            },
            { status: 400 },
          ),
        ),
      )
      const error = (await rejection(
        provider({ clientSecret: secret, tokenEndpointAuthMethod: 'client_secret_post' }).getToken(),
      )) as TokenRequestError
      expect(error.code).toBe('ERR_OAUTH_ERROR_RESPONSE')
      const rendered = [
        error.message,
        error.error,
        error.errorDescription,
        inspect(error, { depth: 10 }),
      ].join('\n')
      for (const leaked of [secret, encodeURIComponent(secret), basic, 'eyJhbGciOiJIUzI1NiJ9', '\r']) {
        expect(rendered).not.toContain(leaked)
      }
      expect(error.errorDescription!.length).toBeLessThanOrEqual(256)
      expect(error.errorDescription).toMatch(/^bad secret \[redacted\]/)
      expect(error.error!.length).toBeLessThanOrEqual(64)
    })

    it('scrubs an echoed client assertion and a token the provider holds', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true })
      let calls = 0
      server.use(
        http.post(TOKEN_URL, async ({ request }) => {
          calls++
          const body = new URLSearchParams(await request.text())
          if (calls === 1)
            return HttpResponse.json({ access_token: 'opaque-token-123', token_type: 'Bearer' })
          return HttpResponse.json(
            {
              error: 'invalid_grant',
              error_description: `assertion ${body.get('client_assertion')} token opaque-token-123`,
            },
            { status: 400 },
          )
        }),
      )
      const p = provider({ clientSecret: undefined, privateKey })
      await p.getToken()
      const error = (await rejection(p.getToken({ scopes: ['more'] }))) as TokenRequestError
      expect(error.errorDescription).toBe('assertion [redacted] token [redacted]')
    })
  })

  describe('12. hardening: Basic credentials for servers that do not form-decode them', () => {
    /** A token endpoint that compares Basic credentials without form-decoding them (glewlwyd-like). */
    function rawBasicEndpoint(id: string, secret: string) {
      const seen: string[] = []
      server.use(
        http.post(TOKEN_URL, ({ request }) => {
          const decoded = new TextDecoder().decode(
            Uint8Array.from(atob(request.headers.get('authorization')!.slice(6)), (c) => c.charCodeAt(0)),
          )
          seen.push(decoded)
          if (decoded !== `${id}:${secret}`) {
            return HttpResponse.json(
              { error: 'invalid_client' },
              { status: 401, headers: { 'www-authenticate': 'Basic realm="as"' } },
            )
          }
          return HttpResponse.json({ access_token: `t${seen.length}`, token_type: 'Bearer', expires_in: 60 })
        }),
      )
      return seen
    }

    it('retries invalid_client once with the raw encoding and remembers it for the endpoint', async () => {
      const secret = 'a+b/c:d%e'
      const seen = rawBasicEndpoint('gateway', secret)
      const p = provider({ clientSecret: secret })
      expect((await p.getToken()).value).toBe('t2')
      p.invalidate()
      expect((await p.getToken()).value).toBe('t3')
      expect(seen).toEqual([
        'gateway:a%2Bb%2Fc%3Ad%25e', // RFC 6749 §2.3.1 first
        `gateway:${secret}`, // then raw
        `gateway:${secret}`, // remembered
      ])
    })

    it('starts with the raw encoding when configured', async () => {
      const seen = rawBasicEndpoint('gateway', 'x+y')
      await provider({ clientSecret: 'x+y', basicCredentialsEncoding: 'raw' }).getToken()
      expect(seen).toEqual(['gateway:x+y'])
      expect(() => provider({ basicCredentialsEncoding: 'base64' as never })).toThrow(
        '"basicCredentialsEncoding"',
      )
    })

    it('does not retry when both encodings are the same, and says so when both are refused', async () => {
      const same = rawBasicEndpoint('gateway', 'other')
      const error = (await rejection(
        provider({ clientSecret: 'plain-secret' }).getToken(),
      )) as TokenRequestError
      expect(same).toHaveLength(1)
      expect(error.error).toBe('invalid_client')
      server.resetHandlers()
      const both = rawBasicEndpoint('gateway', 'other')
      const twice = (await rejection(provider({ clientSecret: 'p+q' }).getToken())) as TokenRequestError
      expect(both).toHaveLength(2)
      expect(twice.code).toBe('ERR_OAUTH_ERROR_RESPONSE')
      expect(twice.error).toBe('invalid_client')
      expect(twice.message).toContain('both form-urlencoded and raw')
      expect(twice.attempts).toBe(2)
    })
  })

  describe('13. hardening: errors have their proper codes', () => {
    it('reports a private key that cannot be imported as a configuration error', async () => {
      tokenEndpoint()
      const badKey =
        '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n'
      const error = (await rejection(
        provider({ clientSecret: undefined, privateKey: badKey, privateKeyAlgorithm: 'RS256' }).getToken(),
      )) as ConfigError
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.code).toBe('ERR_CONFIG')
      expect(error.issues).toEqual([{ path: 'privateKey', message: expect.stringContaining('RS256') }])
      expect(inspect(error, { depth: 10 })).not.toContain('MIIBVQ')
    })

    it('reports a token response over 1 MiB as an invalid token response, not a network error', async () => {
      server.use(
        http.post(TOKEN_URL, () =>
          HttpResponse.json({ access_token: 'x', token_type: 'Bearer', padding: 'p'.repeat(1_100_000) }),
        ),
      )
      const error = (await rejection(provider().getToken())) as TokenRequestError
      expect(error.code).toBe('ERR_TOKEN_RESPONSE_INVALID')
      expect(error.attempts).toBe(1) // not retried
    })
  })

  describe('14. hardening: an auth fetch installed as globalThis.fetch', () => {
    it('unwraps UNDERLYING_FETCH (repeatedly) so token requests never wait on the auth fetch', async () => {
      const seen = tokenEndpoint()
      const real = globalThis.fetch
      let wrapperCalls = 0
      // Stand-ins for auth fetches: calling one would wait for the token being fetched, forever.
      const stuck = () => {
        wrapperCalls++
        return new Promise<Response>(() => {})
      }
      const inner = Object.assign(stuck, { [UNDERLYING_FETCH]: real })
      const outer = Object.assign(() => stuck(), { [UNDERLYING_FETCH]: inner })
      globalThis.fetch = outer as unknown as typeof fetch
      try {
        expect((await provider().getToken()).value).toBe('token-1')
      } finally {
        globalThis.fetch = real
      }
      expect(wrapperCalls).toBe(0)
      expect(seen).toHaveLength(1)
    })
  })

  describe('15. hardening: a response that drips (real loopback server)', () => {
    /** A loopback server that sends 200 and headers, then one byte of body every 20 ms, forever. */
    async function drippingServer() {
      let requests = 0
      const sockets = new Set<import('node:net').Socket>()
      const http = createServer((_req, res) => {
        requests++
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{')
        const timer = setInterval(() => res.write(' '), 20)
        res.on('close', () => clearInterval(timer))
      })
      http.on('connection', (socket) => {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
      })
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
      const { port } = http.address() as AddressInfo
      return {
        url: `http://127.0.0.1:${port}`,
        requests: () => requests,
        close: () => {
          for (const socket of sockets) socket.destroy()
          return new Promise<void>((resolve) => http.close(() => resolve()))
        },
      }
    }

    it('ends a dripping token response at timeoutMs and releases every caller sharing it', async () => {
      const drip = await drippingServer()
      try {
        const p = provider({
          tokenUrl: `${drip.url}/token`,
          // Long enough that the request reaches the server on a loaded machine (the count below).
          timeoutMs: 1500,
          retry: { limit: 0 },
          fetch: loopbackFetch,
        })
        // Five callers share the one stuck request; all are released when its attempt times out.
        const errors = await Promise.all(Array.from({ length: 5 }, () => rejection(p.getToken())))
        expect(errors.map((e) => (e as TokenRequestError).code)).toEqual(Array(5).fill('ERR_TIMEOUT'))
        expect(drip.requests()).toBe(1)
        // A later caller does not join the stuck request: it makes its own.
        await rejection(p.getToken())
        expect(drip.requests()).toBe(2)
      } finally {
        await drip.close()
      }
    })

    it('ends dripping metadata at timeoutMs with a discovery error', async () => {
      const drip = await drippingServer()
      try {
        const p = provider({
          tokenUrl: undefined,
          issuer: drip.url,
          timeoutMs: 300,
          retry: { limit: 0 },
          fetch: loopbackFetch,
        })
        const error = (await rejection(p.getToken())) as DiscoveryError
        expect(error).toBeInstanceOf(DiscoveryError)
        expect(error.code).toBe('ERR_DISCOVERY_FAILED')
        expect(error.message).toContain('timed out')
        expect(drip.requests()).toBe(2) // RFC 8414, then OpenID Connect discovery
      } finally {
        await drip.close()
      }
    })
  })

  describe('internal parseRetryAfter', () => {
    it('reads delay-seconds and IMF-fixdate (with the injected clock) and nothing else', () => {
      const now = Date.UTC(2030, 0, 1, 0, 0, 0)
      expect(parseRetryAfter('3', now)).toBe(3000)
      expect(parseRetryAfter(' 0 ', now)).toBe(0)
      expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:07 GMT', now)).toBe(7000)
      expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0) // in the past
      expect(parseRetryAfter('99999999999999999999', now)).toBeGreaterThan(1e20) // the caller refuses it
      for (const bad of [null, '', 'Infinity', 'NaN', '-5', '1.5', '1e308', 'soon', '2030-01-01T00:00:07Z']) {
        expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined()
      }
    })
  })
})

describe('ClientCredentialsTokenProvider.cachedToken', () => {
  it('hands out what getToken would from memory, and nothing it would have to fetch or refresh', async () => {
    const seen = tokenEndpoint({ expiresIn: 600 })
    let now = 1_000_000
    const p = provider({ now: () => now, refreshSkewSeconds: 60, scope: 'mcp:read' })
    expect(p.cachedToken()).toBeUndefined() // nothing cached: getToken would fetch
    const token = await p.getToken()
    expect(p.cachedToken()).toBe(token)
    expect(p.cachedToken({ scopes: [] })).toBe(token)
    // A step-up set not cached yet: getToken would fetch it.
    expect(p.cachedToken({ scopes: ['mcp:write'] })).toBeUndefined()
    const stepped = await p.getToken({ scopes: ['mcp:write'] })
    expect(p.cachedToken({ scopes: ['mcp:write'] })).toBe(stepped)
    // An aborted signal: getToken would throw, so no token.
    expect(p.cachedToken({ signal: AbortSignal.abort() })).toBeUndefined()
    // Inside the refresh window: getToken serves it and refreshes behind it; cachedToken starts nothing.
    now += (600 - 59) * 1000
    expect(p.cachedToken()).toBeUndefined()
    expect(seen).toHaveLength(2)
    // Dropped by a 401: gone from memory too.
    now = 1_000_000
    p.invalidate(token.value)
    expect(p.cachedToken()).toBeUndefined()
    expect(seen).toHaveLength(2)
  })
})
