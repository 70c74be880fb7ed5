/**
 * The token exchange grant (RFC 8693): an access token for the subject of `subject_token`,
 * optionally with an actor (`act`, checked against the subject's `may_act`), or an ID-JAG
 * (identity assertion authorization grant) for an ID token, when this server acts as the IdP.
 * Never re-exported.
 *
 * @see RFC 8693 §2.1, §2.2, §4.1, §4.4; draft-ietf-oauth-identity-assertion-authz-grant §4
 */
import { randomUUID } from 'node:crypto'
import { scopesOfClaims } from '../../scope.js'
import { OAuthError } from '../oauth-error.js'
import type { VerifiedToken } from '../token-trust.js'
import {
  type Grant,
  type GrantContext,
  type GrantRequest,
  grantScopes,
  issueAccessToken,
  requestedAudience,
  TOKEN_TYPE,
} from './grant.js'

const SUBJECT_TYPES: readonly string[] = [TOKEN_TYPE.accessToken, TOKEN_TYPE.idToken, TOKEN_TYPE.jwt]

/** The `aud` values a subject or actor token may carry to be exchanged here. */
function acceptedAudiences(ctx: GrantContext, request: GrantRequest, type: string): string[] {
  const clientId = request.client?.clientId
  // An ID token names the client it was issued to; other tokens may also name this server or a
  // resource registered with it (exchanging a token for one resource into one for another).
  if (type === TOKEN_TYPE.idToken) return clientId ? [clientId] : []
  return [
    ...(clientId ? [clientId] : []),
    ctx.issuer,
    `${ctx.issuer}/`,
    ctx.tokenEndpoint,
    ...ctx.resources(),
  ]
}

async function verified(ctx: GrantContext, request: GrantRequest, which: 'subject' | 'actor') {
  const { params } = request
  const token = params.get(`${which}_token`)
  const type = params.get(`${which}_token_type`)
  if (!token) return undefined
  if (!type) throw new OAuthError(400, 'invalid_request', `missing ${which}_token_type`)
  if (!SUBJECT_TYPES.includes(type))
    throw new OAuthError(400, 'invalid_request', `unsupported ${which}_token_type ${type}`)
  const audience = acceptedAudiences(ctx, request, type)
  return { type, token: await ctx.trust.verify(token, `${which}_token`, { audience }) }
}

/** RFC 8693 §4.4: when the subject names who may act for it, the actor must be that party. */
function checkMayAct(subject: VerifiedToken, actor: VerifiedToken): void {
  const mayAct = subject.payload['may_act'] as { sub?: unknown; iss?: unknown } | undefined
  if (!mayAct || typeof mayAct !== 'object') return
  const sameSub = mayAct.sub === undefined || mayAct.sub === actor.payload.sub
  const sameIss = mayAct.iss === undefined || mayAct.iss === actor.issuer
  if (!sameSub || !sameIss)
    throw new OAuthError(400, 'invalid_grant', "the actor is not allowed by the subject token's may_act")
}

async function issueIdJag(ctx: GrantContext, request: GrantRequest, subject: VerifiedToken) {
  const { params, record, client } = request
  const audience = params.get('audience')
  if (!audience)
    throw new OAuthError(
      400,
      'invalid_request',
      'an ID-JAG needs the audience (the authorization server it is for)',
    )
  const resource = record.resource[0]
  const iat = Math.floor(ctx.clock() / 1000)
  const sub = String(subject.payload.sub)
  const token = await ctx.signer.sign(
    {
      iss: ctx.issuer,
      sub,
      aud: audience,
      client_id: client?.idJagClientId ?? client?.clientId,
      resource,
      scope: record.scope.length > 0 ? record.scope.join(' ') : undefined,
      iat,
      exp: iat + ctx.idJagTtlSeconds,
      jti: randomUUID(),
    },
    { typ: 'oauth-id-jag+jwt' },
  )
  record.accessToken = token
  record.tokenType = 'N_A'
  record.issuedTokenType = TOKEN_TYPE.idJag
  record.subject = sub
  record.grantedScope = [...record.scope]
  return {
    access_token: token,
    issued_token_type: TOKEN_TYPE.idJag,
    token_type: 'N_A',
    expires_in: ctx.idJagTtlSeconds,
  }
}

export const tokenExchangeGrant: Grant = {
  anonymous: false,
  async handle(ctx, request) {
    const { params, record, client } = request
    const requested = params.get('requested_token_type') ?? TOKEN_TYPE.accessToken
    if (requested !== TOKEN_TYPE.accessToken && requested !== TOKEN_TYPE.idJag) {
      throw new OAuthError(400, 'invalid_request', `unsupported requested_token_type ${requested}`)
    }
    if (!params.get('subject_token') || !params.get('subject_token_type')) {
      throw new OAuthError(400, 'invalid_request', 'missing subject_token or subject_token_type')
    }
    const subject = await verified(ctx, request, 'subject')
    if (!subject) throw new OAuthError(400, 'invalid_request', 'missing subject_token')
    if (typeof subject.token.payload.sub !== 'string')
      throw new OAuthError(400, 'invalid_grant', 'subject_token has no sub')
    if (requested === TOKEN_TYPE.idJag) {
      if (subject.type !== TOKEN_TYPE.idToken)
        throw new OAuthError(400, 'invalid_request', 'an ID-JAG is issued for an ID token subject')
      return issueIdJag(ctx, request, subject.token)
    }
    const actor = await verified(ctx, request, 'actor')
    if (actor) checkMayAct(subject.token, actor.token)
    const aud = requestedAudience(ctx, record)
    const allowed = client?.allowedScopes
    const scope =
      record.scope.length > 0
        ? grantScopes(client, record.scope)
        : scopesOfClaims(subject.token.payload).filter((s) => !allowed || allowed.includes(s))
    // §4.1: the current actor, with the chain of earlier actors nested inside.
    const priorAct = subject.token.payload['act']
    const act = actor
      ? {
          sub: actor.token.payload.sub,
          ...(actor.token.issuer === ctx.issuer ? {} : { iss: actor.token.issuer }),
          ...(priorAct ? { act: priorAct } : {}),
        }
      : priorAct
    if (actor) record.actor = String(actor.token.payload.sub)
    return issueAccessToken(ctx, request, {
      sub: subject.token.payload.sub,
      clientId: client!.clientId,
      aud,
      scope,
      claims: { act },
      issuedTokenType: TOKEN_TYPE.accessToken,
    })
  },
}
