import type { JWK } from 'jose'
import { HttpResponse, http, type RequestHandler } from 'msw'
import type { MockDpopOptions } from './dpop-options.js'
import { DPOP_ALGS, DpopPolicy } from './internal/dpop.js'
import { FailureQueue } from './internal/failure-queue.js'
import { jsonResponse, trimTrailingSlash } from './internal/http.js'
import { ClientAuthenticator } from './internal/oauth/client-authentication.js'
import { endpointOf, metadataDocuments, oauthEndpoints } from './internal/oauth/endpoints.js'
import type { GrantClient } from './internal/oauth/grants/grant.js'
import { issueAccessTokenFor, issueIdTokenFor } from './internal/oauth/self-issued.js'
import { GRANT_TYPES, handleTokenRequest } from './internal/oauth/token-endpoint.js'
import { TokenSigner } from './internal/oauth/token-signer.js'
import { type KeySource, TokenTrust } from './internal/oauth/token-trust.js'
import type { MockClient, TrustedIssuer } from './oauth-server-parties.js'
import type {
  FailNextOptions,
  MockOAuthEndpoint,
  OAuthServerRequestRecord,
  TokenRequestRecord,
} from './oauth-server-records.js'

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
   * Issuers whose JWTs are accepted as jwt-bearer assertions (RFC 7523 §2.1: workload identity,
   * ID-JAGs) and token-exchange subject or actor tokens (RFC 8693), besides this server's own.
   * @default []
   */
  trustedIssuers?: TrustedIssuer[]
  /**
   * DPoP at the token endpoint (RFC 9449 §5): a valid proof binds the token (`cnf.jkt`,
   * `token_type: "DPoP"`); see {@link MockDpopOptions}.
   * @default {} (proofs verified when sent, not required, no nonce)
   */
  dpop?: MockDpopOptions
  /**
   * Lifetime of ID-JAGs this server issues as an IdP, in seconds.
   * @default 300
   */
  idJagTtlSeconds?: number
  /**
   * The clock, in epoch milliseconds. Also settable later with `setNow`.
   * @default Date.now
   */
  now?: () => number
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

/**
 * A mock OAuth2 authorization server: RFC 8414 metadata, RFC 9068 tokens for the client
 * credentials, token exchange (RFC 8693, ID-JAGs as an IdP) and jwt-bearer (RFC 7523) grants,
 * optionally DPoP-bound (RFC 9449).
 */
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
  /**
   * Signs an OpenID Connect ID token (`typ: JWT`, `sub: 'test-user'`, `aud`: the first client by
   * default), e.g. the subject token of an ID-JAG exchange; claims override the defaults.
   */
  issueIdToken(claims?: IssueTokenClaims, options?: Pick<IssueTokenOptions, 'kid'>): Promise<string>
  /** Requires a new DPoP nonce at the token endpoint from now on (turning nonces on) and returns it. */
  rotateDpopNonce(): string
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
  /** Clears records (`tokenRequests`, `requests`), queued failures and delays, used assertion and proof `jti`s. Keys stay. */
  reset(): void
}

const DEFAULT_SCOPES = ['mcp:read', 'mcp:write', 'customer:read', 'ticket:create', 'account:calculate']
const ENDPOINTS: readonly MockOAuthEndpoint[] = ['token', 'jwks', 'metadata']

function defaultAuthMethods(client: MockClient): string[] {
  const methods: string[] = []
  if (client.clientSecret !== undefined) methods.push('client_secret_basic', 'client_secret_post')
  if (client.jwks) methods.push('private_key_jwt')
  return methods
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
  const jagTtl = options.idJagTtlSeconds
  if (jagTtl !== undefined && (!Number.isFinite(jagTtl) || jagTtl <= 0)) {
    throw new TypeError('"idJagTtlSeconds" option must be a positive number')
  }
  for (const trusted of options.trustedIssuers ?? []) {
    if (!trusted || typeof trusted.issuer !== 'string' || !('jwks' in trusted || 'publicJwks' in trusted))
      throw new TypeError('"trustedIssuers" option: every entry needs an issuer and jwks (or publicJwks())')
  }
  const ids = new Set<string>()
  for (const client of options.clients ?? []) {
    if (!client.clientId) throw new TypeError('"clients" option: every client needs a clientId')
    if (ids.has(client.clientId))
      throw new TypeError(`"clients" option: duplicate clientId ${client.clientId}`)
    ids.add(client.clientId)
  }
}

/** The default failure of an endpoint: an RFC 6749 §5.2 error body. */
function oauthFailureBody(status: number, spec: FailNextOptions) {
  const error =
    spec.error ??
    (status >= 500 || status === 429
      ? 'temporarily_unavailable'
      : status === 401
        ? 'invalid_client'
        : 'invalid_request')
  const body: Record<string, string> = { error }
  if (spec.errorDescription !== undefined) body['error_description'] = spec.errorDescription
  return { error, body }
}

/**
 * Creates a mock OAuth2 authorization server: RFC 8414 metadata, a token endpoint (client
 * credentials, token exchange with `may_act`/`act` and ID-JAGs, jwt-bearer assertions from trusted
 * issuers; client_secret_basic, client_secret_post, private_key_jwt) issuing RFC 9068 JWT access
 * tokens, DPoP-bound on request, and a JWKS. Use its `handlers` with msw, or serve it over loopback HTTP with
 * `startMockServers`.
 *
 * @example
 * const oauth = createMockOAuthServer()
 * const server = setupServer(...oauth.handlers)
 * @see RFC 6749 §4.4, RFC 8414, RFC 7523, RFC 8693, RFC 8707, RFC 9068, RFC 9449
 */
export function createMockOAuthServer(options: MockOAuthServerOptions = {}): MockOAuthServer {
  validateOptions(options)
  const issuer = trimTrailingSlash(options.issuer ?? 'https://auth.mock.test')
  const endpoints = oauthEndpoints(issuer)
  const { tokenEndpoint, jwksUri, authorizationEndpoint, metadataUrl, openidUrls } = endpoints
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
  const clientsById = new Map<string, GrantClient>(clients.map((c) => [c.clientId, c]))
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
  const signer = new TokenSigner(algorithm)
  const failures = new FailureQueue<MockOAuthEndpoint>(ENDPOINTS, oauthFailureBody)
  const requests: OAuthServerRequestRecord[] = []
  const tokenRequests: TokenRequestRecord[] = []
  const authenticator = new ClientAuthenticator({ clients: clientsById, issuer, tokenEndpoint, clock })

  const documents = metadataDocuments(endpoints, {
    grantTypes: GRANT_TYPES,
    scopes: [...new Set(clients.flatMap((c) => c.allowedScopes ?? []))],
    signingAlgorithm: algorithm,
    dpopAlgorithms: DPOP_ALGS,
  })

  function defaultAudience(): string[] | undefined {
    if (explicitAudience) return explicitAudience
    return registeredResources.length > 0 ? [...registeredResources] : undefined
  }

  const selfIssue = { issuer, signer, clock, ttlSeconds: ttl, clients, defaultAudience }
  const dpop = new DpopPolicy(options.dpop, clock)
  const self: KeySource = { issuer, jwks: () => signer.publicJwks() }
  const trusted = (options.trustedIssuers ?? []).map(
    (t): KeySource => ({ issuer: t.issuer, jwks: () => ('publicJwks' in t ? t.publicJwks() : t.jwks) }),
  )
  const tokenEndpointContext = {
    issuer,
    tokenEndpoint,
    authenticator,
    signer,
    trust: new TokenTrust([self, ...trusted], clock),
    failures,
    records: tokenRequests,
    clock,
    ttlSeconds: ttl,
    idJagTtlSeconds: options.idJagTtlSeconds ?? 300,
    defaultAudience,
    resources: () => registeredResources,
    dpop: { verifier: dpop.verifier, required: dpop.required, nonce: () => dpop.nonce() },
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const target = `${url.origin}${url.pathname}`
    const endpoint = endpointOf(endpoints, target)
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
      return handleTokenRequest(tokenEndpointContext, request)
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return jsonResponse({ error: 'not_found' }, 404)
    if (endpoint === 'metadata' || endpoint === 'jwks') {
      const failure = await failures.take(endpoint)
      if (failure) return failure.response
    }
    const cached = { 'cache-control': 'max-age=60' }
    if (target === metadataUrl) return jsonResponse(documents.metadata, 200, cached)
    if (endpoint === 'metadata') return jsonResponse(documents.openid, 200, cached)
    if (endpoint === 'jwks') return jsonResponse(signer.publicJwks(), 200, cached)
    if (endpoint === 'authorization') {
      return jsonResponse(
        { error: 'unsupported_response_type', error_description: 'only client_credentials is supported' },
        400,
      )
    }
    return jsonResponse({ error: 'not_found' }, 404)
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
    issueToken: (claims: IssueTokenClaims = {}, tokenOptions: IssueTokenOptions = {}) =>
      issueAccessTokenFor(selfIssue, claims, tokenOptions),
    issueIdToken: (claims: IssueTokenClaims = {}, tokenOptions: Pick<IssueTokenOptions, 'kid'> = {}) =>
      issueIdTokenFor(selfIssue, claims, tokenOptions),
    rotateDpopNonce: () => dpop.rotate(),
    rotateKeys: (rotateOptions: RotateKeysOptions = {}) => signer.rotate(rotateOptions.keepPrevious ?? false),
    failNext(n: number, failOptions: FailNextOptions = {}) {
      const { endpoint = 'token', ...spec } = failOptions
      failures.fail(endpoint, n, spec)
    },
    delayNext(n: number, delayMs: number, endpoint: MockOAuthEndpoint = 'token') {
      failures.delay(endpoint, n, delayMs)
    },
    setNow(fn: () => number) {
      now = fn
      offsetMs = 0
    },
    advanceTime(ms: number) {
      offsetMs += ms
    },
    now: clock,
    publicJwks: () => signer.publicJwks(),
    registerResource(resource: string | string[]) {
      for (const r of Array.isArray(resource) ? resource : [resource]) {
        if (!registeredResources.includes(r)) registeredResources.push(r)
      }
    },
    reset() {
      tokenRequests.length = 0
      requests.length = 0
      failures.clear()
      authenticator.reset()
      dpop.verifier.reset()
    },
  }
}
