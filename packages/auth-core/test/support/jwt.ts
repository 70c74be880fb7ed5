// Signed JWTs for tests: users' tokens, ID tokens, workload assertions, from one ES256 key.
import { generateKeyPair, jwtVerify, SignJWT } from 'jose'

const keys = generateKeyPair('ES256')

/** A JWT with `claims`; `exp` in seconds from `now` (epoch ms), default an hour. */
export async function signJwt(
  claims: Record<string, unknown>,
  options: { now?: number; expiresIn?: number; typ?: string } = {},
): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3600))
    .sign((await keys).privateKey)
}

/** Verifies a JWT made by {@link signJwt} (the mock servers' check); throws when it does not verify. */
export async function verifyJwt(token: string, options: { audience?: string; now?: number } = {}) {
  const { payload } = await jwtVerify(token, (await keys).publicKey, {
    ...(options.audience ? { audience: options.audience } : {}),
    ...(options.now ? { currentDate: new Date(options.now) } : {}),
  })
  return payload
}
