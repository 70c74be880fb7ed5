import { type KeyObject, randomBytes, randomUUID } from 'node:crypto'
import {
  createLocalJWKSet,
  decodeJwt,
  importJWK,
  type JWK,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose'
import { HttpResponse, http, type RequestHandler } from 'msw'
import { headersToRecord, jsonResponse, quote, sleep, trimTrailingSlash } from './internal/http.js'
import { freshKeyMaterial, initialKeyMaterial, type KeyMaterial } from './internal/key-pool.js'

/** A client registered with the mock authorization server. */
export interface MockClient {
  /** The `client_id`. */
  clientId: string
  /**
   * The client secret, for `client_secret_basic` and `client_secret_post`.
   * @default undefined (the client cannot authenticate with a secret)
   */
  clientSecret?: string
  /**
   * Public keys for `private_key_jwt` (RFC 7523): client assertions are verified against them.
   * @default undefined (the client cannot use `private_key_jwt`)
   */
  jwks?: { keys: JWK[] }
  /**
   * Scopes the client may be granted. A request for any other scope fails with `invalid_scope`.
   * `undefined` allows any scope.
   * @default undefined
   */
  allowedScopes?: string[]
  /**
   * Scopes granted when the request has no `scope`.
   * @default allowedScopes (or no scope when that is undefined too)
   */
  defaultScopes?: string[]
  /**
   * Token endpoint authentication methods the client may use (`client_secret_basic`,
   * `client_secret_post`, `private_key_jwt`, `none`).
   * @default the secret methods when `clientSecret` is set, plus `private_key_jwt` when `jwks` is set
   */
  tokenEndpointAuthMethods?: string[]
}

/** Options of {@link createMockOAuthServer}. */
export interface MockOAuthServerOptions {
  /**
   * The issuer identifier (RFC 8414 §2). Endpoints live under it.
   * @default 'https://auth.mock.test'
   */
  issuer?: string
  /**
   * Registered clients.
   * @default [{ clientId: 'test-client', clientSecret: 'test-secret', allowedScopes: ['mcp:read', 'mcp:write', 'customer:read', 'ticket:create', 'account:calculate'] }]
   */
  clients?: MockClient[]
  /**
   * Lifetime of issued access tokens in seconds (`expires_in`).
   * @default 3600
   */
  tokenTtlSeconds?: number
  /**
   * Signing algorithm of issued access tokens.
   * @default 'RS256'
   */
  algorithm?: 'RS256' | 'ES256'
  /**
   * `aud` of a token when the token request has neither `resource` (RFC 8707) nor `audience`.
   * @default the URLs of the mock MCP servers created with this server, else no `aud` claim
   */
  defaultAudience?: string | string[]
  /**
   * The clock, in epoch milliseconds. Also settable later with `setNow`.
   * @default Date.now
   */
  now?: () => number
}

/** One request received by the token endpoint, as recorded by the mock authorization server. */
export interface TokenRequestRecord {
  /** The client that (tried to) authenticate; `undefined` when none could be identified. */
  clientId: string | undefined
  /** `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none` or `undefined`. */
  authMethod: string | undefined
  /** The `grant_type` parameter. */
  grantType: string | undefined
  /** The requested scopes (the `scope` parameter split on spaces). */
  scope: string[]
  /** The `resource` parameters (RFC 8707). */
  resource: string[]
  /** The `audience` parameter, if any. */
  audience?: string
  /** The request headers, lower-cased names (includes `authorization`). */
  headers: Record<string, string>
  /** The raw form parameters (`client_secret` and `client_assertion` included). */
  params: Record<string, string>
  /** The HTTP status answered (`0` for a simulated network error). */
  status: number
  /** The OAuth `error` answered, if any. */
  error?: string
  /** The scopes granted, when a token was issued. */
  grantedScope?: string[]
  /** The access token issued, if any. */
  accessToken?: string
  /** When the request arrived (epoch ms, from the server's clock). */
  at: number
}

/** What the next token requests should fail with (see {@link MockOAuthServer.failNext}). */
export interface FailNextOptions {
  /**
   * HTTP status of the failure.
   * @default 503
   */
  status?: number
  /**
   * OAuth `error` code in the JSON body.
   * @default 'temporarily_unavailable' for 5xx/429, 'invalid_client' for 401, else 'invalid_request'
   */
  error?: string
  /**
   * `error_description` in the JSON body.
   * @default undefined
   */
  errorDescription?: string
  /**
   * Raw response body, replacing the JSON error body (e.g. an HTML error page).
   * @default undefined
   */
  body?: string
  /**
   * Extra response headers (e.g. `Retry-After`).
   * @default {}
   */
  headers?: Record<string, string>
  /**
   * Delay before answering, in milliseconds.
   * @default 0
   */
  delayMs?: number
  /**
   * Fail at the network level instead (the client's `fetch` rejects).
   * @default false
   */
  networkError?: boolean
  /**
   * Which endpoint fails: the token endpoint, the JWKS, or the metadata documents (RFC 8414 and
   * OpenID configuration). Each endpoint has its own queue.
   * @default 'token'
   */
  endpoint?: MockOAuthEndpoint
}

/** The endpoints of the mock authorization server that {@link MockOAuthServer.failNext} can fail. */
export type MockOAuthEndpoint = 'token' | 'jwks' | 'metadata'

/** One HTTP request received by any endpoint of the mock authorization server. */
export interface OAuthServerRequestRecord {
  /** HTTP method. */
  method: string
  /** Full URL. */
  url: string
  /** Which endpoint it hit (`authorization` and `unknown` included). */
  endpoint: MockOAuthEndpoint | 'authorization' | 'unknown'
  /** HTTP status answered (`0` for a simulated network error). */
  status: number
  /** When it arrived (epoch ms, from the server's clock). */
  at: number
}

/** Options of {@link MockOAuthServer.issueToken}. */
export interface IssueTokenOptions {
  /**
   * The `kid` header (e.g. an unknown one).
   * @default the current signing key's `kid`
   */
  kid?: string
  /**
   * The `typ` header.
   * @default 'at+jwt'
   */
  typ?: string
}

/** Options of {@link MockOAuthServer.rotateKeys}. */
export interface RotateKeysOptions {
  /**
   * Keep serving the previous public key in the JWKS, so tokens signed before the rotation
   * still verify.
   * @default false
   */
  keepPrevious?: boolean
}

/** Claims for {@link MockOAuthServer.issueToken}; a claim set to `undefined` is left out. */
export type IssueTokenClaims = Record<string, unknown> & {
  /** Lifetime in seconds from now; negative for an already expired token. */
  expiresIn?: number
}

/** A mock OAuth2 authorization server (RFC 6749 client credentials, RFC 8414, RFC 9068 tokens). */
export interface MockOAuthServer {
  /** The issuer identifier. */
  readonly issuer: string
  /** The token endpoint (`{issuer}/token`). */
  readonly tokenEndpoint: string
  /** The JWKS endpoint (`{issuer}/.well-known/jwks.json`). */
  readonly jwksUri: string
  /** The RFC 8414 metadata URL. */
  readonly metadataUrl: string
  /** The registered clients (resolved copies). */
  readonly clients: readonly MockClient[]
  /** msw handlers: metadata (RFC 8414 and OpenID), token, JWKS and authorization endpoints. */
  readonly handlers: RequestHandler[]
  /** Every token endpoint request, in arrival order. */
  readonly tokenRequests: TokenRequestRecord[]
  /** Every request to any endpoint (metadata, JWKS, token, ...), in arrival order. */
  readonly requests: OAuthServerRequestRecord[]
  /** Answers one request to any of the server's endpoints (404 for others). */
  handle(request: Request): Promise<Response>
  /** Signs an access token with the current key; claims override the defaults. */
  issueToken(claims?: IssueTokenClaims, options?: IssueTokenOptions): Promise<string>
  /** Generates a new signing key; the JWKS then serves it. */
  rotateKeys(options?: RotateKeysOptions): Promise<void>
  /** Makes the next `n` requests to an endpoint (default: token) fail, after failures already queued. */
  failNext(n: number, options?: FailNextOptions): void
  /** Delays the next `n` requests to an endpoint (default: token) by `delayMs`, then answers normally. */
  delayNext(n: number, delayMs: number, endpoint?: MockOAuthEndpoint): void
  /** Replaces the clock (epoch ms). */
  setNow(now: () => number): void
  /** Moves the clock forward by `ms` milliseconds. */
  advanceTime(ms: number): void
  /** The current time of the server's clock (epoch ms). */
  now(): number
  /** The public keys currently served at `jwksUri`. */
  publicJwks(): { keys: JWK[] }
  /** Adds accepted `aud` values used as the default audience (mock MCP servers call this). */
  registerResource(resource: string | string[]): void
  /** Clears records (`tokenRequests`, `requests`), queued failures and delays, and used assertion `jti`s. Keys stay. */
  reset(): void
}

const DEFAULT_SCOPES = ['mcp:read', 'mcp:write', 'customer:read', 'ticket:create', 'account:calculate']
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const SINGLE_PARAMS = [
  'grant_type',
  'scope',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]
const ASSERTION_ALGS = [
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

interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicJwk: JWK
  /** WebCrypto form of `privateKey`, imported once: jose signs twice as fast with it. */
  cryptoKey?: Promise<CryptoKey | Uint8Array>
}

type Failure = { kind: 'fail'; options: FailNextOptions } | { kind: 'delay'; delayMs: number }

class OAuthError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

function toSigningKey(algorithm: 'RS256' | 'ES256', { privateKey, publicKey }: KeyMaterial): SigningKey {
  const kid = randomBytes(8).toString('base64url')
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: algorithm, use: 'sig' }
  return { kid, privateKey, publicJwk }
}

function defaultAuthMethods(client: MockClient): string[] {
  const methods: string[] = []
  if (client.clientSecret !== undefined) methods.push('client_secret_basic', 'client_secret_post')
  if (client.jwks) methods.push('private_key_jwt')
  return methods
}

/** RFC 6749 §2.3.1 / Appendix B: Basic credentials are form-urlencoded before base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

function validateOptions(options: MockOAuthServerOptions): void {
  if (options.issuer !== undefined) {
    let url: URL
    try {
      url = new URL(options.issuer)
    } catch {
      throw new TypeError('"issuer" option must be an absolute URL')
    }
    if (url.search || url.hash) throw new TypeError('"issuer" option must not have a query or fragment')
  }
  const ttl = options.tokenTtlSeconds
  if (ttl !== undefined && (!Number.isFinite(ttl) || ttl <= 0)) {
    throw new TypeError('"tokenTtlSeconds" option must be a positive number')
  }
  if (options.algorithm !== undefined && options.algorithm !== 'RS256' && options.algorithm !== 'ES256') {
    throw new TypeError('"algorithm" option must be "RS256" or "ES256"')
  }
  const ids = new Set<string>()
  for (const client of options.clients ?? []) {
    if (!client.clientId) throw new TypeError('"clients" option: every client needs a clientId')
    if (ids.has(client.clientId))
      throw new TypeError(`"clients" option: duplicate clientId ${client.clientId}`)
    ids.add(client.clientId)
  }
}

/**
 * Creates a mock OAuth2 authorization server: RFC 8414 metadata, a client-credentials token
 * endpoint (client_secret_basic, client_secret_post, private_key_jwt) issuing RFC 9068 JWT access
 * tokens, and a JWKS. Use its `handlers` with msw, or serve it over loopback HTTP with
 * `startMockServers`.
 *
 * @example
 * const oauth = createMockOAuthServer()
 * const server = setupServer(...oauth.handlers)
 * @see RFC 6749 §4.4, RFC 8414, RFC 7523, RFC 8707, RFC 9068
 */
export function createMockOAuthServer(options: MockOAuthServerOptions = {}): MockOAuthServer {
  validateOptions(options)
  const issuer = trimTrailingSlash(options.issuer ?? 'https://auth.mock.test')
  const issuerUrl = new URL(issuer)
  const issuerPath = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname
  const origin = issuerUrl.origin
  const tokenEndpoint = `${issuer}/token`
  const jwksUri = `${issuer}/.well-known/jwks.json`
  const authorizationEndpoint = `${issuer}/authorize`
  const metadataUrl = `${origin}/.well-known/oauth-authorization-server${issuerPath}`
  // OpenID Connect Discovery appends to the issuer; the SDK also tries the RFC 8414-style insertion.
  const openidUrls = [
    `${issuer}/.well-known/openid-configuration`,
    `${origin}/.well-known/openid-configuration${issuerPath}`,
  ]
  const algorithm = options.algorithm ?? 'RS256'
  const ttl = options.tokenTtlSeconds ?? 3600
  const clients: MockClient[] = (
    options.clients ?? [
      { clientId: 'test-client', clientSecret: 'test-secret', allowedScopes: DEFAULT_SCOPES },
    ]
  ).map((c) => ({
    ...c,
    allowedScopes: c.allowedScopes ? [...c.allowedScopes] : undefined,
    defaultScopes: c.defaultScopes ? [...c.defaultScopes] : undefined,
    tokenEndpointAuthMethods: [...(c.tokenEndpointAuthMethods ?? defaultAuthMethods(c))],
  }))
  const clientsById = new Map(clients.map((c) => [c.clientId, c]))
  const explicitAudience =
    options.defaultAudience === undefined
      ? undefined
      : Array.isArray(options.defaultAudience)
        ? [...options.defaultAudience]
        : [options.defaultAudience]
  const registeredResources: string[] = []

  let now = options.now ?? Date.now
  let offsetMs = 0
  const clock = () => now() + offsetMs
  let current = toSigningKey(algorithm, initialKeyMaterial(algorithm))
  let served: SigningKey[] = [current]
  const pending: Record<MockOAuthEndpoint, Failure[]> = { token: [], jwks: [], metadata: [] }
  const requests: OAuthServerRequestRecord[] = []
  const tokenRequests: TokenRequestRecord[] = []
  // Used client-assertion jti per client → exp (epoch s), to reject replays (RFC 7523 §3 item 7).
  const usedJtis = new Map<string, number>()

  const allScopes = [...new Set(clients.flatMap((c) => c.allowedScopes ?? []))]
  const metadata = {
    issuer,
    authorization_endpoint: authorizationEndpoint,
    token_endpoint: tokenEndpoint,
    jwks_uri: jwksUri,
    response_types_supported: ['code'],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: allScopes,
    code_challenge_methods_supported: ['S256'],
  }
  const openidMetadata = {
    ...metadata,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [algorithm],
  }

  function defaultAudience(): string[] | undefined {
    if (explicitAudience) return explicitAudience
    return registeredResources.length > 0 ? [...registeredResources] : undefined
  }

  function audClaim(aud: string[] | undefined): string | string[] | undefined {
    if (!aud || aud.length === 0) return undefined
    return aud.length === 1 ? aud[0] : aud
  }

  function clientDefaultScopes(client: MockClient | undefined): string[] {
    return client?.defaultScopes ?? client?.allowedScopes ?? []
  }

  async function sign(claims: Record<string, unknown>, kid: string, typ: string): Promise<string> {
    const payload: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(claims)) if (v !== undefined) payload[k] = v
    const key = current
    key.cryptoKey ??= importJWK(key.privateKey.export({ format: 'jwk' }) as JWK, algorithm)
    const cryptoKey = await key.cryptoKey
    return new SignJWT(payload).setProtectedHeader({ alg: algorithm, kid, typ }).sign(cryptoKey)
  }

  async function issueToken(claims: IssueTokenClaims = {}, tokenOptions: IssueTokenOptions = {}) {
    const { expiresIn, ...rest } = claims
    const iat = Math.floor(clock() / 1000)
    const first = clients[0]
    const clientId =
      typeof rest['client_id'] === 'string' ? rest['client_id'] : (first?.clientId ?? 'test-client')
    const scope = Array.isArray(rest['scope'])
      ? (rest['scope'] as unknown[]).join(' ')
      : 'scope' in rest
        ? rest['scope']
        : clientDefaultScopes(clientsById.get(clientId)).join(' ')
    const base: Record<string, unknown> = {
      iss: issuer,
      sub: clientId,
      aud: audClaim(defaultAudience()),
      client_id: clientId,
      scope: scope === '' ? undefined : scope,
      iat,
      exp: iat + (expiresIn ?? ttl),
      jti: randomUUID(),
    }
    return sign(
      { ...base, ...rest, scope: base['scope'] },
      tokenOptions.kid ?? current.kid,
      tokenOptions.typ ?? 'at+jwt',
    )
  }

  function oauthErrorResponse(err: OAuthError): Response {
    return jsonResponse({ error: err.error, error_description: err.description }, err.status, {
      pragma: 'no-cache',
      ...err.headers,
    })
  }

  async function verifyAssertion(assertion: string, clientIdParam: string | undefined): Promise<MockClient> {
    let unverified: ReturnType<typeof decodeJwt>
    try {
      unverified = decodeJwt(assertion)
    } catch {
      throw new OAuthError(401, 'invalid_client', 'client_assertion is not a JWT')
    }
    const clientId = clientIdParam ?? (typeof unverified.iss === 'string' ? unverified.iss : undefined)
    const client = clientId === undefined ? undefined : clientsById.get(clientId)
    if (!client?.jwks) throw new OAuthError(401, 'invalid_client', 'unknown client or no registered keys')
    if (!client.tokenEndpointAuthMethods?.includes('private_key_jwt')) {
      throw new OAuthError(401, 'invalid_client', 'private_key_jwt is not allowed for this client')
    }
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks), {
        issuer: client.clientId,
        subject: client.clientId,
        audience: [issuer, tokenEndpoint, `${issuer}/`],
        algorithms: ASSERTION_ALGS,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(clock()),
        clockTolerance: 5,
      })
      const key = `${client.clientId} ${String(payload.jti)}`
      const nowS = Math.floor(clock() / 1000)
      for (const [k, exp] of usedJtis) if (exp < nowS - 60) usedJtis.delete(k)
      if (usedJtis.has(key))
        throw new OAuthError(401, 'invalid_client', 'client_assertion jti was already used')
      usedJtis.set(key, payload.exp ?? nowS)
      return client
    } catch (e) {
      if (e instanceof OAuthError) throw e
      const reason = e instanceof joseErrors.JOSEError ? e.code : 'verification failed'
      throw new OAuthError(401, 'invalid_client', `client_assertion rejected: ${reason}`)
    }
  }

  async function handleToken(request: Request): Promise<Response> {
    const headers = headersToRecord(request.headers)
    const text = await request.text()
    const params = new URLSearchParams(text)
    const flat: Record<string, string> = {}
    for (const [k, v] of params) if (!(k in flat)) flat[k] = v
    const record: TokenRequestRecord = {
      clientId: params.get('client_id') ?? undefined,
      authMethod: undefined,
      grantType: params.get('grant_type') ?? undefined,
      scope: (params.get('scope') ?? '').split(' ').filter(Boolean),
      resource: params.getAll('resource'),
      headers,
      params: flat,
      status: 0,
      at: clock(),
    }
    const audienceParam = params.get('audience')
    if (audienceParam !== null) record.audience = audienceParam
    tokenRequests.push(record)

    const authorization = request.headers.get('authorization')
    if (authorization?.toLowerCase().startsWith('basic ')) {
      record.authMethod = 'client_secret_basic'
      try {
        const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        record.clientId = formDecode(colon < 0 ? decoded : decoded.slice(0, colon))
      } catch {}
    } else if (params.has('client_assertion')) {
      record.authMethod = 'private_key_jwt'
      if (record.clientId === undefined) {
        try {
          const iss = decodeJwt(params.get('client_assertion') ?? '').iss
          if (typeof iss === 'string') record.clientId = iss
        } catch {}
      }
    } else if (params.has('client_secret')) record.authMethod = 'client_secret_post'
    else if (params.has('client_id')) record.authMethod = 'none'

    const failure = await takeFailure('token')
    if (failure) {
      record.status = failure.status
      record.error = failure.error
      return failure.response
    }

    try {
      const result = await processToken(request, params, record)
      record.status = 200
      return result
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e
      record.status = e.status
      record.error = e.error
      return oauthErrorResponse(e)
    }
  }

  async function processToken(request: Request, params: URLSearchParams, record: TokenRequestRecord) {
    const contentType = request.headers.get('content-type') ?? ''
    if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new OAuthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded')
    }
    // RFC 6749 §3.2: parameters MUST NOT be included more than once.
    for (const name of SINGLE_PARAMS) {
      if (params.getAll(name).length > 1)
        throw new OAuthError(400, 'invalid_request', `duplicate ${name} parameter`)
    }
    const grantType = params.get('grant_type')
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'missing grant_type')

    const client = await authenticate(request, params, record)

    if (grantType !== 'client_credentials') {
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`)
    }
    // RFC 8707 §2: resource must be an absolute URI without a fragment.
    for (const resource of record.resource) {
      let ok = false
      try {
        ok = !new URL(resource).hash && !resource.includes('#')
      } catch {}
      if (!ok) throw new OAuthError(400, 'invalid_target', `resource ${resource} is not an absolute URI`)
    }
    const requested = record.scope
    let granted: string[]
    if (requested.length === 0) granted = clientDefaultScopes(client)
    else {
      const allowed = client.allowedScopes
      const refused = allowed ? requested.filter((s) => !allowed.includes(s)) : []
      if (refused.length > 0)
        throw new OAuthError(400, 'invalid_scope', `scope not allowed: ${refused.join(' ')}`)
      granted = [...new Set(requested)]
    }
    const aud =
      record.resource.length > 0
        ? record.resource
        : record.audience !== undefined
          ? record.audience.split(' ').filter(Boolean)
          : defaultAudience()
    const iat = Math.floor(clock() / 1000)
    const token = await sign(
      {
        iss: issuer,
        sub: client.clientId,
        aud: audClaim(aud),
        client_id: client.clientId,
        scope: granted.length > 0 ? granted.join(' ') : undefined,
        iat,
        exp: iat + ttl,
        jti: randomUUID(),
      },
      current.kid,
      'at+jwt',
    )
    record.grantedScope = granted
    record.accessToken = token
    const body: Record<string, unknown> = { access_token: token, token_type: 'Bearer', expires_in: ttl }
    if (granted.length > 0) body['scope'] = granted.join(' ')
    return jsonResponse(body, 200, { pragma: 'no-cache' })
  }

  async function authenticate(request: Request, params: URLSearchParams, record: TokenRequestRecord) {
    const authorization = request.headers.get('authorization')
    const basic = authorization?.toLowerCase().startsWith('basic ') === true
    const assertion = params.get('client_assertion')
    const secretParam = params.get('client_secret')
    const clientIdParam = params.get('client_id') ?? undefined
    const challenge = { 'www-authenticate': `Basic realm=${quote(issuer)}, charset="UTF-8"` }
    const used = [basic, assertion !== null, secretParam !== null].filter(Boolean).length
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    if (used > 1)
      throw new OAuthError(400, 'invalid_request', 'more than one client authentication method used')

    if (basic && authorization) {
      let clientId: string
      let secret: string
      try {
        const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon < 0) throw new Error('no colon')
        clientId = formDecode(decoded.slice(0, colon))
        secret = formDecode(decoded.slice(colon + 1))
      } catch {
        throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials', challenge)
      }
      record.clientId = clientId
      if (clientIdParam !== undefined && clientIdParam !== clientId) {
        throw new OAuthError(400, 'invalid_request', 'client_id does not match the Basic credentials')
      }
      const client = clientsById.get(clientId)
      if (
        !client ||
        client.clientSecret === undefined ||
        client.clientSecret !== secret ||
        !client.tokenEndpointAuthMethods?.includes('client_secret_basic')
      ) {
        throw new OAuthError(401, 'invalid_client', 'client authentication failed', challenge)
      }
      return client
    }
    if (assertion !== null) {
      if (params.get('client_assertion_type') !== JWT_BEARER) {
        throw new OAuthError(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`)
      }
      const client = await verifyAssertion(assertion, clientIdParam)
      record.clientId = client.clientId
      return client
    }
    if (secretParam !== null) {
      const client = clientIdParam === undefined ? undefined : clientsById.get(clientIdParam)
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
      const client = clientsById.get(clientIdParam)
      if (client?.tokenEndpointAuthMethods?.includes('none')) return client
    }
    throw new OAuthError(401, 'invalid_client', 'client authentication required', challenge)
  }

  /** Consumes the next queued failure or delay of `endpoint`; returns the failure to answer, if any. */
  async function takeFailure(
    endpoint: MockOAuthEndpoint,
  ): Promise<{ response: Response; status: number; error: string } | undefined> {
    const failure = pending[endpoint].shift()
    if (!failure) return undefined
    if (failure.kind === 'delay') {
      await sleep(failure.delayMs)
      return undefined
    }
    const f = failure.options
    if (f.delayMs) await sleep(f.delayMs)
    if (f.networkError) return { response: Response.error(), status: 0, error: 'network_error' }
    const status = f.status ?? 503
    const error =
      f.error ??
      (status >= 500 || status === 429
        ? 'temporarily_unavailable'
        : status === 401
          ? 'invalid_client'
          : 'invalid_request')
    if (f.body !== undefined) {
      const response = new Response(f.body, {
        status,
        headers: { 'cache-control': 'no-store', ...f.headers },
      })
      return { response, status, error }
    }
    const body: Record<string, string> = { error }
    if (f.errorDescription !== undefined) body['error_description'] = f.errorDescription
    return { response: jsonResponse(body, status, f.headers), status, error }
  }

  function endpointOf(target: string): OAuthServerRequestRecord['endpoint'] {
    if (target === tokenEndpoint) return 'token'
    if (target === jwksUri) return 'jwks'
    if (target === metadataUrl || openidUrls.includes(target)) return 'metadata'
    if (target === authorizationEndpoint) return 'authorization'
    return 'unknown'
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const target = `${url.origin}${url.pathname}`
    const endpoint = endpointOf(target)
    const record: OAuthServerRequestRecord = {
      method: request.method,
      url: request.url,
      endpoint,
      status: 0,
      at: clock(),
    }
    requests.push(record)
    const response = await route(request, target, endpoint)
    record.status = response.type === 'error' ? 0 : response.status
    return response
  }

  async function route(request: Request, target: string, endpoint: OAuthServerRequestRecord['endpoint']) {
    if (endpoint === 'token') {
      if (request.method !== 'POST') return jsonResponse({ error: 'invalid_request' }, 405, { allow: 'POST' })
      return handleToken(request)
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return jsonResponse({ error: 'not_found' }, 404)
    if (endpoint === 'metadata' || endpoint === 'jwks') {
      const failure = await takeFailure(endpoint)
      if (failure) return failure.response
    }
    if (target === metadataUrl) return jsonResponse(metadata, 200, { 'cache-control': 'max-age=60' })
    if (endpoint === 'metadata') return jsonResponse(openidMetadata, 200, { 'cache-control': 'max-age=60' })
    if (endpoint === 'jwks') return jsonResponse(publicJwks(), 200, { 'cache-control': 'max-age=60' })
    if (endpoint === 'authorization') {
      return jsonResponse(
        { error: 'unsupported_response_type', error_description: 'only client_credentials is supported' },
        400,
      )
    }
    return jsonResponse({ error: 'not_found' }, 404)
  }

  function publicJwks(): { keys: JWK[] } {
    return { keys: served.map((k) => ({ ...k.publicJwk })) }
  }

  async function mswResolver({ request }: { request: Request }) {
    const response = await handle(request)
    return response.type === 'error' ? HttpResponse.error() : response
  }

  const handlers: RequestHandler[] = [
    http.post(tokenEndpoint, mswResolver),
    http.get(metadataUrl, mswResolver),
    ...openidUrls.map((u) => http.get(u, mswResolver)),
    http.get(jwksUri, mswResolver),
    http.get(authorizationEndpoint, mswResolver),
  ]

  return {
    issuer,
    tokenEndpoint,
    jwksUri,
    metadataUrl,
    clients,
    handlers,
    tokenRequests,
    requests,
    handle,
    issueToken,
    async rotateKeys(rotateOptions: RotateKeysOptions = {}) {
      const next = toSigningKey(algorithm, await freshKeyMaterial(algorithm))
      served = rotateOptions.keepPrevious ? [next, ...served] : [next]
      current = next
    },
    failNext(n: number, failOptions: FailNextOptions = {}) {
      if (!Number.isInteger(n) || n < 0) throw new TypeError('failNext: "n" must be a non-negative integer')
      const queue = pending[failOptions.endpoint ?? 'token']
      if (!queue) throw new TypeError('failNext: "endpoint" option must be "token", "jwks" or "metadata"')
      for (let i = 0; i < n; i++) queue.push({ kind: 'fail', options: { ...failOptions } })
    },
    delayNext(n: number, delayMs: number, endpoint: MockOAuthEndpoint = 'token') {
      if (!Number.isInteger(n) || n < 0) throw new TypeError('delayNext: "n" must be a non-negative integer')
      const queue = pending[endpoint]
      if (!queue) throw new TypeError('delayNext: "endpoint" must be "token", "jwks" or "metadata"')
      for (let i = 0; i < n; i++) queue.push({ kind: 'delay', delayMs })
    },
    setNow(fn: () => number) {
      now = fn
      offsetMs = 0
    },
    advanceTime(ms: number) {
      offsetMs += ms
    },
    now: clock,
    publicJwks,
    registerResource(resource: string | string[]) {
      for (const r of Array.isArray(resource) ? resource : [resource]) {
        if (!registeredResources.includes(r)) registeredResources.push(r)
      }
    },
    reset() {
      tokenRequests.length = 0
      requests.length = 0
      for (const queue of Object.values(pending)) queue.length = 0
      usedJtis.clear()
    },
  }
}
