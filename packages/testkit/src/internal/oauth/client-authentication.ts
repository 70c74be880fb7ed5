/**
 * Client authentication at the mock token endpoint: `client_secret_basic`, `client_secret_post`,
 * `private_key_jwt` (with `jti` replay detection) and `none`. Never re-exported.
 *
 * @see RFC 6749 §2.3, RFC 7523 §2.2 and §3, RFC 7521 §4.2
 */
import { createLocalJWKSet, decodeJwt, type JWK, errors as joseErrors, jwtVerify } from 'jose'
import { quote } from '../http.js'
import { OAuthError } from './oauth-error.js'

/** What client authentication needs to know of a registered client. */
export interface AuthenticatableClient {
  clientId: string
  clientSecret?: string
  jwks?: { keys: JWK[] }
  tokenEndpointAuthMethods?: string[]
}

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Asymmetric JWS algorithms accepted for client assertions (and advertised in the metadata). */
export const ASSERTION_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]

/** RFC 6749 §2.3.1 / Appendix B: Basic credentials are form-urlencoded before base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function decodeBasic(authorization: string): { clientId: string; secret: string } | undefined {
  try {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return undefined
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

function isBasic(authorization: string | null): authorization is string {
  return authorization?.toLowerCase().startsWith('basic ') === true
}

/** Which client a token request claims to be and how it authenticates, before anything is verified. */
export function identifyClient(
  headers: Headers,
  params: URLSearchParams,
): { clientId: string | undefined; authMethod: string | undefined } {
  const authorization = headers.get('authorization')
  let clientId = params.get('client_id') ?? undefined
  if (isBasic(authorization)) {
    try {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      clientId = formDecode(colon < 0 ? decoded : decoded.slice(0, colon))
    } catch {}
    return { clientId, authMethod: 'client_secret_basic' }
  }
  if (params.has('client_assertion')) {
    if (clientId === undefined) {
      try {
        const iss = decodeJwt(params.get('client_assertion') ?? '').iss
        if (typeof iss === 'string') clientId = iss
      } catch {}
    }
    return { clientId, authMethod: 'private_key_jwt' }
  }
  if (params.has('client_secret')) return { clientId, authMethod: 'client_secret_post' }
  return { clientId, authMethod: clientId === undefined ? undefined : 'none' }
}

/** Options of {@link ClientAuthenticator}. */
export interface ClientAuthenticatorOptions<C extends AuthenticatableClient> {
  clients: ReadonlyMap<string, C>
  issuer: string
  tokenEndpoint: string
  /** The server's clock, epoch ms. */
  clock: () => number
}

/** Authenticates token requests against the registered clients. */
export class ClientAuthenticator<C extends AuthenticatableClient> {
  readonly #clients: ReadonlyMap<string, C>
  readonly #issuer: string
  readonly #tokenEndpoint: string
  readonly #clock: () => number
  /** Used assertion `jti` per client → its `exp` (epoch s), to refuse replays (RFC 7523 §3 item 7). */
  readonly #usedJtis = new Map<string, number>()

  constructor(options: ClientAuthenticatorOptions<C>) {
    this.#clients = options.clients
    this.#issuer = options.issuer
    this.#tokenEndpoint = options.tokenEndpoint
    this.#clock = options.clock
  }

  /**
   * Authenticates the client of a token request. `sink.clientId` learns the client id as soon as it
   * is known, even when authentication then fails. With `optional`, a request that carries no
   * client authentication at all resolves `undefined` instead of failing.
   */
  async authenticate(
    headers: Headers,
    params: URLSearchParams,
    sink: { clientId: string | undefined },
    optional = false,
  ): Promise<C | undefined> {
    const authorization = headers.get('authorization')
    const basic = isBasic(authorization)
    const assertion = params.get('client_assertion')
    const secretParam = params.get('client_secret')
    const clientIdParam = params.get('client_id') ?? undefined
    const challenge = { 'www-authenticate': `Basic realm=${quote(this.#issuer)}, charset="UTF-8"` }
    const used = [basic, assertion !== null, secretParam !== null].filter(Boolean).length
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    if (used > 1)
      throw new OAuthError(400, 'invalid_request', 'more than one client authentication method used')

    if (basic) {
      const credentials = decodeBasic(authorization)
      if (!credentials) throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials', challenge)
      sink.clientId = credentials.clientId
      if (clientIdParam !== undefined && clientIdParam !== credentials.clientId) {
        throw new OAuthError(400, 'invalid_request', 'client_id does not match the Basic credentials')
      }
      const client = this.#clients.get(credentials.clientId)
      if (
        !client ||
        client.clientSecret === undefined ||
        client.clientSecret !== credentials.secret ||
        !client.tokenEndpointAuthMethods?.includes('client_secret_basic')
      ) {
        throw new OAuthError(401, 'invalid_client', 'client authentication failed', challenge)
      }
      return client
    }
    if (assertion !== null) {
      if (params.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
        throw new OAuthError(
          400,
          'invalid_request',
          `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`,
        )
      }
      const client = await this.#verifyAssertion(assertion, clientIdParam)
      sink.clientId = client.clientId
      return client
    }
    if (secretParam !== null) {
      const client = clientIdParam === undefined ? undefined : this.#clients.get(clientIdParam)
      if (
        !client ||
        client.clientSecret === undefined ||
        client.clientSecret !== secretParam ||
        !client.tokenEndpointAuthMethods?.includes('client_secret_post')
      ) {
        throw new OAuthError(401, 'invalid_client', 'client authentication failed')
      }
      return client
    }
    if (clientIdParam !== undefined) {
      const client = this.#clients.get(clientIdParam)
      if (client?.tokenEndpointAuthMethods?.includes('none')) return client
      if (optional && !client) return undefined
    }
    if (optional && clientIdParam === undefined) return undefined
    throw new OAuthError(401, 'invalid_client', 'client authentication required', challenge)
  }

  async #verifyAssertion(assertion: string, clientIdParam: string | undefined): Promise<C> {
    let unverified: ReturnType<typeof decodeJwt>
    try {
      unverified = decodeJwt(assertion)
    } catch {
      throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT')
    }
    const clientId = clientIdParam ?? (typeof unverified.iss === 'string' ? unverified.iss : undefined)
    const client = clientId === undefined ? undefined : this.#clients.get(clientId)
    if (!client?.jwks) throw new OAuthError(401, 'invalid_client', 'unknown client or no registered keys')
    if (!client.tokenEndpointAuthMethods?.includes('private_key_jwt')) {
      throw new OAuthError(401, 'invalid_client', 'private_key_jwt is not allowed for this client')
    }
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks), {
        issuer: client.clientId,
        subject: client.clientId,
        audience: [this.#issuer, this.#tokenEndpoint, `${this.#issuer}/`],
        algorithms: ASSERTION_ALGS,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(this.#clock()),
        clockTolerance: 5,
      })
      const key = `${client.clientId} ${String(payload.jti)}`
      const nowS = Math.floor(this.#clock() / 1000)
      for (const [k, exp] of this.#usedJtis) if (exp < nowS - 60) this.#usedJtis.delete(k)
      if (this.#usedJtis.has(key))
        throw new OAuthError(401, 'invalid_client', 'client_assertion jti was already used')
      this.#usedJtis.set(key, payload.exp ?? nowS)
      return client
    } catch (e) {
      if (e instanceof OAuthError) throw e
      const reason = e instanceof joseErrors.JOSEError ? e.code : 'verification failed'
      throw new OAuthError(401, 'invalid_client', `client_assertion rejected: ${reason}`)
    }
  }

  /** Forgets used assertion `jti`s. */
  reset(): void {
    this.#usedJtis.clear()
  }
}
