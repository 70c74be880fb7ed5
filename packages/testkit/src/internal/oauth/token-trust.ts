/**
 * Verification of the JWTs a grant receives: subject and actor tokens (RFC 8693) and assertions
 * (RFC 7523, ID-JAG), signed by this server or by a configured trusted issuer. Never re-exported.
 */
import {
  createLocalJWKSet,
  decodeJwt,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose'
import { OAuthError } from './oauth-error.js'

/** An issuer and its current public keys. */
export interface KeySource {
  issuer: string
  jwks(): { keys: JWK[] }
}

/** What a verified token told us. */
export interface VerifiedToken {
  payload: JWTPayload
  /** The verified `typ` header, if any. */
  typ: string | undefined
  /** The issuer whose keys verified it. */
  issuer: string
}

/** What a token must satisfy. */
export interface TokenRules {
  /** Accepted `aud` values (one must match); `undefined` skips the audience check. */
  audience?: readonly string[]
  /** The required `typ` header. */
  typ?: string
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

/** Verifies JWTs against the keys of their `iss`; failures are `invalid_grant` naming what failed. */
export class TokenTrust {
  readonly #sources: ReadonlyMap<string, KeySource>
  readonly #clock: () => number
  readonly #keySets = new Map<string, { id: string; get: ReturnType<typeof createLocalJWKSet> }>()

  constructor(sources: readonly KeySource[], clock: () => number) {
    this.#sources = new Map(sources.map((s) => [s.issuer, s]))
    this.#clock = clock
  }

  #keySet(source: KeySource) {
    const jwks = source.jwks()
    const id = jwks.keys.map((k) => `${k.kid}:${k.x ?? k.n ?? ''}`).join(' ')
    let cached = this.#keySets.get(source.issuer)
    if (cached?.id !== id) {
      cached = { id, get: createLocalJWKSet(jwks) }
      this.#keySets.set(source.issuer, cached)
    }
    return cached.get
  }

  /** Verifies `token` (named `what` in errors, e.g. `subject_token`) or throws `invalid_grant`. */
  async verify(token: string, what: string, rules: TokenRules = {}): Promise<VerifiedToken> {
    let iss: unknown
    try {
      iss = decodeJwt(token).iss
    } catch {
      throw new OAuthError(400, 'invalid_grant', `${what} is not a JWT`)
    }
    const source = typeof iss === 'string' ? this.#sources.get(iss) : undefined
    if (!source) throw new OAuthError(400, 'invalid_grant', `${what} issuer is not trusted`)
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.#keySet(source), {
        issuer: source.issuer,
        ...(rules.audience ? { audience: [...rules.audience] } : {}),
        ...(rules.typ ? { typ: rules.typ } : {}),
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
        currentDate: new Date(this.#clock()),
        clockTolerance: 5,
      })
      return { payload, typ: protectedHeader.typ, issuer: source.issuer }
    } catch (e) {
      const reason =
        e instanceof joseErrors.JWTExpired
          ? 'is expired'
          : e instanceof joseErrors.JWTClaimValidationFailed
            ? e.claim === 'aud'
              ? 'audience is not accepted here'
              : `claim ${e.claim} is invalid`
            : e instanceof joseErrors.JOSEError
              ? `was rejected (${e.code})`
              : 'was rejected'
      throw new OAuthError(400, 'invalid_grant', `${what} ${reason}`)
    }
  }
}
