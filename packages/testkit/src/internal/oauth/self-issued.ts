/** Tokens a test asks the mock authorization server for directly: access tokens and ID tokens. Never re-exported. */
import { randomUUID } from 'node:crypto'
import { audClaim, clientDefaultScopes, type GrantClient } from './grants/grant.js'
import type { TokenSigner } from './token-signer.js'

export interface SelfIssueContext {
  issuer: string
  signer: TokenSigner
  clock: () => number
  ttlSeconds: number
  clients: readonly GrantClient[]
  defaultAudience(): string[] | undefined
}

type Claims = Record<string, unknown> & { expiresIn?: number }

/** An RFC 9068 access token with the defaults a token request would give; `claims` override them. */
export function issueAccessTokenFor(
  ctx: SelfIssueContext,
  claims: Claims,
  header: { kid?: string; typ?: string },
): Promise<string> {
  const { expiresIn, ...rest } = claims
  const iat = Math.floor(ctx.clock() / 1000)
  const clientId =
    typeof rest['client_id'] === 'string' ? rest['client_id'] : (ctx.clients[0]?.clientId ?? 'test-client')
  const scope = Array.isArray(rest['scope'])
    ? (rest['scope'] as unknown[]).join(' ')
    : 'scope' in rest
      ? rest['scope']
      : clientDefaultScopes(ctx.clients.find((c) => c.clientId === clientId)).join(' ')
  const base: Record<string, unknown> = {
    iss: ctx.issuer,
    sub: clientId,
    aud: audClaim(ctx.defaultAudience()),
    client_id: clientId,
    iat,
    exp: iat + (expiresIn ?? ctx.ttlSeconds),
    jti: randomUUID(),
  }
  return ctx.signer.sign(
    { ...base, ...rest, scope: scope === '' ? undefined : scope },
    { typ: header.typ ?? 'at+jwt', ...(header.kid ? { kid: header.kid } : {}) },
  )
}

/** An OpenID Connect ID token (typ `JWT`) for a user; `aud` defaults to the first client. */
export function issueIdTokenFor(
  ctx: SelfIssueContext,
  claims: Claims,
  header: { kid?: string },
): Promise<string> {
  const { expiresIn, ...rest } = claims
  const iat = Math.floor(ctx.clock() / 1000)
  return ctx.signer.sign(
    {
      iss: ctx.issuer,
      sub: 'test-user',
      aud: ctx.clients[0]?.clientId ?? 'test-client',
      iat,
      auth_time: iat,
      exp: iat + (expiresIn ?? ctx.ttlSeconds),
      jti: randomUUID(),
      ...rest,
    },
    { typ: 'JWT', ...(header.kid ? { kid: header.kid } : {}) },
  )
}
