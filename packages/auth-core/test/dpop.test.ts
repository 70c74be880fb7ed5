import { inspect } from 'node:util'
import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  EmbeddedJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose'
import { describe, expect, it } from 'vitest'
import { DpopKey, dpopHtu, isDpopNonceChallenge } from '../src/index.js'

async function sha256(text: string): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))),
  )
}

describe('DpopKey', () => {
  it('makes RFC 9449 proofs: dpop+jwt, public jwk only, fresh jti, htm, htu without query, iat, ath', async () => {
    const key = new DpopKey({ now: () => 1_700_000_000_123 })
    const token = 'access-token-value'
    const proof = await key.proof({
      method: 'post',
      url: 'HTTPS://MCP.Example.com:443/mcp?x=1#frag',
      accessToken: token,
    })
    const header = decodeProtectedHeader(proof)
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
    expect(Object.keys(header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y'])
    const { payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      currentDate: new Date(1_700_000_000_123),
    })
    expect(payload).toEqual({
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      htm: 'POST',
      htu: 'https://mcp.example.com/mcp',
      iat: 1_700_000_000,
      ath: await sha256(token),
    })
    const again = decodeJwt(await key.proof({ method: 'POST', url: 'https://mcp.example.com/mcp' }))
    expect(again.jti).not.toBe(payload.jti)
    expect(again.ath).toBeUndefined()
    expect(await key.thumbprint()).toBe(await calculateJwkThumbprint(header.jwk!, 'sha256'))
  })

  it('remembers nonces per origin and sends them only there', async () => {
    const key = new DpopKey()
    key.rememberNonce('https://as.example.com/token', 'as-nonce')
    key.rememberNonce('https://mcp.example.com/mcp', 'rs-nonce')
    key.rememberNonce('https://mcp.example.com/other', 'bad nonce with "quotes"') // not NQCHAR: ignored
    key.rememberNonce('https://mcp.example.com/other', null)
    expect(decodeJwt(await key.proof({ method: 'POST', url: 'https://as.example.com/token' })).nonce).toBe(
      'as-nonce',
    )
    expect(decodeJwt(await key.proof({ method: 'GET', url: 'https://mcp.example.com/x' })).nonce).toBe(
      'rs-nonce',
    )
    expect(
      decodeJwt(await key.proof({ method: 'GET', url: 'https://other.example.com/' })).nonce,
    ).toBeUndefined()
    expect(
      decodeJwt(await key.proof({ method: 'GET', url: 'https://mcp.example.com/', nonce: null })).nonce,
    ).toBeUndefined()
    expect(
      decodeJwt(await key.proof({ method: 'GET', url: 'https://mcp.example.com/', nonce: 'given' })).nonce,
    ).toBe('given')
  })

  it('uses a given key pair and infers its algorithm', async () => {
    for (const alg of ['RS256', 'PS256', 'EdDSA', 'ES384'] as const) {
      const pair = await generateKeyPair(alg)
      const key = new DpopKey({ keyPair: pair })
      expect(key.algorithm).toBe(alg)
      const proof = await key.proof({ method: 'GET', url: 'https://mcp.example.com/' })
      expect(decodeProtectedHeader(proof).alg).toBe(alg)
      await jwtVerify(proof, pair.publicKey)
    }
  })

  it('never shows its key in inspect or JSON, and rejects bad options naming them', async () => {
    const key = new DpopKey()
    await key.proof({ method: 'GET', url: 'https://mcp.example.com/' })
    expect(inspect(key, { depth: 10 })).toBe("DpopKey { algorithm: 'ES256' }")
    expect(JSON.stringify({ key })).toBe('{"key":{"algorithm":"ES256"}}')
    expect(() => new DpopKey({ algorithm: 'HS256' as never })).toThrow(/"algorithm"/)
    expect(() => new DpopKey({ keyPair: {} as never })).toThrow(/"keyPair"/)
    expect(() => new DpopKey({ maxNonces: 0 })).toThrow(/"maxNonces"/)
    await expect(key.proof({ method: 'GET', url: 'not a url' })).rejects.toThrow(/"url"/)
    await expect(key.proof({ method: 'G E T', url: 'https://a.example/' })).rejects.toThrow(/"method"/)
  })

  it('dpopHtu drops query and fragment and normalises scheme, host and default port', () => {
    expect(dpopHtu('HTTPS://Example.COM:443/a/b?c#d')).toBe('https://example.com/a/b')
    expect(dpopHtu('http://127.0.0.1:8080/mcp')).toBe('http://127.0.0.1:8080/mcp')
  })
})

describe('isDpopNonceChallenge', () => {
  const response = (status: number, headers: Record<string, string>) =>
    new Response(null, { status, headers })
  it('is true for a 401 DPoP use_dpop_nonce challenge with a DPoP-Nonce header only', () => {
    expect(
      isDpopNonceChallenge(
        response(401, {
          'www-authenticate':
            'DPoP error="use_dpop_nonce", resource_metadata="https://mcp.example.com/.well-known/x"',
          'dpop-nonce': 'n1',
        }),
      ),
    ).toBe(true)
    expect(isDpopNonceChallenge(response(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"' }))).toBe(
      false,
    )
    expect(
      isDpopNonceChallenge(
        response(401, { 'www-authenticate': 'DPoP error="invalid_token"', 'dpop-nonce': 'n1' }),
      ),
    ).toBe(false)
    expect(
      isDpopNonceChallenge(
        response(403, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'n1' }),
      ),
    ).toBe(false)
    expect(
      isDpopNonceChallenge(
        response(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'dpop-nonce': 'n1' }),
      ),
    ).toBe(false)
  })
})
