/**
 * The JWT bearer grant (RFC 7523 §2.1): an access token for the subject of an assertion signed by
 * a trusted issuer (workload identity federation), or for the subject of an ID-JAG issued by a
 * trusted IdP for the authenticated client. Never re-exported.
 *
 * @see RFC 7523 §2.1, §3; draft-ietf-oauth-identity-assertion-authz-grant §5
 */
import { decodeProtectedHeader } from 'jose'
import { splitScope } from '../../scope.js'
import { OAuthError } from '../oauth-error.js'
import { checkResources, type Grant, grantScopes, issueAccessToken, requestedAudience } from './grant.js'

const ID_JAG_TYP = 'oauth-id-jag+jwt'

export const jwtBearerGrant: Grant = {
  // RFC 7523 §3.1: client authentication is optional with this grant (an ID-JAG needs it).
  anonymous: true,
  async handle(ctx, request) {
    const { params, record, client } = request
    const assertion = params.get('assertion')
    if (!assertion) throw new OAuthError(400, 'invalid_request', 'missing assertion')
    let typ: unknown
    try {
      typ = decodeProtectedHeader(assertion).typ
    } catch {
      throw new OAuthError(400, 'invalid_grant', 'assertion is not a JWT')
    }
    // RFC 7523 §3 item 3: the assertion's aud names this authorization server.
    const audience = [ctx.issuer, `${ctx.issuer}/`, ctx.tokenEndpoint]
    if (typ === ID_JAG_TYP) {
      if (!client) throw new OAuthError(401, 'invalid_client', 'an ID-JAG needs client authentication')
      const { payload } = await ctx.trust.verify(assertion, 'assertion', { audience, typ: ID_JAG_TYP })
      if (payload['client_id'] !== client.clientId)
        throw new OAuthError(400, 'invalid_grant', 'the ID-JAG was issued for another client')
      const resource = typeof payload['resource'] === 'string' ? payload['resource'] : undefined
      if (resource) checkResources([resource])
      const granted = typeof payload['scope'] === 'string' ? splitScope(payload['scope']) : undefined
      const refused = granted ? record.scope.filter((s) => !granted.includes(s)) : []
      if (refused.length > 0)
        throw new OAuthError(400, 'invalid_scope', `scope not in the ID-JAG: ${refused.join(' ')}`)
      return issueAccessToken(ctx, request, {
        sub: String(payload.sub),
        clientId: client.clientId,
        aud: resource ? [resource] : requestedAudience(ctx, record),
        scope: record.scope.length > 0 ? record.scope : (granted ?? []),
      })
    }
    const { payload } = await ctx.trust.verify(assertion, 'assertion', { audience })
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new OAuthError(400, 'invalid_grant', 'assertion has no sub')
    const aud = requestedAudience(ctx, record)
    const scope = client ? grantScopes(client, record.scope) : [...new Set(record.scope)]
    return issueAccessToken(ctx, request, {
      sub: payload.sub,
      clientId: client?.clientId ?? params.get('client_id') ?? payload.sub,
      aud,
      scope,
    })
  },
}
