/**
 * The verifier checked against jose: on generated tokens (fast-check) it reaches the same
 * accept/reject decision as `jose.jwtVerify` with the equivalent options, as the cookie filter is
 * checked against `cookie.parse`. Where it is stricter on purpose, the difference is listed (and
 * tested) below, and the generator stays out of it.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import fc from 'fast-check'
import { createLocalJWKSet, type JWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { InvalidTokenError } from '../src/errors.js'
import { JWT_ALGORITHMS } from '../src/internal/protocol.js'
import { JwtScopeVerifier } from '../src/jwt-verifier.js'

const ISSUER = 'https://as.jose.test'
const AUDIENCE = 'https://mcp.jose.test/mcp'
const NOW_S = 1_900_000_000
const TOLERANCE_S = 5

interface Signer {
  kid: string
  alg: 'RS256' | 'ES256' | 'EdDSA'
  key: KeyObject
  jwk: JWK
}

function signer(kid: string, alg: Signer['alg']): Signer {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519')
  return {
    kid,
    alg,
    key: pair.privateKey,
    jwk: { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid, alg },
  }
}

const signers = [signer('r1', 'RS256'), signer('e1', 'ES256'), signer('d1', 'EdDSA')] as const
const jwks = { keys: signers.map((s) => s.jwk) }
const joseKeys = createLocalJWKSet(jwks)

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signature(s: Signer, input: string): string {
  const data = Buffer.from(input)
  const bytes =
    s.alg === 'RS256'
      ? sign('sha256', data, s.key)
      : s.alg === 'ES256'
        ? sign('sha256', data, { key: s.key, dsaEncoding: 'ieee-p1363' })
        : sign(null, data, s.key)
  return bytes.toString('base64url')
}

/** Both decisions for one token: true = accepted. Our errors other than InvalidTokenError fail the test. */
async function decisions(token: string, typ: string | undefined): Promise<{ ours: boolean; jose: boolean }> {
  const ours = await new JwtScopeVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks,
    typ,
    clockToleranceSeconds: TOLERANCE_S,
    cacheSize: 0,
    now: () => NOW_S * 1000,
  })
    .verify(token)
    .then(
      () => true,
      (error: unknown) => {
        if (error instanceof InvalidTokenError) return false
        throw error
      },
    )
  const jose = await jwtVerify(token, joseKeys, {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: [...JWT_ALGORITHMS],
    clockTolerance: TOLERANCE_S,
    requiredClaims: ['exp'], // the verifier requires exp (RFC 9068 §2.2)
    currentDate: new Date(NOW_S * 1000),
    ...(typ === undefined ? {} : { typ }),
  }).then(
    () => true,
    () => false,
  )
  return { ours, jose }
}

/** The valid value most of the time (so that accepted tokens are generated too), else one of `others`. */
const mostly = <T>(valid: fc.Arbitrary<T>, ...others: fc.Arbitrary<T>[]) =>
  fc.oneof(
    { weight: 6 * others.length, arbitrary: valid },
    ...others.map((arbitrary) => ({ weight: 1, arbitrary })),
  )
const around = (delta: number) => fc.integer({ min: NOW_S - delta, max: NOW_S + delta })
const none = fc.constant(undefined)

const tokenSpec = fc.record({
  signer: fc.constantFrom(...signers),
  alg: mostly<string | undefined>(
    none,
    fc.constantFrom('RS256', 'ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS384', 'ES384', 'HS256', 'none'),
  ),
  kid: mostly(fc.constant('own'), fc.constantFrom('other', 'unknown'), fc.constant('absent')),
  typ: fc.constantFrom(undefined, 'at+jwt', 'JWT', 'application/AT+JWT', 'text/plain'),
  expectTyp: fc.constantFrom(undefined, 'at+jwt'),
  crit: mostly<unknown[] | undefined>(none, fc.constantFrom(['exp'], [], ['x-ext'])),
  exp: mostly<unknown>(
    fc.integer({ min: NOW_S - TOLERANCE_S - 3, max: NOW_S + 3600 }),
    around(100),
    none,
    fc.constant('later'),
    fc.constant(1e20),
  ),
  nbf: mostly<unknown>(none, around(20), fc.constant('soon')),
  iat: mostly<unknown>(none, around(1000), fc.constant('then')),
  iss: mostly<unknown>(fc.constant(ISSUER), fc.constantFrom('https://evil.test', undefined, 5, [ISSUER])),
  aud: mostly<unknown>(
    fc.constantFrom(AUDIENCE, [AUDIENCE, 'https://x.test']),
    fc.constantFrom(['https://x.test'], 'https://x.test', undefined, 5, []),
  ),
  sub: fc.constantFrom(undefined, 'user-1'),
  tamper: mostly(
    fc.constant('none'),
    fc.constantFrom('sig-middle', 'sig-last', 'sig-truncated', 'sig-empty'),
    fc.constantFrom('payload', 'two-parts', 'four-parts'),
  ),
})
type Spec = typeof tokenSpec extends fc.Arbitrary<infer T> ? T : never

function build(spec: Spec): string {
  const s = spec.signer
  const header: Record<string, unknown> = { alg: spec.alg ?? s.alg }
  if (spec.kid !== 'absent') {
    header.kid =
      spec.kid === 'own' ? s.kid : spec.kid === 'other' ? signers.find((o) => o !== s)!.kid : 'nobody'
  }
  if (spec.typ !== undefined) header.typ = spec.typ
  if (spec.crit !== undefined) header.crit = spec.crit
  const payload = {
    iss: spec.iss,
    aud: spec.aud,
    exp: spec.exp,
    nbf: spec.nbf,
    iat: spec.iat,
    sub: spec.sub,
    scope: 'mcp:read',
  }
  const input = `${b64(header)}.${b64(payload)}`
  const sig = signature(s, input)
  const mid = Math.floor(sig.length / 2)
  const flip = (c: string) => (c === 'A' ? 'B' : 'A')
  switch (spec.tamper) {
    case 'sig-middle':
      return `${input}.${sig.slice(0, mid)}${flip(sig[mid]!)}${sig.slice(mid + 1)}`
    case 'sig-last':
      return `${input}.${sig.slice(0, -1)}${flip(sig.at(-1)!)}`
    case 'sig-truncated':
      return `${input}.${sig.slice(0, -4)}`
    case 'sig-empty':
      return `${input}.`
    case 'payload':
      return `${b64(header)}.${b64({ ...payload, scope: 'mcp:read admin' })}.${sig}`
    case 'two-parts':
      return input
    case 'four-parts':
      return `${input}.${sig}.x`
    default:
      return `${input}.${sig}`
  }
}

describe('JwtScopeVerifier against jose.jwtVerify', () => {
  it('reaches the same accept/reject decision on generated tokens', async () => {
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(tokenSpec, async (spec) => {
        const token = build(spec)
        const { ours, jose } = await decisions(token, spec.expectTyp)
        if (ours) accepted++
        expect(ours, JSON.stringify({ ...spec, signer: spec.signer.kid })).toBe(jose)
      }),
      { numRuns: 400 },
    )
    // The generator reaches both sides of the decision, not only rejections.
    expect(accepted).toBeGreaterThan(10)
  })

  // Deliberately stricter than jose (which accepts each of these): the standards say so, or the
  // extension is not one a JWT access token needs. Also stricter, and not generated: tokens over
  // maxTokenBytes and claims nested deeper than 32 levels.
  const stricter: [string, (sign: (header: object, payload: object) => string) => string][] = [
    ['a non-string "sub" (RFC 7519 §4.1.2)', (t) => t({ alg: 'ES256', kid: 'e1' }, { sub: 5 })],
    [
      'an "aud" list with a non-string member (RFC 7519 §4.1.3)',
      (t) => t({ alg: 'ES256', kid: 'e1' }, { aud: [AUDIENCE, 5] }),
    ],
    ['a "scope" that is not a string (RFC 9068 §2.2.3)', (t) => t({ alg: 'ES256', kid: 'e1' }, { scope: 5 })],
    [
      'any "crit", even RFC 7797 b64: true',
      (t) => t({ alg: 'ES256', kid: 'e1', crit: ['b64'], b64: true }, {}),
    ],
    [
      'whitespace inside a base64url segment (RFC 7515 §2)',
      (t) => t({ alg: 'ES256', kid: 'e1' }, {}).replace(/\.([^.]*)$/, '. $1'),
    ],
  ]

  it.each(stricter)('rejects %s, which jose accepts', async (_name, make) => {
    const e1 = signers[1]
    const token = make((header, payload) => {
      const input = `${b64(header)}.${b64({ iss: ISSUER, aud: AUDIENCE, exp: NOW_S + 60, ...payload })}`
      return `${input}.${signature(e1, input)}`
    })
    expect(await decisions(token, undefined)).toEqual({ ours: false, jose: true })
  })
})
