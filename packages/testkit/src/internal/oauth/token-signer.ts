/**
 * The signing keys of the mock authorization server: the current key, the keys its JWKS serves,
 * rotation, and JWT signing. Never re-exported.
 */
import { randomBytes } from 'node:crypto'
import { importJWK, type JWK, SignJWT } from 'jose'
import { freshKeyMaterial, initialKeyMaterial, type KeyMaterial } from './key-pool.js'

export type SigningAlgorithm = 'RS256' | 'ES256'

interface SigningKey {
  kid: string
  material: KeyMaterial
  publicJwk: JWK
  /** WebCrypto form of the private key, imported once: jose signs twice as fast with it. */
  cryptoKey?: Promise<CryptoKey | Uint8Array>
}

function toSigningKey(algorithm: SigningAlgorithm, material: KeyMaterial): SigningKey {
  const kid = randomBytes(8).toString('base64url')
  const publicJwk = {
    ...(material.publicKey.export({ format: 'jwk' }) as JWK),
    kid,
    alg: algorithm,
    use: 'sig',
  }
  return { kid, material, publicJwk }
}

/** Signs JWTs with a current key and serves the public keys; claims set to `undefined` are left out. */
export class TokenSigner {
  readonly algorithm: SigningAlgorithm
  #current: SigningKey
  #served: SigningKey[]

  constructor(algorithm: SigningAlgorithm) {
    this.algorithm = algorithm
    this.#current = toSigningKey(algorithm, initialKeyMaterial(algorithm))
    this.#served = [this.#current]
  }

  /** The `kid` of the current signing key. */
  get kid(): string {
    return this.#current.kid
  }

  /** Signs `claims` with the current key; `kid` and `typ` go into the protected header. */
  async sign(claims: Record<string, unknown>, header: { kid?: string; typ: string }): Promise<string> {
    const payload: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(claims)) if (v !== undefined) payload[k] = v
    const key = this.#current
    key.cryptoKey ??= importJWK(key.material.privateKey.export({ format: 'jwk' }) as JWK, this.algorithm)
    const cryptoKey = await key.cryptoKey
    return new SignJWT(payload)
      .setProtectedHeader({ alg: this.algorithm, kid: header.kid ?? key.kid, typ: header.typ })
      .sign(cryptoKey)
  }

  /** Generates a new current key (off the main thread); `keepPrevious` keeps serving the old ones. */
  async rotate(keepPrevious: boolean): Promise<void> {
    const next = toSigningKey(this.algorithm, await freshKeyMaterial(this.algorithm))
    this.#served = keepPrevious ? [next, ...this.#served] : [next]
    this.#current = next
  }

  /** Copies of the public keys currently served. */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.#served.map((k) => ({ ...k.publicJwk })) }
  }
}
