/** The client credentials grant (RFC 6749 §4.4): a token for the client itself. Never re-exported. */
import { type Grant, grantScopes, issueAccessToken, requestedAudience } from './grant.js'

export const clientCredentialsGrant: Grant = {
  anonymous: false,
  async handle(ctx, request) {
    const client = request.client!
    const aud = requestedAudience(ctx, request.record)
    const scope = grantScopes(client, request.record.scope)
    return issueAccessToken(ctx, request, { sub: client.clientId, clientId: client.clientId, aud, scope })
  },
}
