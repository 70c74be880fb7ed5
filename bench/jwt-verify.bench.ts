/**
 * JWT verification throughput: `npx tsx bench/jwt-verify.bench.ts`.
 *
 * Compares bare jose `jwtVerify` (key imported once) with `JwtScopeVerifier` uncached
 * (`cacheSize: 0`, warm keys) and through its LRU (static keys, and a remote JWKS, whose cache
 * hits also check the JWKS age), for RS256 and ES256. Sequential awaits on one
 * core (Node is single-threaded here); each case runs 12 interleaved rounds of 250 ms (3 s per case, ~35 s
 * in all) and the medians are reported, ops/s and the ratio to bare jose within the same round.
 */
import { KeyObject, verify as nodeVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { JwtScopeVerifier } from '../packages/auth-core/src/jwt-verifier.js'

// jose is a dependency of auth-core, not of the workspace root: load the same copy auth-core uses.
type Jose = typeof import('../packages/auth-core/node_modules/jose/dist/types/index.js')
const josePath = createRequire(new URL('../packages/auth-core/package.json', import.meta.url)).resolve('jose')
const { exportJWK, generateKeyPair, jwtVerify, SignJWT } = (await import(
  pathToFileURL(josePath).href
)) as Jose

const ISSUER = 'https://auth.bench.test'
const AUDIENCE = 'https://mcp.bench.test/mcp'
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12)

type Case = { name: string; run: () => Promise<unknown> }

async function opsPerSecond(run: () => Promise<unknown>, ms: number): Promise<number> {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < ms) {
    for (let i = 0; i < 200; i++) await run()
    n += 200
    elapsed = performance.now() - start
  }
  return n / (elapsed / 1000)
}

async function setup(alg: 'RS256' | 'ES256'): Promise<Case[]> {
  const { privateKey, publicKey } = await generateKeyPair(alg)
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' }
  const token = await new SignJWT({ scope: 'customer:read ticket:create', client_id: 'bench-client' })
    .setProtectedHeader({ alg, kid: 'k1', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey)
  const common = { issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [jwk] }, typ: 'at+jwt' }
  const uncached = new JwtScopeVerifier({ ...common, cacheSize: 0 })
  const cached = new JwtScopeVerifier(common)
  // A remote JWKS (served by a fetch, no network): the path where cache hits also check the JWKS age.
  const jwksResponse = JSON.stringify({ keys: [jwk] })
  const remote = new JwtScopeVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
    jwksUri: 'https://auth.bench.test/jwks',
    fetch: async () => new Response(jwksResponse, { headers: { 'content-type': 'application/json' } }),
  })
  const opts = { requiredScopes: ['customer:read'] }
  // References: the signature check alone, as the runtime offers it (no parsing, no claims).
  const [h, p, s] = token.split('.') as [string, string, string]
  const signingInput = Buffer.from(`${h}.${p}`)
  const signature = Buffer.from(s, 'base64url')
  const keyObject = KeyObject.from(publicKey)
  const rsa = alg === 'RS256'
  const subtleAlg = rsa ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' }
  const nodeKey = rsa ? keyObject : { key: keyObject, dsaEncoding: 'ieee-p1363' as const }
  return [
    {
      name: `${alg} ref: node crypto.verify only`,
      run: async () => nodeVerify('sha256', signingInput, nodeKey, signature),
    },
    {
      name: `${alg} ref: subtle.verify only`,
      run: () => crypto.subtle.verify(subtleAlg, publicKey, signature, signingInput),
    },
    {
      name: `${alg} bare jose jwtVerify`,
      run: () =>
        jwtVerify(token, publicKey, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg], typ: 'at+jwt' }),
    },
    { name: `${alg} JwtScopeVerifier uncached`, run: () => uncached.verify(token, opts) },
    { name: `${alg} JwtScopeVerifier LRU hit`, run: () => cached.verify(token, opts) },
    { name: `${alg} JwtScopeVerifier LRU hit, remote`, run: () => remote.verify(token, opts) },
  ]
}

// BENCH_ONLY=RS256 (a substring of case names) runs a subset; bare jose always stays as the baseline.
const only = process.env.BENCH_ONLY
const cases = [...(await setup('RS256')), ...(await setup('ES256'))].filter(
  (c) =>
    !only || c.name.includes(only) || (c.name.includes('bare jose') && c.name.startsWith(only.slice(0, 5))),
)
for (const c of cases) await opsPerSecond(c.run, 200) // warm up (JIT, key import)
// Short interleaved rounds: on a shared machine the load drifts, so each case is compared with
// bare jose measured in the same round (ratio per round, then the median).
const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
const ratios = new Map<string, number[]>(cases.map((c) => [c.name, []]))
const ceiling = new Map<string, number[]>(cases.map((c) => [c.name, []]))
for (let r = 0; r < ROUNDS; r++) {
  const round = new Map<string, number>()
  for (const c of cases) round.set(c.name, await opsPerSecond(c.run, ROUND_MS))
  for (const c of cases) {
    const ops = round.get(c.name) ?? 0
    samples.get(c.name)?.push(ops)
    ratios.get(c.name)?.push(ops / (round.get(`${c.name.slice(0, 5)} bare jose jwtVerify`) ?? ops))
    ceiling.get(c.name)?.push(ops / (round.get(`${c.name.slice(0, 5)} ref: node crypto.verify only`) ?? ops))
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
console.log(`node ${process.version}, ${ROUNDS} interleaved rounds x ${ROUND_MS} ms per case; medians`)
for (const c of cases) {
  const ops = median(samples.get(c.name) ?? [])
  const ratio = median(ratios.get(c.name) ?? [])
  const ofCeiling = median(ceiling.get(c.name) ?? [])
  console.log(
    `${c.name.padEnd(40)} ${Math.round(ops).toString().padStart(8)} ops/s ${(1e6 / ops).toFixed(1).padStart(7)} µs/op  ${ratio.toFixed(2)}x bare jose  ${ofCeiling.toFixed(2)}x node crypto.verify`,
  )
}
