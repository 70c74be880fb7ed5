/**
 * DPoP proof verification (RFC 9449 §4.3), shared by the mock authorization server (token
 * endpoint) and the mock MCP server (resource requests): header, key, signature, `htm`, `htu`,
 * `iat` window, `jti` replay, `ath`, and the server nonce on demand. Never re-exported.
 *
 * @see RFC 9449 §4.2, §4.3, §7.1, §8, §9
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from 'jose'

/** Asymmetric JWS algorithms a proof may use. */
export const DPOP_ALGS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]

/** What a proof must bind to. */
export interface ProofTarget {
  /** The HTTP method of the request. */
  htm: string
  /** The request URL (query and fragment are ignored). */
  htu: string
  /** The access token the proof must hash into `ath` (resource requests). */
  accessToken?: string
}

export type ProofResult =
  | { ok: true; jkt: string; jti: string; nonce: string | undefined }
  | {
      ok: false
      error: 'invalid_dpop_proof' | 'use_dpop_nonce'
      description: string
      jkt?: string
      jti?: string
    }

/** `scheme://host/path` with a single trailing slash dropped (RFC 9449 §4.3 item 9, RFC 3986 §6). */
export function normalizeHtu(value: string): string | undefined {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`
  } catch {
    return undefined
  }
}

/** `ath`: base64url of the SHA-256 of the access token's ASCII (RFC 9449 §4.2). */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url')
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']

/** Options of {@link DpopVerifier}. */
export interface DpopVerifierOptions {
  /** How far a proof's `iat` may be from the server's clock, in seconds. */
  windowSeconds: number
  /** The server's clock, epoch ms. */
  clock: () => number
  /** The nonce proofs must carry, or `undefined` when none is required. */
  nonce: () => string | undefined
}

/** Verifies proofs and remembers their `jti`s for the window, so a replayed proof is refused. */
export class DpopVerifier {
  readonly #options: DpopVerifierOptions
  /** `jkt jti` → expiry (epoch s). */
  readonly #seen = new Map<string, number>()

  constructor(options: DpopVerifierOptions) {
    this.#options = options
  }

  async verify(proof: string, target: ProofTarget): Promise<ProofResult> {
    const fail = (description: string, extra: { jkt?: string; jti?: string } = {}): ProofResult => ({
      ok: false,
      error: 'invalid_dpop_proof',
      description,
      ...extra,
    })
    // Headers joined by `Headers` mean the request carried more than one DPoP header (§4.3 item 1).
    if (proof.includes(',')) return fail('multiple DPoP proof headers')
    let header: ReturnType<typeof decodeProtectedHeader>
    let claims: JWTPayload
    try {
      header = decodeProtectedHeader(proof)
      claims = decodeJwt(proof)
    } catch {
      return fail('DPoP proof is not a JWT')
    }
    if (header.typ !== 'dpop+jwt') return fail('typ must be dpop+jwt')
    if (typeof header.alg !== 'string' || !DPOP_ALGS.includes(header.alg))
      return fail('alg must be a supported asymmetric algorithm')
    const jwk = header.jwk as JWK | undefined
    if (!jwk || typeof jwk !== 'object') return fail('missing jwk header parameter')
    if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) return fail('jwk must not contain a private key')
    let jkt: string
    try {
      jkt = await calculateJwkThumbprint(jwk, 'sha256')
      await jwtVerify(proof, await importJWK(jwk, header.alg), {
        typ: 'dpop+jwt',
        algorithms: [header.alg],
        currentDate: new Date(this.#options.clock()),
      })
    } catch {
      return fail('DPoP proof signature does not verify')
    }
    const jti = claims.jti
    if (typeof jti !== 'string' || jti === '') return fail('missing jti claim', { jkt })
    if (claims['htm'] !== target.htm) return fail(`htm does not match ${target.htm}`, { jkt, jti })
    const htu = claims['htu']
    if (typeof htu !== 'string' || htu.includes('?') || htu.includes('#'))
      return fail('htu must be a URL without query or fragment', { jkt, jti })
    if (normalizeHtu(htu) === undefined || normalizeHtu(htu) !== normalizeHtu(target.htu))
      return fail('htu does not match the request URL', { jkt, jti })
    const nowS = Math.floor(this.#options.clock() / 1000)
    const window = this.#options.windowSeconds
    if (typeof claims.iat !== 'number' || Math.abs(nowS - claims.iat) > window)
      return fail('iat outside the acceptable window', { jkt, jti })
    if (target.accessToken !== undefined && claims['ath'] !== accessTokenHash(target.accessToken))
      return fail('ath does not match the presented access token', { jkt, jti })
    for (const [key, expiry] of this.#seen) if (expiry < nowS) this.#seen.delete(key)
    const key = `${jkt} ${jti}`
    if (this.#seen.has(key)) return fail('DPoP proof jti was already used', { jkt, jti })
    // Remembered before the nonce check: a retry after use_dpop_nonce needs a fresh proof too.
    this.#seen.set(key, claims.iat + window)
    const nonce = typeof claims['nonce'] === 'string' ? claims['nonce'] : undefined
    const required = this.#options.nonce()
    if (required !== undefined && nonce !== required) {
      return {
        ok: false,
        error: 'use_dpop_nonce',
        description: nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is not current',
        jkt,
        jti,
      }
    }
    return { ok: true, jkt, jti, nonce }
  }

  /** Forgets every `jti` seen. */
  reset(): void {
    this.#seen.clear()
  }
}

/** A fresh server nonce (RFC 9449 §8). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url')
}

/** The DPoP settings of one mock server (the public `MockDpopOptions` has this shape). */
export interface DpopSettings {
  required?: boolean
  nonce?: boolean | string
  proofWindowSeconds?: number
}

/** One server's DPoP state: whether proofs are required, its current nonce, and its verifier. */
export class DpopPolicy {
  readonly required: boolean
  readonly verifier: DpopVerifier
  #nonce: string | undefined

  constructor(settings: DpopSettings | undefined, clock: () => number) {
    const window = settings?.proofWindowSeconds ?? 300
    if (!Number.isFinite(window) || window <= 0)
      throw new TypeError('"dpop.proofWindowSeconds" option must be a positive number')
    const nonce = settings?.nonce
    if (nonce !== undefined && typeof nonce !== 'boolean' && (typeof nonce !== 'string' || nonce === ''))
      throw new TypeError('"dpop.nonce" option must be a boolean or a non-empty string')
    this.required = settings?.required ?? false
    this.#nonce = nonce === true ? newNonce() : typeof nonce === 'string' ? nonce : undefined
    this.verifier = new DpopVerifier({ windowSeconds: window, clock, nonce: () => this.#nonce })
  }

  /** The nonce proofs must carry now, if any. */
  nonce(): string | undefined {
    return this.#nonce
  }

  /** Requires a new nonce from now on (the previous one stops working) and returns it. */
  rotate(): string {
    this.#nonce = newNonce()
    return this.#nonce
  }
}
