/**
 * The mock token endpoint: parses and records a token request, runs client authentication, then
 * the grant (RFC 6749 §4.4 client credentials), and answers the token or an RFC 6749 §5.2 error.
 * Never re-exported.
 */
import { randomUUID } from 'node:crypto'
import type { FailureQueue } from '../failure-queue.js'
import { headersToRecord, jsonResponse } from '../http.js'
import type { AuthenticatableClient, ClientAuthenticator } from './client-authentication.js'
import { identifyClient } from './client-authentication.js'
import { OAuthError, oauthErrorResponse } from './oauth-error.js'
import type { TokenSigner } from './token-signer.js'

/** A registered client as the grants see it. */
export interface GrantClient extends AuthenticatableClient {
  allowedScopes?: string[]
  defaultScopes?: string[]
}

/** The fields of the public `TokenRequestRecord` this module fills. */
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
  at: number
}

/** What the token endpoint needs from the server it belongs to. */
export interface TokenEndpointContext {
  issuer: string
  authenticator: ClientAuthenticator<GrantClient>
  signer: TokenSigner
  failures: FailureQueue<'token' | 'jwks' | 'metadata'>
  records: TokenRecord[]
  clock: () => number
  ttlSeconds: number
  /** `aud` when the request names neither `resource` nor `audience`. */
  defaultAudience(): string[] | undefined
}

/** RFC 6749 §3.2: these parameters MUST NOT be included more than once. */
const SINGLE_PARAMS = [
  'grant_type',
  'scope',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]

/** `aud` as a JWT claim: one string, an array, or absent. */
export function audClaim(aud: readonly string[] | undefined): string | string[] | undefined {
  if (!aud || aud.length === 0) return undefined
  return aud.length === 1 ? aud[0] : [...aud]
}

/** The scopes a client gets when it asks for none. */
export function clientDefaultScopes(client: GrantClient | undefined): string[] {
  return client?.defaultScopes ?? client?.allowedScopes ?? []
}

/** Answers one token request (POST). */
export async function handleTokenRequest(ctx: TokenEndpointContext, request: Request): Promise<Response> {
  const params = new URLSearchParams(await request.text())
  const flat: Record<string, string> = {}
  for (const [k, v] of params) if (!(k in flat)) flat[k] = v
  const record: TokenRecord = {
    ...identifyClient(request.headers, params),
    grantType: params.get('grant_type') ?? undefined,
    scope: (params.get('scope') ?? '').split(' ').filter(Boolean),
    resource: params.getAll('resource'),
    headers: headersToRecord(request.headers),
    params: flat,
    status: 0,
    at: ctx.clock(),
  }
  const audienceParam = params.get('audience')
  if (audienceParam !== null) record.audience = audienceParam
  ctx.records.push(record)

  const failure = await ctx.failures.take('token')
  if (failure) {
    record.status = failure.status
    record.error = failure.error
    return failure.response
  }
  try {
    const response = await processToken(ctx, request, params, record)
    record.status = 200
    return response
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e
    record.status = e.status
    record.error = e.error
    return oauthErrorResponse(e)
  }
}

async function processToken(
  ctx: TokenEndpointContext,
  request: Request,
  params: URLSearchParams,
  record: TokenRecord,
): Promise<Response> {
  const contentType = request.headers.get('content-type') ?? ''
  if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded')
  }
  for (const name of SINGLE_PARAMS) {
    if (params.getAll(name).length > 1)
      throw new OAuthError(400, 'invalid_request', `duplicate ${name} parameter`)
  }
  const grantType = params.get('grant_type')
  if (!grantType) throw new OAuthError(400, 'invalid_request', 'missing grant_type')
  const client = await ctx.authenticator.authenticate(request.headers, params, record)
  if (!client) throw new OAuthError(401, 'invalid_client', 'client authentication required')
  if (grantType !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`)
  }
  checkResources(record.resource)
  const granted = grantScopes(client, record.scope)
  const aud =
    record.resource.length > 0
      ? record.resource
      : record.audience !== undefined
        ? record.audience.split(' ').filter(Boolean)
        : ctx.defaultAudience()
  const iat = Math.floor(ctx.clock() / 1000)
  const token = await ctx.signer.sign(
    {
      iss: ctx.issuer,
      sub: client.clientId,
      aud: audClaim(aud),
      client_id: client.clientId,
      scope: granted.length > 0 ? granted.join(' ') : undefined,
      iat,
      exp: iat + ctx.ttlSeconds,
      jti: randomUUID(),
    },
    { typ: 'at+jwt' },
  )
  record.grantedScope = granted
  record.accessToken = token
  const body: Record<string, unknown> = {
    access_token: token,
    token_type: 'Bearer',
    expires_in: ctx.ttlSeconds,
  }
  if (granted.length > 0) body['scope'] = granted.join(' ')
  return jsonResponse(body, 200, { pragma: 'no-cache' })
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
export function grantScopes(client: GrantClient, requested: readonly string[]): string[] {
  if (requested.length === 0) return clientDefaultScopes(client)
  const allowed = client.allowedScopes
  const refused = allowed ? requested.filter((s) => !allowed.includes(s)) : []
  if (refused.length > 0)
    throw new OAuthError(400, 'invalid_scope', `scope not allowed: ${refused.join(' ')}`)
  return [...new Set(requested)]
}
