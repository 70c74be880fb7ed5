/**
 * What every grant of the mock token endpoint works with, and the one way access tokens are
 * issued (RFC 9068 JWT, optionally DPoP-bound). Never re-exported.
 */
import { randomUUID } from 'node:crypto'
import type { AuthenticatableClient } from '../client-authentication.js'
import { OAuthError } from '../oauth-error.js'
import type { TokenSigner } from '../token-signer.js'
import type { TokenTrust } from '../token-trust.js'

export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  idJag: 'urn:ietf:params:oauth:token-type:id-jag',
} as const

export const GRANT_TYPE = {
  clientCredentials: 'client_credentials',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
} as const

/** A registered client as the grants see it. */
export interface GrantClient extends AuthenticatableClient {
  allowedScopes?: string[]
  defaultScopes?: string[]
  /** The `client_id` claim of ID-JAGs issued to this client (its id at the resource's server). */
  idJagClientId?: string
}

/** The fields of the public `TokenRequestRecord` the token endpoint fills. */
export interface TokenRecord {
  clientId: string | undefined
  authMethod: string | undefined
  grantType: string | undefined
  scope: string[]
  resource: string[]
  audience?: string
  headers: Record<string, string>
  params: Record<string, string>
  status: number
  error?: string
  grantedScope?: string[]
  accessToken?: string
  tokenType?: string
  issuedTokenType?: string
  subject?: string
  actor?: string
  dpop?: { jkt?: string; nonce?: string }
  at: number
}

/** The server a grant runs in. */
export interface GrantContext {
  issuer: string
  tokenEndpoint: string
  signer: TokenSigner
  trust: TokenTrust
  clock: () => number
  ttlSeconds: number
  /** Lifetime of issued ID-JAGs, in seconds. */
  idJagTtlSeconds: number
  /** `aud` when the request names neither `resource` nor `audience`. */
  defaultAudience(): string[] | undefined
  /** The resources (MCP servers) registered with this server. */
  resources(): readonly string[]
}

/** One token request, as a grant sees it. */
export interface GrantRequest {
  params: URLSearchParams
  /** The authenticated client; `undefined` only for grants that allow anonymous requests. */
  client: GrantClient | undefined
  record: TokenRecord
  /** The thumbprint of a verified DPoP proof's key: the token gets bound to it. */
  dpopJkt: string | undefined
}

export interface Grant {
  /** Whether a request without client authentication may use the grant. */
  anonymous: boolean
  /** Runs the grant; resolves the JSON body of the token response, or throws an `OAuthError`. */
  handle(ctx: GrantContext, request: GrantRequest): Promise<Record<string, unknown>>
}

/** `aud` as a JWT claim: one string, an array, or absent. */
export function audClaim(aud: readonly string[] | undefined): string | string[] | undefined {
  if (!aud || aud.length === 0) return undefined
  return aud.length === 1 ? aud[0] : [...aud]
}

/** The scopes a client gets when it asks for none. */
export function clientDefaultScopes(client: GrantClient | undefined): string[] {
  return client?.defaultScopes ?? client?.allowedScopes ?? []
}

/** RFC 8707 §2: each `resource` must be an absolute URI without a fragment. */
export function checkResources(resources: readonly string[]): void {
  for (const resource of resources) {
    let ok = false
    try {
      ok = !new URL(resource).hash && !resource.includes('#')
    } catch {}
    if (!ok) throw new OAuthError(400, 'invalid_target', `resource ${resource} is not an absolute URI`)
  }
}

/** Granted = requested when all are allowed (else `invalid_scope`); none requested → the defaults. */
export function grantScopes(client: GrantClient | undefined, requested: readonly string[]): string[] {
  if (requested.length === 0) return clientDefaultScopes(client)
  const allowed = client?.allowedScopes
  const refused = allowed ? requested.filter((s) => !allowed.includes(s)) : []
  if (refused.length > 0)
    throw new OAuthError(400, 'invalid_scope', `scope not allowed: ${refused.join(' ')}`)
  return [...new Set(requested)]
}

/** The `aud` of an issued token: the request's `resource`s, else its `audience`, else the default. */
export function requestedAudience(ctx: GrantContext, record: TokenRecord): string[] | undefined {
  checkResources(record.resource)
  if (record.resource.length > 0) return record.resource
  if (record.audience !== undefined) return record.audience.split(' ').filter(Boolean)
  return ctx.defaultAudience()
}

/** What an issued access token says beyond the standard claims. */
export interface AccessTokenSpec {
  sub: string
  clientId: string
  aud: readonly string[] | undefined
  scope: readonly string[]
  /** Extra claims (`act`, …); `undefined` values are left out. */
  claims?: Record<string, unknown>
  /** RFC 8693 `issued_token_type` of the response. */
  issuedTokenType?: string
}

/** Signs an RFC 9068 access token (bound with `cnf.jkt` when DPoP was used) and the response body. */
export async function issueAccessToken(
  ctx: GrantContext,
  request: GrantRequest,
  spec: AccessTokenSpec,
): Promise<Record<string, unknown>> {
  const iat = Math.floor(ctx.clock() / 1000)
  const scope = spec.scope.length > 0 ? spec.scope.join(' ') : undefined
  const token = await ctx.signer.sign(
    {
      iss: ctx.issuer,
      sub: spec.sub,
      aud: audClaim(spec.aud),
      client_id: spec.clientId,
      scope,
      iat,
      exp: iat + ctx.ttlSeconds,
      jti: randomUUID(),
      ...spec.claims,
      cnf: request.dpopJkt ? { jkt: request.dpopJkt } : undefined,
    },
    { typ: 'at+jwt' },
  )
  const tokenType = request.dpopJkt ? 'DPoP' : 'Bearer'
  const { record } = request
  record.grantedScope = [...spec.scope]
  record.accessToken = token
  record.tokenType = tokenType
  record.subject = spec.sub
  const body: Record<string, unknown> = {
    access_token: token,
    token_type: tokenType,
    expires_in: ctx.ttlSeconds,
  }
  if (spec.issuedTokenType) {
    body['issued_token_type'] = spec.issuedTokenType
    record.issuedTokenType = spec.issuedTokenType
  }
  if (scope) body['scope'] = scope
  return body
}
