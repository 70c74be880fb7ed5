import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { createMockOAuthServer, type MockOAuthServer } from '@mcp-oauth2/testkit'
import {
  base64url,
  CompactSign,
  createLocalJWKSet,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  AuthCoreError,
  InsufficientScopeError,
  InvalidTokenError,
  type InvalidTokenReason,
} from '../src/errors.js'
import { UNDERLYING_FETCH } from '../src/fetch-like.js'
import { asciiBytes, decodeBase64url, importJwkFor, verifySignature } from '../src/internal/jwt-crypto.js'
import { LruCache } from '../src/internal/lru.js'
import { JWT_ALGORITHMS } from '../src/internal/protocol.js'
import { JwtScopeVerifier, type JwtScopeVerifierOptions } from '../src/jwt-verifier.js'

const AUDIENCE = 'https://mcp.mock.test/mcp'
const ISSUER = 'https://auth.mock.test'
const RESOURCE_METADATA = 'https://mcp.mock.test/.well-known/oauth-protected-resource/mcp'

const as: MockOAuthServer = createMockOAuthServer({ defaultAudience: AUDIENCE })
const es: MockOAuthServer = createMockOAuthServer({
  issuer: 'https://es.mock.test',
  algorithm: 'ES256',
  defaultAudience: AUDIENCE,
})
const server = setupServer(...as.handlers, ...es.handlers)

let nowMs = Date.UTC(2030, 0, 1)
const now = () => nowMs
let jwksRequests = 0
const countingFetch = (input: string | URL | Request, init?: RequestInit) => {
  if (String(input) === as.jwksUri) jwksRequests++
  return globalThis.fetch(input, init)
}

function verifier(options: Partial<JwtScopeVerifierOptions> = {}): JwtScopeVerifier {
  return new JwtScopeVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: as.jwksUri,
    fetch: countingFetch,
    now,
    ...options,
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

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
beforeEach(() => {
  nowMs = Date.UTC(2030, 0, 1)
  as.setNow(now)
  es.setNow(now)
  jwksRequests = 0
})
afterEach(() => {
  server.resetHandlers()
  as.reset()
})
afterAll(() => server.close())

describe('JwtScopeVerifier options', () => {
  it.each([
    ['issuer', { issuer: undefined }],
    ['issuer', { issuer: [] }],
    ['audience', { audience: undefined }],
    ['audience', { audience: '' }],
    ['algorithms', { algorithms: ['HS256'] }],
    ['algorithms', { algorithms: ['none'] }],
    ['algorithms', { algorithms: [] }],
    ['clockToleranceSeconds', { clockToleranceSeconds: -1 }],
    ['clockToleranceSeconds', { clockToleranceSeconds: Number.NaN }],
    ['maxTokenBytes', { maxTokenBytes: 1.5 }],
    ['cacheSize', { cacheSize: -1 }],
    ['requiredScopes', { requiredScopes: ['a b'] }],
    ['scopeMatch', { scopeMatch: 'some' }],
    ['typ', { typ: '' }],
    ['fetch', { fetch: 'nope' }],
    ['jwksUri', { jwksUri: 'not a url' }],
    ['jwks', { jwksUri: undefined, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }],
    ['publicKey', { jwksUri: undefined, publicKey: 'secret' }],
  ])('rejects a bad "%s" at construction with a TypeError naming it', (name, bad) => {
    expect(() => verifier(bad as Partial<JwtScopeVerifierOptions>)).toThrow(TypeError)
    expect(() => verifier(bad as Partial<JwtScopeVerifierOptions>)).toThrow(`"${name}"`)
  })

  it('rejects more than one key source', () => {
    expect(() => verifier({ jwks: as.publicJwks() })).toThrow(TypeError)
  })

  it('rejects a private key given as publicKey', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(() => verifier({ jwksUri: undefined, publicKey: privateKey })).toThrow('"publicKey"')
    const jwk = privateKey.export({ format: 'jwk' }) as JWK
    expect(() => verifier({ jwksUri: undefined, publicKey: jwk })).toThrow('"publicKey"')
  })

  it('refuses a plain-http jwksUri that is not loopback', () => {
    const error = (() => {
      try {
        verifier({ jwksUri: 'http://auth.example.com/jwks' })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(AuthCoreError)
    expect((error as AuthCoreError).code).toBe('ERR_INSECURE_HTTP')
    expect(() => verifier({ jwksUri: 'http://127.0.0.1:9/jwks' })).not.toThrow()
  })

  it('does not mutate the options object', () => {
    const options: JwtScopeVerifierOptions = Object.freeze({
      issuer: [ISSUER],
      audience: AUDIENCE,
      jwksUri: as.jwksUri,
      requiredScopes: ['mcp:read'],
    })
    expect(() => new JwtScopeVerifier(options)).not.toThrow()
  })
})

describe('JwtScopeVerifier.verify', () => {
  it('verifies a token of the mock authorization server and returns its claims', async () => {
    const token = await as.issueToken({
      scope: 'customer:read mcp:read',
      client_id: 'gateway',
      sub: 'user-7',
    })
    const result = await verifier().verify(token)
    expect(result).toMatchObject({
      token,
      scopes: ['customer:read', 'mcp:read'],
      clientId: 'gateway',
      subject: 'user-7',
      audience: [AUDIENCE],
      issuer: ISSUER,
      expiresAt: Math.floor(nowMs / 1000) + 3600,
    })
    expect(result.claims.jti).toEqual(expect.any(String))
    expect(Object.isFrozen(result)).toBe(true)
    expect(Object.isFrozen(result.scopes)).toBe(true)
    expect(Object.isFrozen(result.claims)).toBe(true)
  })

  it('verifies ES256 tokens', async () => {
    const token = await es.issueToken({ scope: 'mcp:read' })
    const v = verifier({ issuer: es.issuer, jwksUri: es.jwksUri })
    await expect(v.verify(token)).resolves.toMatchObject({ scopes: ['mcp:read'], issuer: es.issuer })
  })

  it('discovers jwks_uri from RFC 8414 metadata when given only the issuer', async () => {
    const metadata: string[] = []
    const v = new JwtScopeVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      now,
      fetch: (input, init) => {
        metadata.push(String(input))
        return globalThis.fetch(input, init)
      },
    })
    await expect(v.verify(await as.issueToken())).resolves.toMatchObject({ issuer: ISSUER })
    expect(metadata).toEqual([as.metadataUrl, as.jwksUri])
  })

  it('reports a discovery failure as a DiscoveryError, not as an invalid token', async () => {
    server.use(http.get(as.metadataUrl, () => new HttpResponse(null, { status: 404 })))
    server.use(
      http.get(`${ISSUER}/.well-known/openid-configuration`, () => new HttpResponse(null, { status: 404 })),
    )
    const v = new JwtScopeVerifier({ issuer: ISSUER, audience: AUDIENCE, now })
    const error = await rejection(v.verify(await as.issueToken()))
    expect(error).not.toBeInstanceOf(InvalidTokenError)
    expect((error as AuthCoreError).code).toBe('ERR_DISCOVERY_FAILED')
  })

  it('verifies with a static jwks', async () => {
    const v = verifier({ jwksUri: undefined, jwks: as.publicJwks() })
    await expect(v.verify(await as.issueToken())).resolves.toMatchObject({ issuer: ISSUER })
  })

  it.each(['pem', 'jwk', 'KeyObject', 'CryptoKey'] as const)(
    'verifies with a publicKey given as %s',
    async (kind) => {
      const [jwk] = as.publicJwks().keys as [JWK]
      const cryptoKey = (await importJWK(jwk, 'RS256')) as CryptoKey
      const publicKey = {
        pem: await exportSPKI(cryptoKey),
        jwk,
        KeyObject: createPublicKey({ key: jwk as never, format: 'jwk' }),
        CryptoKey: cryptoKey,
      }[kind]
      const v = verifier({ jwksUri: undefined, publicKey })
      await expect(v.verify(await as.issueToken())).resolves.toMatchObject({ issuer: ISSUER })
    },
  )

  it('accepts any of several issuers and audiences', async () => {
    const token = await as.issueToken({ aud: ['https://other.test', AUDIENCE] })
    const v = verifier({ issuer: ['https://a.test', ISSUER], audience: ['https://x.test', AUDIENCE] })
    await expect(v.verify(token)).resolves.toMatchObject({ audience: ['https://other.test', AUDIENCE] })
  })

  it('reads scopes from scp as an array or a string', async () => {
    const v = verifier()
    const arr = await as.issueToken({ scope: undefined, scp: ['a', 'b', 'a'] })
    const str = await as.issueToken({ scope: undefined, scp: 'c d' })
    expect((await v.verify(arr)).scopes).toEqual(['a', 'b'])
    expect((await v.verify(str)).scopes).toEqual(['c', 'd'])
  })

  it('takes clientId from client_id, then azp, then cid', async () => {
    const v = verifier()
    expect((await v.verify(await as.issueToken({ client_id: undefined, azp: 'az' }))).clientId).toBe('az')
    expect((await v.verify(await as.issueToken({ client_id: undefined, cid: 'ci' }))).clientId).toBe('ci')
  })

  it('requires all requiredScopes by default and reports the missing ones', async () => {
    const token = await as.issueToken({ scope: 'customer:read' })
    const v = verifier({
      requiredScopes: ['customer:read', 'ticket:create'],
      resourceMetadata: RESOURCE_METADATA,
    })
    const error = (await rejection(v.verify(token))) as InsufficientScopeError
    expect(error).toBeInstanceOf(InsufficientScopeError)
    expect(error.code).toBe('ERR_INSUFFICIENT_SCOPE')
    expect(error.missingScopes).toEqual(['ticket:create'])
    expect(error.requiredScopes).toEqual(['customer:read', 'ticket:create'])
    expect(error.wwwAuthenticate).toBe(
      `Bearer error="insufficient_scope", scope="customer:read ticket:create", resource_metadata="${RESOURCE_METADATA}"`,
    )
  })

  it('accepts any one of requiredScopes with scopeMatch any', async () => {
    const token = await as.issueToken({ scope: 'customer:read' })
    const v = verifier({ requiredScopes: ['admin', 'customer:read'], scopeMatch: 'any' })
    await expect(v.verify(token)).resolves.toMatchObject({ scopes: ['customer:read'] })
    const error = (await rejection(
      v.verify(token, { requiredScopes: ['admin', 'root'] }),
    )) as InsufficientScopeError
    expect(error.missingScopes).toEqual(['admin', 'root'])
  })

  it('lets a call replace the required scopes', async () => {
    const token = await as.issueToken({ scope: 'customer:read' })
    const v = verifier({ requiredScopes: ['ticket:create'] })
    await expect(v.verify(token, { requiredScopes: ['customer:read'] })).resolves.toBeDefined()
    await expect(v.verify(token)).rejects.toBeInstanceOf(InsufficientScopeError)
    await expect(v.verify(token, { requiredScopes: [] })).resolves.toBeDefined()
  })

  it('rejects requiredScopes: null (a denied tool) with a TypeError instead of using the defaults', async () => {
    const token = await as.issueToken()
    await expect(verifier().verify(token, { requiredScopes: null as never })).rejects.toBeInstanceOf(
      TypeError,
    )
  })

  it('enforces typ at+jwt when configured, accepting the application/ prefix', async () => {
    const v = verifier({ typ: 'at+jwt' })
    await expect(v.verify(await as.issueToken({}, { typ: 'at+jwt' }))).resolves.toBeDefined()
    await expect(v.verify(await as.issueToken({}, { typ: 'application/AT+JWT' }))).resolves.toBeDefined()
    const error = (await rejection(v.verify(await as.issueToken({}, { typ: 'JWT' })))) as InvalidTokenError
    expect(error.reason).toBe('type')
    await expect(verifier().verify(await as.issueToken({}, { typ: 'JWT' }))).resolves.toBeDefined()
  })

  it('allows clockToleranceSeconds of skew on exp and nbf', async () => {
    const v = verifier()
    const expired3s = await as.issueToken({ expiresIn: -3 })
    await expect(v.verify(expired3s)).resolves.toBeDefined()
    const nbf3s = await as.issueToken({ nbf: Math.floor(nowMs / 1000) + 3 })
    await expect(v.verify(nbf3s)).resolves.toBeDefined()
    const strict = verifier({ clockToleranceSeconds: 0 })
    await expect(strict.verify(expired3s)).rejects.toMatchObject({ reason: 'expired' })
  })

  it('requires exp', async () => {
    const error = await rejection(verifier().verify(await as.issueToken({ exp: undefined })))
    expect(error).toMatchObject({ code: 'ERR_INVALID_TOKEN', reason: 'claims' })
  })

  it('rejects a token for another resource even when it carries the right scopes', async () => {
    const token = await as.issueToken({ aud: 'https://other-mcp.test/mcp', scope: 'customer:read' })
    await expect(verifier().verify(token)).rejects.toMatchObject({ reason: 'audience' })
  })
})

describe('JwtScopeVerifier negative matrix', () => {
  const otherKey = generateKeyPair('RS256')
  const b64json = (value: unknown) => base64url.encode(JSON.stringify(value))

  const cases: [string, InvalidTokenReason, () => Promise<string>][] = [
    [
      'alg none',
      'algorithm',
      async () => {
        const [, payload] = (await as.issueToken()).split('.')
        return `${b64json({ alg: 'none', typ: 'at+jwt' })}.${payload}.`
      },
    ],
    [
      'HS256 signed with the public key',
      'algorithm',
      async () => {
        const [jwk] = as.publicJwks().keys as [JWK]
        const pem = await exportSPKI((await importJWK(jwk, 'RS256')) as CryptoKey)
        return new SignJWT({ scope: 'customer:read' })
          .setProtectedHeader({ alg: 'HS256', kid: jwk.kid as string, typ: 'at+jwt' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt(Math.floor(nowMs / 1000))
          .setExpirationTime(Math.floor(nowMs / 1000) + 3600)
          .sign(new TextEncoder().encode(pem))
      },
    ],
    ['expired', 'expired', () => as.issueToken({ expiresIn: -60 })],
    ['nbf in the future', 'not_yet_valid', () => as.issueToken({ nbf: Math.floor(nowMs / 1000) + 600 })],
    ['wrong iss', 'issuer', () => as.issueToken({ iss: 'https://evil.test' })],
    ['wrong aud', 'audience', () => as.issueToken({ aud: 'https://other.test' })],
    ['no aud', 'audience', () => as.issueToken({ aud: undefined })],
    ['unknown kid', 'unknown_key', () => as.issueToken({}, { kid: 'nobody' })],
    [
      'signed by another key with a known kid',
      'signature',
      async () => {
        const [jwk] = as.publicJwks().keys as [JWK]
        return new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(nowMs / 1000) + 60 })
          .setProtectedHeader({ alg: 'RS256', kid: jwk.kid as string })
          .sign((await otherKey).privateKey)
      },
    ],
    [
      'tampered payload',
      'signature',
      async () => {
        const [header, payload, signature] = (await as.issueToken({ scope: 'customer:read' })).split('.')
        const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload as string)))
        return `${header}.${b64json({ ...claims, scope: 'customer:read admin' })}.${signature}`
      },
    ],
    [
      'signature of the wrong length',
      'signature',
      async () => `${(await as.issueToken()).split('.').slice(0, 2).join('.')}.AAAA`,
    ],
    ['malformed: one segment', 'malformed', async () => 'abc'],
    ['malformed: two segments', 'malformed', async () => 'a.b'],
    ['malformed: four segments', 'malformed', async () => `${await as.issueToken()}.x`],
    ['malformed: header not JSON', 'malformed', async () => `${base64url.encode('nope')}.e30.AAAA`],
    ['malformed: header with bad base64url', 'malformed', async () => 'eyJ*.e30.AAAA'],
    [
      'malformed: crit header',
      'malformed',
      async () => {
        const [, payload, signature] = (await as.issueToken()).split('.')
        const [jwk] = as.publicJwks().keys as [JWK]
        return `${b64json({ alg: 'RS256', kid: jwk.kid, crit: ['exp'] })}.${payload}.${signature}`
      },
    ],
    ['oversized', 'too_large', async () => as.issueToken({ padding: 'x'.repeat(17_000) })],
  ]

  it.each(cases)(
    'rejects %s as invalid_token (%s) without echoing the token',
    async (_name, reason, make) => {
      const token = await make()
      const error = await rejection(verifier({ resourceMetadata: RESOURCE_METADATA }).verify(token))
      expect(error).toBeInstanceOf(InvalidTokenError)
      const invalid = error as InvalidTokenError
      expect(invalid.code).toBe('ERR_INVALID_TOKEN')
      expect(invalid.reason).toBe(reason)
      expect(invalid.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="[^"]*"/)
      expect(invalid.wwwAuthenticate).toContain(`resource_metadata="${RESOURCE_METADATA}"`)
      for (const part of token.split('.').filter((p) => p.length > 8)) {
        expect(invalid.message).not.toContain(part)
        expect(invalid.wwwAuthenticate).not.toContain(part)
      }
      // jose.jwtVerify with the equivalent options rejects it too (it has no size cap: not that one).
      if (reason !== 'too_large') {
        await expect(
          jwtVerify(token, createLocalJWKSet(as.publicJwks()), {
            issuer: ISSUER,
            audience: AUDIENCE,
            algorithms: [...JWT_ALGORITHMS],
            clockTolerance: 5,
            requiredClaims: ['exp'],
            currentDate: new Date(nowMs),
          }),
        ).rejects.toThrow()
      }
    },
  )

  it('rejects the oversized token before fetching any key', async () => {
    const token = await as.issueToken({ padding: 'x'.repeat(17_000) })
    await expect(verifier().verify(token)).rejects.toMatchObject({ reason: 'too_large' })
    expect(jwksRequests).toBe(0)
  })

  it('honours a smaller maxTokenBytes', async () => {
    const token = await as.issueToken()
    await expect(verifier({ maxTokenBytes: token.length - 1 }).verify(token)).rejects.toMatchObject({
      reason: 'too_large',
    })
  })

  it('rejects RS256 when the allowlist is ES256 only', async () => {
    await expect(verifier({ algorithms: ['ES256'] }).verify(await as.issueToken())).rejects.toMatchObject({
      reason: 'algorithm',
    })
  })

  it('rejects a non-string token as malformed', async () => {
    await expect(verifier().verify(42 as never)).rejects.toMatchObject({ reason: 'malformed' })
  })
})

describe('JwtScopeVerifier keys', () => {
  it('fetches the JWKS once and reuses it', async () => {
    const v = verifier()
    await v.verify(await as.issueToken())
    await v.verify(await as.issueToken({ scope: 'mcp:read' }))
    expect(jwksRequests).toBe(1)
  })

  it('accepts a token signed with a rotated key after one refetch on its unknown kid', async () => {
    const v = verifier()
    await v.verify(await as.issueToken())
    await as.rotateKeys()
    const rotated = await as.issueToken()
    await expect(v.verify(rotated)).resolves.toMatchObject({ issuer: ISSUER })
    expect(jwksRequests).toBe(2)
  })

  it('rejects an unknown kid, then accepts it once the authorization server publishes the key', async () => {
    const v = verifier()
    await v.verify(await as.issueToken())
    // Keep the old key published, add a new one: the token with the new kid is unknown until published.
    const futureKid = 'next-key'
    const early = await as.issueToken({}, { kid: futureKid })
    await expect(v.verify(early)).rejects.toMatchObject({ reason: 'unknown_key' })
    await as.rotateKeys({ keepPrevious: true })
    nowMs += 5_000
    await expect(v.verify(await as.issueToken())).resolves.toBeDefined()
  })

  it('rate-limits refetches triggered by unknown kids and shares concurrent ones', async () => {
    const v = verifier({ jwksCooldownSeconds: 5 })
    await v.verify(await as.issueToken())
    const bogus = await Promise.all([1, 2, 3].map((i) => as.issueToken({}, { kid: `bogus-${i}` })))
    nowMs += 5_000
    const errors = await Promise.all(bogus.map((t) => rejection(v.verify(t))))
    expect(errors.map((e) => (e as InvalidTokenError).reason)).toEqual([
      'unknown_key',
      'unknown_key',
      'unknown_key',
    ])
    expect(jwksRequests).toBe(2)
    await rejection(v.verify(bogus[0] as string))
    expect(jwksRequests).toBe(2)
    nowMs += 5_000
    await rejection(v.verify(bogus[0] as string))
    expect(jwksRequests).toBe(3)
  })

  it('keeps serving cached keys while the JWKS endpoint is down', async () => {
    const v = verifier({ jwksCacheMaxAgeSeconds: 60 })
    await v.verify(await as.issueToken({ scope: 'a' }))
    server.use(http.get(as.jwksUri, () => HttpResponse.error()))
    nowMs += 120_000
    await expect(v.verify(await as.issueToken({ scope: 'b' }))).resolves.toMatchObject({ scopes: ['b'] })
    // The stale JWKS is refetched behind the verification (which did not wait for it).
    await vi.waitFor(() => expect(jwksRequests).toBe(2))
  })

  it('fails closed with ERR_KEYS_UNAVAILABLE when no keys were ever fetched, and recovers', async () => {
    server.use(http.get(as.jwksUri, () => new HttpResponse('down', { status: 503 })))
    const v = verifier()
    const token = await as.issueToken()
    const error = await rejection(v.verify(token))
    expect(error).not.toBeInstanceOf(InvalidTokenError)
    expect(error).toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE' })
    expect((error as Error).message).toContain(as.jwksUri)
    server.resetHandlers()
    // Within the cooldown after a failure the verifier fails fast instead of refetching.
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE' })
    expect(jwksRequests).toBe(1)
    nowMs += 5_000
    await expect(v.verify(token)).resolves.toBeDefined()
    expect(jwksRequests).toBe(2)
  })

  it('reports ERR_KEYS_UNAVAILABLE for an unknown kid while the JWKS endpoint is down', async () => {
    const v = verifier()
    await v.verify(await as.issueToken())
    server.use(http.get(as.jwksUri, () => HttpResponse.error()))
    nowMs += 10_000
    await expect(v.verify(await as.issueToken({}, { kid: 'new' }))).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
    })
  })

  it('rejects a JWKS response that is not a JWK Set as keys unavailable', async () => {
    server.use(http.get(as.jwksUri, () => HttpResponse.json({ nope: true })))
    await expect(verifier().verify(await as.issueToken())).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
    })
  })

  it('stops accepting cached tokens of a key that disappeared from the JWKS', async () => {
    const v = verifier()
    const old = await as.issueToken()
    await v.verify(old)
    await as.rotateKeys()
    await v.verify(await as.issueToken())
    await expect(v.verify(old)).rejects.toMatchObject({ reason: 'unknown_key' })
  })

  it('tries each key without kid when several could match', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const other = await exportJWK((await generateKeyPair('ES256')).publicKey)
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(nowMs / 1000) + 60 })
      .setProtectedHeader({ alg: 'ES256' })
      .sign(privateKey)
    const v = verifier({ jwksUri: undefined, jwks: { keys: [other, jwk] } })
    await expect(v.verify(token)).resolves.toMatchObject({ issuer: ISSUER })
  })
})

describe('JwtScopeVerifier hardening', () => {
  it('rate-limits discovery with only an issuer: a flood of forged tokens makes one metadata request per cooldown', async () => {
    const requests = { oauth: 0, oidc: 0 }
    server.use(
      http.get(as.metadataUrl, () => {
        requests.oauth++
        return new HttpResponse(null, { status: 503 })
      }),
      http.get(`${ISSUER}/.well-known/openid-configuration`, () => {
        requests.oidc++
        return new HttpResponse(null, { status: 503 })
      }),
    )
    const v = new JwtScopeVerifier({ issuer: ISSUER, audience: AUDIENCE, now, jwksCooldownSeconds: 5 })
    const forged = await Promise.all(
      Array.from({ length: 30 }, (_, i) => as.issueToken({}, { kid: `f${i}` })),
    )
    const concurrent = await Promise.all(forged.map((t) => rejection(v.verify(t))))
    for (const token of forged) concurrent.push(await rejection(v.verify(token)))
    expect(new Set(concurrent.map((e) => (e as AuthCoreError).code))).toEqual(
      new Set(['ERR_DISCOVERY_FAILED']),
    )
    expect(requests).toEqual({ oauth: 1, oidc: 1 })
    nowMs += 5_000
    await rejection(v.verify(forged[0] as string))
    expect(requests).toEqual({ oauth: 2, oidc: 2 })
    server.resetHandlers()
    nowMs += 5_000
    await expect(v.verify(await as.issueToken())).resolves.toMatchObject({ issuer: ISSUER })
  })

  it('refetches a JWKS older than jwksCacheMaxAgeSeconds even when every call hits the cache, ending cached verifications of a removed key', async () => {
    const v = verifier({ jwksCacheMaxAgeSeconds: 60 })
    const old = await as.issueToken()
    await v.verify(old)
    await as.rotateKeys() // the old key is gone from the JWKS
    nowMs += 30_000
    await expect(v.verify(old)).resolves.toBeDefined() // within the max age: cached, no request
    expect(jwksRequests).toBe(1)
    nowMs += 31_000
    await v.verify(old) // still served while the refetch runs behind it
    await vi.waitFor(() => expect(jwksRequests).toBeGreaterThanOrEqual(2))
    await vi.waitFor(async () =>
      expect(await rejection(v.verify(old))).toMatchObject({ reason: 'unknown_key' }),
    )
  })

  it('never waits on a hung JWKS endpoint for a known key, and at most jwksTimeoutMs for an unknown one', async () => {
    let hang = false
    // A fetch that ignores its signal: only the verifier's own timeout can end the wait.
    const fetch = (input: string | URL | Request, init?: RequestInit) =>
      hang && String(input) === as.jwksUri ? new Promise<Response>(() => {}) : globalThis.fetch(input, init)
    const v = verifier({ fetch, jwksCacheMaxAgeSeconds: 60, jwksTimeoutMs: 200 })
    await v.verify(await as.issueToken({ scope: 'a' }))
    hang = true
    nowMs += 61_000 // stale keys
    await expect(v.verify(await as.issueToken({ scope: 'b' }))).resolves.toMatchObject({ scopes: ['b'] })
    const unknown = await rejection(v.verify(await as.issueToken({}, { kid: 'rotated' })))
    expect(unknown).toMatchObject({ code: 'ERR_KEYS_UNAVAILABLE' })
    expect((unknown as Error).message).toContain('timed out')
  })

  it('rejects deeply nested claims with a typed InvalidTokenError, never a RangeError', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const sign = (nested: string) => {
      const claims = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${Math.floor(nowMs / 1000) + 60},"x":${nested}}`
      return new CompactSign(new TextEncoder().encode(claims))
        .setProtectedHeader({ alg: 'ES256' })
        .sign(privateKey)
    }
    const v = verifier({ jwksUri: undefined, jwks: { keys: [jwk] }, maxTokenBytes: 2_000_000 })
    for (const depth of [100_000, 32]) {
      const error = await rejection(v.verify(await sign(`${'['.repeat(depth)}${']'.repeat(depth)}`)))
      expect(error, `depth ${depth}`).toBeInstanceOf(InvalidTokenError)
      expect(error).toMatchObject({ reason: 'claims' })
    }
    const fine = await v.verify(await sign(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`))
    expect(Object.isFrozen(fine.claims.x)).toBe(true)
  })

  it('unwraps an auth fetch installed as globalThis.fetch (UNDERLYING_FETCH), never calling it', async () => {
    const real = globalThis.fetch
    let wrapperCalls = 0
    const authFetch = Object.assign(
      () => {
        wrapperCalls++
        return new Promise<Response>(() => {})
      },
      { [UNDERLYING_FETCH]: real },
    )
    globalThis.fetch = authFetch as unknown as typeof fetch
    try {
      const v = new JwtScopeVerifier({ issuer: ISSUER, audience: AUDIENCE, now })
      await expect(v.verify(await as.issueToken())).resolves.toMatchObject({ issuer: ISSUER })
    } finally {
      globalThis.fetch = real
    }
    expect(wrapperCalls).toBe(0)
  })

  it('rejects a bad jwksTimeoutMs or retry at construction', () => {
    expect(() => verifier({ jwksTimeoutMs: 0 })).toThrow('"jwksTimeoutMs"')
    expect(() => verifier({ retry: { limit: 1.5 } })).toThrow('"retry.limit"')
  })
})

describe('JwtScopeVerifier cache', () => {
  it('returns the cached result for the same token', async () => {
    const v = verifier()
    const token = await as.issueToken()
    const first = await v.verify(token)
    expect(await v.verify(token)).toBe(first)
  })

  it('still checks the required scopes of every call on a cache hit', async () => {
    const v = verifier()
    const token = await as.issueToken({ scope: 'customer:read' })
    await v.verify(token, { requiredScopes: ['customer:read'] })
    await expect(v.verify(token, { requiredScopes: ['ticket:create'] })).rejects.toMatchObject({
      missingScopes: ['ticket:create'],
    })
  })

  it('expires a cached token at exp plus the clock tolerance', async () => {
    const v = verifier()
    const token = await as.issueToken({ expiresIn: 60 })
    await v.verify(token)
    nowMs += 64_000
    await expect(v.verify(token)).resolves.toBeDefined()
    nowMs += 2_000
    await expect(v.verify(token)).rejects.toMatchObject({ reason: 'expired' })
  })

  it('does not cache with cacheSize 0', async () => {
    const v = verifier({ cacheSize: 0 })
    const token = await as.issueToken()
    expect(await v.verify(token)).not.toBe(await v.verify(token))
  })

  it('evicts the least recently used token beyond cacheSize', async () => {
    const v = verifier({ cacheSize: 2 })
    const [a, b, c] = await Promise.all([as.issueToken(), as.issueToken(), as.issueToken()])
    const ra = await v.verify(a as string)
    const rb = await v.verify(b as string)
    expect(await v.verify(a as string)).toBe(ra)
    await v.verify(c as string)
    expect(await v.verify(a as string)).toBe(ra)
    expect(await v.verify(b as string)).not.toBe(rb)
  })

  it('does not cache rejections', async () => {
    server.use(http.get(as.jwksUri, () => HttpResponse.error()))
    const v = verifier()
    const token = await as.issueToken()
    await rejection(v.verify(token))
    server.resetHandlers()
    nowMs += 5_000
    await expect(v.verify(token)).resolves.toBeDefined()
  })
})

describe('internal LruCache', () => {
  it('keeps at most max entries, dropping the least recently used', () => {
    const lru = new LruCache<string, number>(2)
    lru.set('a', 1)
    lru.set('b', 2)
    lru.get('a')
    lru.set('c', 3)
    expect([lru.get('a'), lru.get('b'), lru.get('c'), lru.size]).toEqual([1, undefined, 3, 2])
  })
})

describe('internal signature backends', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const)(
    'agree on valid and tampered %s signatures (node and webcrypto)',
    async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg)
      const token = await new SignJWT({ a: 1 }).setProtectedHeader({ alg }).sign(privateKey)
      const key = await importJwkFor(await exportJWK(publicKey), alg)
      if (!key) throw new Error('import failed')
      const [h, p, s] = token.split('.') as [string, string, string]
      const signature = decodeBase64url(s) as Uint8Array
      const good = asciiBytes(`${h}.${p}`)
      const bad = asciiBytes(`${h}.${p}x`)
      for (const backend of ['node', 'webcrypto'] as const) {
        expect(await verifySignature(key, good, signature, backend)).toBe(true)
        expect(await verifySignature(key, bad, signature, backend)).toBe(false)
        expect(await verifySignature(key, good, signature.slice(1), backend)).toBe(false)
      }
    },
  )

  it('refuses RSA keys shorter than 2048 bits', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    expect(await importJwkFor(publicKey.export({ format: 'jwk' }) as JWK, 'RS256')).toBeUndefined()
  })
})
