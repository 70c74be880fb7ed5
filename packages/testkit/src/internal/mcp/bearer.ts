/**
 * The resource-server side of the mock MCP server: bearer token verification against the mock
 * authorization server's keys, RFC 6750 challenges, and per-tool scope checks. Never re-exported.
 *
 * @see RFC 6750 §3, RFC 9068 §4, RFC 9728 §5.1
 */
import type { AuthInfo } from '@modelcontextprotocol/server'
import { createLocalJWKSet, type JWK, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose'
import { headersToRecord, jsonResponse, parseCookies, quote } from '../http.js'

/** What the guard needs of the authorization server whose tokens it accepts. */
export interface TokenIssuer {
  readonly issuer: string
  now(): number
  publicJwks(): { keys: JWK[] }
}

/** A refused request: status, the `WWW-Authenticate` challenge and the JSON body. */
export interface AuthRejection {
  ok: false
  status: number
  error?: string
  wwwAuthenticate: string
  body: Record<string, string>
}

/** Result of bearer-token authentication. */
export type AuthOutcome = { ok: true; authInfo: AuthInfo } | AuthRejection

/** The token's scopes, from `scope` (a string) or `scp` (an array or string). */
export function scopesOf(payload: JWTPayload): string[] {
  const scope = payload['scope'] ?? payload['scp']
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean)
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string')
  return []
}

/** An RFC 6750 §3 `Bearer` challenge with `resource_metadata` (RFC 9728 §5.1) last. */
export function bearerChallenge(metadataUrl: string, params: Record<string, string> = {}): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${quote(v)}`)
  parts.push(`resource_metadata=${quote(metadataUrl)}`)
  return `Bearer ${parts.join(', ')}`
}

/** The HTTP answer of a rejection. */
export function rejectionResponse(rejection: AuthRejection): Response {
  return jsonResponse(rejection.body, rejection.status, { 'www-authenticate': rejection.wwwAuthenticate })
}

/** Verifies bearer tokens and checks tool scopes for one mock MCP server. */
export class BearerGuard {
  readonly #oauth: TokenIssuer
  readonly #toolScopes: Readonly<Record<string, readonly string[]>>
  // The key set is rebuilt only when the authorization server's JWKS changes (rotation), so
  // imported keys are reused across requests.
  #keySet: { id: string; get: ReturnType<typeof createLocalJWKSet> } | undefined

  constructor(oauth: TokenIssuer, toolScopes: Readonly<Record<string, readonly string[]>>) {
    this.#oauth = oauth
    this.#toolScopes = toolScopes
  }

  #currentKeySet() {
    const jwks = this.#oauth.publicJwks()
    const id = jwks.keys.map((k) => k.kid).join(' ')
    if (this.#keySet?.id !== id) this.#keySet = { id, get: createLocalJWKSet(jwks) }
    return this.#keySet.get
  }

  /** Authenticates a request by its `Authorization: Bearer` header; `accepted` are the valid `aud`s. */
  async authenticate(
    headers: Headers,
    metadataUrl: string,
    accepted: readonly string[],
  ): Promise<AuthOutcome> {
    const authorization = headers.get('authorization')
    if (!authorization || !/^bearer\s/i.test(authorization)) {
      // RFC 6750 §3.1: no credentials → a challenge without an error code.
      return {
        ok: false,
        status: 401,
        wwwAuthenticate: bearerChallenge(metadataUrl),
        body: { error: 'unauthorized', error_description: 'Bearer token required' },
      }
    }
    const fail = (description: string): AuthRejection => ({
      ok: false,
      status: 401,
      error: 'invalid_token',
      wwwAuthenticate: bearerChallenge(metadataUrl, {
        error: 'invalid_token',
        error_description: description,
      }),
      body: { error: 'invalid_token', error_description: description },
    })
    const token = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization)?.[1]
    if (!token) return fail('malformed Bearer credentials')
    try {
      const { payload } = await jwtVerify(token, this.#currentKeySet(), {
        issuer: this.#oauth.issuer,
        audience: [...accepted],
        typ: 'at+jwt',
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(this.#oauth.now()),
      })
      const clientId =
        typeof payload['client_id'] === 'string'
          ? payload['client_id']
          : typeof payload['azp'] === 'string'
            ? payload['azp']
            : (payload.sub ?? '')
      const authInfo: AuthInfo = {
        token,
        clientId,
        scopes: scopesOf(payload),
        expiresAt: payload.exp,
        extra: {
          claims: { ...payload },
          cookies: parseCookies(headers.get('cookie')),
          headers: headersToRecord(headers),
        },
      }
      if (typeof payload.aud === 'string' && URL.canParse(payload.aud))
        authInfo.resource = new URL(payload.aud)
      return { ok: true, authInfo }
    } catch (e) {
      const reason =
        e instanceof joseErrors.JWTExpired
          ? 'token expired'
          : e instanceof joseErrors.JWTClaimValidationFailed
            ? `claim ${e.claim} invalid`
            : e instanceof joseErrors.JOSEError
              ? `token rejected (${e.code})`
              : 'token rejected'
      return fail(reason)
    }
  }

  /** The scopes the `tools/call` messages of a JSON-RPC body need. */
  requiredScopes(body: unknown): string[] {
    const required = new Set<string>()
    for (const message of Array.isArray(body) ? body : [body]) {
      if (message && typeof message === 'object' && message.method === 'tools/call') {
        const toolName = (message.params as { name?: unknown } | undefined)?.name
        if (typeof toolName === 'string') for (const s of this.#toolScopes[toolName] ?? []) required.add(s)
      }
    }
    return [...required]
  }

  /** A 403 `insufficient_scope` rejection when the token lacks a scope a called tool needs. */
  checkScopes(body: unknown, scopes: readonly string[], metadataUrl: string): AuthRejection | undefined {
    const required = this.requiredScopes(body)
    if (required.every((s) => scopes.includes(s))) return undefined
    const description = `tool requires scope ${required.join(' ')}`
    return {
      ok: false,
      status: 403,
      error: 'insufficient_scope',
      wwwAuthenticate: bearerChallenge(metadataUrl, {
        error: 'insufficient_scope',
        scope: required.join(' '),
        error_description: description,
      }),
      body: { error: 'insufficient_scope', error_description: description },
    }
  }
}
