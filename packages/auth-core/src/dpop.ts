import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import type { DpopProofInput, DpopSigner } from './internal/dpop-signer.js'
import { LruCache } from './internal/lru.js'
import { DPOP_ALGORITHMS, type DpopAlgorithmName, describeList, isOneOf } from './internal/protocol.js'

export type { DpopProofInput as DpopProofOptions } from './internal/dpop-signer.js'

/** JWS algorithms of DPoP proofs. @see RFC 9449 §4.2 */
export type DpopAlgorithm = DpopAlgorithmName

/** Options of {@link DpopKey}. */
export interface DpopKeyOptions {
  /**
   * The proof algorithm. With `keyPair`, inferred from its private key when absent.
   * @default 'ES256'
   */
  algorithm?: DpopAlgorithm | undefined
  /**
   * A key pair to use instead of generating one (e.g. from `crypto.subtle.generateKey` or jose's
   * `importJWK`, kept across restarts so a token bound to it stays usable). The private key may be
   * non-extractable; the public key must be exportable (WebCrypto public keys always are).
   * @default a new key pair, generated once (non-extractable private key)
   */
  keyPair?: CryptoKeyPair | undefined
  /**
   * Origins whose nonce is remembered at most; the least recently used goes first.
   * @default 256
   */
  maxNonces?: number | undefined
  /**
   * Clock, epoch milliseconds (`iat`).
   * @default Date.now
   */
  now?: (() => number) | undefined
}

interface Ready {
  privateKey: CryptoKey
  jwk: JWK
}

const encoder = new TextEncoder()
/** `NQCHAR` of RFC 9449 §8.1: what a nonce may hold. */
const NONCE = /^[\x21\x23-\x5b\x5d-\x7e]+$/
const MAX_NONCE_LENGTH = 1024

function inferAlgorithm(key: CryptoKey): DpopAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string }
  switch (algorithm.name) {
    case 'ECDSA':
      if (algorithm.namedCurve === 'P-384') return 'ES384'
      if (algorithm.namedCurve === 'P-521') return 'ES512'
      return 'ES256'
    case 'Ed25519':
      return 'EdDSA'
    case 'RSA-PSS':
      return 'PS256'
    case 'RSASSA-PKCS1-v1_5':
      return 'RS256'
    default:
      throw new TypeError(`"keyPair" has an algorithm DPoP cannot use (${algorithm.name})`)
  }
}

/** The public members of a JWK: what the proof's `jwk` header carries (never `d`, RFC 9449 §4.2). */
function publicMembers(jwk: JWK): JWK {
  switch (jwk.kty) {
    case 'EC':
      return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y }
    case 'OKP':
      return { kty: 'OKP', crv: jwk.crv, x: jwk.x }
    case 'RSA':
      return { kty: 'RSA', e: jwk.e, n: jwk.n }
    default:
      throw new TypeError('"keyPair" has a public key DPoP cannot use')
  }
}

function originOf(url: string | URL): string {
  return new URL(url).origin
}

/**
 * The `htu` of a proof: scheme, host and path of `url`, without query and fragment (RFC 9449
 * §4.2). The WHATWG URL parser lower-cases scheme and host and drops a default port.
 */
export function dpopHtu(url: string | URL): string {
  const u = new URL(url)
  return `${u.origin}${u.pathname}`
}

/**
 * A DPoP key pair (RFC 9449): it signs a proof for every request, token requests and resource
 * requests alike, and remembers each server's nonce per origin (the authorization server's and the
 * MCP server's are different). Give the same instance to a token provider (`dpop: key`) and to the
 * code that calls the MCP server, so that the token's `cnf.jkt` names the key the proofs are made
 * with.
 *
 * A resource request with a DPoP-bound token (`token.tokenType === 'DPoP'`) sends
 * `Authorization: DPoP <token>` and `DPoP: await key.proof({ method, url, accessToken: token })`,
 * a new proof per request (and per retry). When the server answers `401` with
 * `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a `DPoP-Nonce` header
 * ({@link isDpopNonceChallenge}), remember it with {@link DpopKey.rememberNonce} and retry once:
 * the next proof for that origin carries it. Nonces arriving on any response are worth
 * remembering (RFC 9449 §8.2).
 *
 * @example
 * ```ts
 * const key = new DpopKey() // ES256, generated once
 * const provider = new ClientCredentialsTokenProvider({ tokenUrl, clientId, clientSecret, dpop: key })
 * const token = await provider.getToken()
 * const url = 'https://mcp.example.com/mcp'
 * const headers = {
 *   authorization: `${token.tokenType} ${token.value}`,
 *   dpop: await key.proof({ method: 'POST', url, accessToken: token.value }),
 * }
 * ```
 * @see RFC 9449 §4 (proofs), §5 (token requests), §7 (resource requests), §8 (nonces)
 */
export class DpopKey implements DpopSigner {
  readonly #algorithm: DpopAlgorithm
  readonly #given: CryptoKeyPair | undefined
  readonly #nonces: LruCache<string, string>
  readonly #now: () => number
  #ready: Promise<Ready> | undefined
  #thumbprint: Promise<string> | undefined

  constructor(options: DpopKeyOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    const { keyPair } = options
    if (keyPair !== undefined) {
      if (
        typeof keyPair !== 'object' ||
        keyPair === null ||
        !(keyPair.privateKey instanceof CryptoKey) ||
        !(keyPair.publicKey instanceof CryptoKey)
      )
        throw new TypeError('"keyPair" must be a CryptoKeyPair')
      if (keyPair.privateKey.type !== 'private' || keyPair.publicKey.type !== 'public')
        throw new TypeError('"keyPair" must hold a private and a public key')
    }
    const algorithm = options.algorithm ?? (keyPair ? inferAlgorithm(keyPair.privateKey) : 'ES256')
    if (!isOneOf(DPOP_ALGORITHMS, algorithm))
      throw new TypeError(`"algorithm" must be one of ${describeList(DPOP_ALGORITHMS)}`)
    const maxNonces = options.maxNonces ?? 256
    if (!Number.isInteger(maxNonces) || maxNonces < 1)
      throw new TypeError('"maxNonces" option must be a positive integer')
    const now = options.now ?? Date.now
    if (typeof now !== 'function') throw new TypeError('"now" option must be a function')
    this.#algorithm = algorithm
    this.#given = keyPair
    this.#nonces = new LruCache(maxNonces)
    this.#now = now
  }

  /** The JWS algorithm of the proofs. */
  get algorithm(): DpopAlgorithm {
    return this.#algorithm
  }

  /**
   * The RFC 7638 SHA-256 JWK thumbprint of the public key: the `cnf.jkt` of tokens bound to it
   * (and the `dpop_jkt` authorization request parameter, RFC 9449 §10).
   */
  thumbprint(): Promise<string> {
    this.#thumbprint ??= this.#load().then(({ jwk }) => calculateJwkThumbprint(jwk, 'sha256'))
    return this.#thumbprint
  }

  /** The public key as a JWK (public members only). */
  async publicJwk(): Promise<JWK> {
    return { ...(await this.#load()).jwk }
  }

  /**
   * A new DPoP proof JWT for one request: `typ: dpop+jwt`, the public key in `jwk`, a fresh random
   * `jti`, `htm`, `htu` (without query and fragment), `iat` now, `ath` (base64url SHA-256 of the
   * access token) when `accessToken` is given, and `nonce`: the given one, else the one remembered
   * for the URL's origin (`nonce: null` sends none).
   *
   * @see RFC 9449 §4.2
   */
  async proof(options: DpopProofInput): Promise<string> {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
    const { method, url, accessToken } = options
    if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method))
      throw new TypeError('"method" must be an HTTP method')
    let htu: string
    try {
      htu = dpopHtu(url)
    } catch {
      throw new TypeError('"url" must be an absolute URL')
    }
    if (accessToken !== undefined && (typeof accessToken !== 'string' || accessToken === ''))
      throw new TypeError('"accessToken" must be a non-empty string')
    const nonce = options.nonce === undefined ? this.nonceFor(url) : (options.nonce ?? undefined)
    const { privateKey, jwk } = await this.#load()
    const claims: Record<string, string> = {
      jti: base64url.encode(crypto.getRandomValues(new Uint8Array(16))),
      htm: method.toUpperCase(),
      htu,
    }
    if (accessToken !== undefined) {
      const digest = await crypto.subtle.digest('SHA-256', encoder.encode(accessToken))
      claims['ath'] = base64url.encode(new Uint8Array(digest))
    }
    if (nonce !== undefined) claims['nonce'] = nonce
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.#algorithm, typ: 'dpop+jwt', jwk })
      .setIssuedAt(Math.floor(this.#now() / 1000))
      .sign(privateKey)
  }

  /**
   * Remembers the server's nonce for the origin of `url` (a `DPoP-Nonce` response header); the
   * next proofs for that origin carry it. A missing or malformed value is ignored.
   *
   * @see RFC 9449 §8
   */
  rememberNonce(url: string | URL, nonce: string | null | undefined): void {
    if (typeof nonce !== 'string' || nonce.length > MAX_NONCE_LENGTH || !NONCE.test(nonce)) return
    try {
      this.#nonces.set(originOf(url), nonce)
    } catch {}
  }

  /** The nonce remembered for the origin of `url`, if any. */
  nonceFor(url: string | URL): string | undefined {
    try {
      return this.#nonces.get(originOf(url))
    } catch {
      return undefined
    }
  }

  /** `DpopKey { algorithm }`: the key is never printed. */
  toJSON(): { algorithm: DpopAlgorithm } {
    return { algorithm: this.#algorithm }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DpopKey { algorithm: '${this.#algorithm}' }`
  }

  #load(): Promise<Ready> {
    if (this.#ready === undefined) {
      const algorithm = this.#algorithm
      const pair: Promise<CryptoKeyPair> = this.#given
        ? Promise.resolve(this.#given)
        : generateKeyPair(algorithm, { extractable: false })
      this.#ready = pair.then(async ({ privateKey, publicKey }) => ({
        privateKey,
        jwk: publicMembers(await exportJWK(publicKey)),
      }))
      // A failure (an unusable given key) is reported to every caller alike; a generated key
      // that failed may be generated again.
      this.#ready.catch(() => {
        if (this.#given === undefined) this.#ready = undefined
      })
    }
    return this.#ready
  }
}

/**
 * Whether `response` asks for a DPoP nonce: a `401` whose `WWW-Authenticate` has a `DPoP`
 * challenge with `error="use_dpop_nonce"` (a resource server, RFC 9449 §9), and a `DPoP-Nonce`
 * header to retry with. Token endpoints answer `400` with the error in the JSON body instead;
 * the token providers handle those themselves.
 *
 * @example
 * ```ts
 * declare const key: DpopKey
 * const response = await fetch('https://mcp.example.com/mcp', { method: 'POST' })
 * if (isDpopNonceChallenge(response)) key.rememberNonce(response.url, response.headers.get('dpop-nonce'))
 * ```
 */
export function isDpopNonceChallenge(response: Response): boolean {
  if (response.status !== 401 || !response.headers.has('dpop-nonce')) return false
  const header = response.headers.get('www-authenticate') ?? ''
  // A DPoP challenge (RFC 9449 §7.1) with the nonce error; no other scheme defines it.
  return /(?:^|,)\s*dpop(?:\s|$)/i.test(header) && /(?:^|[\s,])error\s*=\s*"?use_dpop_nonce"?/i.test(header)
}
