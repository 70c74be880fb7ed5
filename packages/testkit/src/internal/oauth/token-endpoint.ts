/**
 * The mock token endpoint: parses and records a token request, applies queued faults, checks a
 * DPoP proof (RFC 9449 §5) when one is sent or required, authenticates the client, runs the grant,
 * and answers the token or an RFC 6749 §5.2 error. Never re-exported.
 */
import type { DpopVerifier } from '../dpop.js'
import type { FailureQueue } from '../failure-queue.js'
import { headersToRecord, jsonResponse } from '../http.js'
import { splitScope } from '../scope.js'
import type { ClientAuthenticator } from './client-authentication.js'
import { identifyClient } from './client-authentication.js'
import { clientCredentialsGrant } from './grants/client-credentials.js'
import {
  GRANT_TYPE,
  type Grant,
  type GrantClient,
  type GrantContext,
  type TokenRecord,
} from './grants/grant.js'
import { jwtBearerGrant } from './grants/jwt-bearer.js'
import { tokenExchangeGrant } from './grants/token-exchange.js'
import { OAuthError, oauthErrorResponse } from './oauth-error.js'

const GRANTS: Record<string, Grant> = {
  [GRANT_TYPE.clientCredentials]: clientCredentialsGrant,
  [GRANT_TYPE.tokenExchange]: tokenExchangeGrant,
  [GRANT_TYPE.jwtBearer]: jwtBearerGrant,
}

/** The grant types the endpoint serves (for the metadata). */
export const GRANT_TYPES = Object.keys(GRANTS)

/** What the token endpoint needs from the server it belongs to. */
export interface TokenEndpointContext extends GrantContext {
  authenticator: ClientAuthenticator<GrantClient>
  failures: FailureQueue<'token' | 'jwks' | 'metadata'>
  records: TokenRecord[]
  dpop: { verifier: DpopVerifier; required: boolean; nonce(): string | undefined }
}

/** RFC 6749 §3.2: these parameters MUST NOT be included more than once. */
const SINGLE_PARAMS = [
  'grant_type',
  'scope',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'assertion',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
]

/** Answers one token request (POST). */
export async function handleTokenRequest(ctx: TokenEndpointContext, request: Request): Promise<Response> {
  const params = new URLSearchParams(await request.text())
  const flat: Record<string, string> = {}
  for (const [k, v] of params) if (!(k in flat)) flat[k] = v
  const record: TokenRecord = {
    ...identifyClient(request.headers, params),
    grantType: params.get('grant_type') ?? undefined,
    scope: splitScope(params.get('scope')),
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
    const body = await processToken(ctx, request, params, record)
    record.status = 200
    return jsonResponse(body, 200, { pragma: 'no-cache' })
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e
    record.status = e.status
    record.error = e.error
    return oauthErrorResponse(e)
  }
}

/** RFC 9449 §5: the proof's key binds the token; `use_dpop_nonce` asks for the server's nonce. */
async function checkDpop(ctx: TokenEndpointContext, request: Request, record: TokenRecord) {
  const proof = request.headers.get('dpop')
  if (proof === null) {
    if (ctx.dpop.required) throw new OAuthError(400, 'invalid_dpop_proof', 'a DPoP proof is required')
    return undefined
  }
  const result = await ctx.dpop.verifier.verify(proof, { htm: 'POST', htu: ctx.tokenEndpoint })
  record.dpop = result.jkt ? { jkt: result.jkt } : {}
  if (!result.ok) {
    const nonce = ctx.dpop.nonce()
    const headers: Record<string, string> =
      result.error === 'use_dpop_nonce' && nonce ? { 'dpop-nonce': nonce } : {}
    throw new OAuthError(400, result.error, result.description, headers)
  }
  if (result.nonce !== undefined) record.dpop.nonce = result.nonce
  return result.jkt
}

async function processToken(
  ctx: TokenEndpointContext,
  request: Request,
  params: URLSearchParams,
  record: TokenRecord,
): Promise<Record<string, unknown>> {
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
  const dpopJkt = await checkDpop(ctx, request, record)
  const grant = GRANTS[grantType]
  const client = await ctx.authenticator.authenticate(
    request.headers,
    params,
    record,
    grant?.anonymous ?? false,
  )
  if (!grant) throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`)
  if (!client && !grant.anonymous)
    throw new OAuthError(401, 'invalid_client', 'client authentication required')
  return grant.handle(ctx, { params, client, record, dpopJkt })
}
