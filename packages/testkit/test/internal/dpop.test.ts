import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { accessTokenHash, DpopPolicy, DpopVerifier, normalizeHtu } from '../../src/internal/dpop.js'

const keys = await generateKeyPair('ES256', { extractable: true })
const publicJwk = await exportJWK(keys.publicKey)
const jkt = await calculateJwkThumbprint(publicJwk, 'sha256')
const NOW = Date.parse('2030-01-01T00:00:00Z')
const HTU = 'https://mcp.mock.test/mcp'

async function proof(
  claims: Record<string, unknown> = {},
  header: { typ?: string; alg?: string; jwk?: JWK } = {},
  key: CryptoKey | Uint8Array = keys.privateKey,
) {
  return new SignJWT({
    htm: 'POST',
    htu: HTU,
    iat: Math.floor(NOW / 1000),
    jti: crypto.randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk, ...header })
    .sign(key)
}

function verifier(nonce?: string) {
  return new DpopVerifier({ windowSeconds: 300, clock: () => NOW, nonce: () => nonce })
}

const target = { htm: 'POST', htu: HTU }

describe('DpopVerifier (RFC 9449 §4.3)', () => {
  it("accepts a valid proof and gives the key's RFC 7638 thumbprint", async () => {
    await expect(verifier().verify(await proof(), target)).resolves.toMatchObject({ ok: true, jkt })
  })

  it.each([
    ['a wrong typ', () => proof({}, { typ: 'JWT' }), 'typ must be dpop+jwt'],
    [
      'a symmetric alg',
      () => proof({}, { alg: 'HS256' }, new TextEncoder().encode('a shared secret of 32 bytes!!!!!')),
      'alg must be a supported asymmetric algorithm',
    ],
    ['no jwk', () => proof({}, { jwk: undefined as never }), 'missing jwk header parameter'],
    ['a wrong htm', () => proof({ htm: 'GET' }), 'htm does not match POST'],
    [
      'another URL',
      () => proof({ htu: 'https://mcp.mock.test/other' }),
      'htu does not match the request URL',
    ],
    ['a query in htu', () => proof({ htu: `${HTU}?x=1` }), 'htu must be a URL without query or fragment'],
    ['an old iat', () => proof({ iat: Math.floor(NOW / 1000) - 301 }), 'iat outside the acceptable window'],
    ['a future iat', () => proof({ iat: Math.floor(NOW / 1000) + 301 }), 'iat outside the acceptable window'],
    ['no jti', () => proof({ jti: undefined }), 'missing jti claim'],
    ['two proofs', async () => `${await proof()}, ${await proof()}`, 'multiple DPoP proof headers'],
  ])('refuses %s', async (_name, make, description) => {
    const result = await verifier().verify(await make(), target)
    expect(result).toMatchObject({ ok: false, error: 'invalid_dpop_proof', description })
  })

  it('refuses a proof whose jwk carries the private key, or that another key signed', async () => {
    const privateJwk = await exportJWK(keys.privateKey)
    expect(await verifier().verify(await proof({}, { jwk: privateJwk }), target)).toMatchObject({
      description: 'jwk must not contain a private key',
    })
    const other = await generateKeyPair('ES256')
    expect(await verifier().verify(await proof({}, {}, other.privateKey), target)).toMatchObject({
      description: 'DPoP proof signature does not verify',
    })
  })

  it('refuses a replayed proof (same key and jti) within the window', async () => {
    const v = verifier()
    const once = await proof()
    expect((await v.verify(once, target)).ok).toBe(true)
    expect(await v.verify(once, target)).toMatchObject({
      ok: false,
      description: 'DPoP proof jti was already used',
    })
  })

  it('binds the access token through ath', async () => {
    const withToken = { ...target, accessToken: 'token-1' }
    expect((await verifier().verify(await proof({ ath: accessTokenHash('token-1') }), withToken)).ok).toBe(
      true,
    )
    expect(
      await verifier().verify(await proof({ ath: accessTokenHash('token-2') }), withToken),
    ).toMatchObject({
      description: 'ath does not match the presented access token',
    })
    expect(await verifier().verify(await proof(), withToken)).toMatchObject({ ok: false })
  })

  it('asks for the nonce with use_dpop_nonce, and remembers the jti so the retry needs a new proof', async () => {
    const v = verifier('n-1')
    const first = await proof()
    expect(await v.verify(first, target)).toMatchObject({ ok: false, error: 'use_dpop_nonce' })
    expect(await v.verify(await proof({ nonce: 'stale' }), target)).toMatchObject({ error: 'use_dpop_nonce' })
    expect(await v.verify(await proof({ nonce: 'n-1' }), target)).toMatchObject({ ok: true, nonce: 'n-1' })
  })

  it('normalises htu: scheme and host case, default port, one trailing slash', () => {
    expect(normalizeHtu('HTTPS://MCP.mock.test:443/mcp/')).toBe('https://mcp.mock.test/mcp')
    expect(normalizeHtu('not a url')).toBeUndefined()
  })
})

describe('DpopPolicy', () => {
  it('generates a nonce for nonce: true, keeps a given one, and rotates', () => {
    expect(new DpopPolicy(undefined, () => NOW).nonce()).toBeUndefined()
    expect(new DpopPolicy({ nonce: 'fixed' }, () => NOW).nonce()).toBe('fixed')
    const policy = new DpopPolicy({ nonce: true }, () => NOW)
    const first = policy.nonce()
    expect(first).toMatch(/^[\w-]{16,}$/)
    expect(policy.rotate()).not.toBe(first)
  })

  it('rejects bad options with a TypeError naming them', () => {
    expect(() => new DpopPolicy({ proofWindowSeconds: 0 }, () => NOW)).toThrow(/"dpop.proofWindowSeconds"/)
    expect(() => new DpopPolicy({ nonce: '' }, () => NOW)).toThrow(/"dpop.nonce"/)
  })
})
