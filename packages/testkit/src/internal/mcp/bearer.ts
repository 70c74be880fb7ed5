/**
 * The resource-server side of the mock MCP server: access-token verification against the mock
 * authorization server's keys, with the `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7) scheme,
 * their challenges, and per-tool scope checks. Never re-exported.
 *
 * @see RFC 6750 §3, RFC 9068 §4, RFC 9449 §7, RFC 9728 §5.1
 */
import type { AuthInfo } from '@modelcontextprotocol/server'
import { createLocalJWKSet, type JWK, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose'
import { DPOP_ALGS, type DpopPolicy } from '../dpop.js'
import { headersToRecord, jsonResponse, parseCookies, quote } from '../http.js'
import { scopesOfClaims } from '../scope.js'

/** What the guard needs of the authorization server whose tokens it accepts. */
export interface TokenIssuer {
  readonly issuer: string
  now(): number
  publicJwks(): { keys: JWK[] }
}

export type AuthScheme = 'Bearer' | 'DPoP'

/** A refused request: status, the `WWW-Authenticate` challenge, extra headers and the JSON body. */
export interface AuthRejection {
  ok: false
  status: number
  error?: string
  scheme?: AuthScheme
  wwwAuthenticate: string
  headers?: Record<string, string>
  body: Record<string, string>
  dpop?: { jkt?: string; jti?: string }
}

/** An accepted request. */
export interface AuthAcceptance {
  ok: true
  authInfo: AuthInfo
  scheme: AuthScheme
  dpop?: { jkt: string; jti: string; nonce: string | undefined }
}

/** Result of authentication. */
export type AuthOutcome = AuthAcceptance | AuthRejection

/** A challenge of `scheme` with `resource_metadata` (RFC 9728 §5.1) last. */
export function challenge(
  scheme: AuthScheme,
  metadataUrl: string,
  params: Record<string, string> = {},
): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${quote(v)}`)
  parts.push(`resource_metadata=${quote(metadataUrl)}`)
  return `${scheme} ${parts.join(', ')}`
}

/** The HTTP answer of a rejection. */
export function rejectionResponse(rejection: AuthRejection): Response {
  return jsonResponse(rejection.body, rejection.status, {
    'www-authenticate': rejection.wwwAuthenticate,
    ...rejection.headers,
  })
}

const TOKEN68 = /^(Bearer|DPoP)\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i

/** Verifies access tokens and checks tool scopes for one mock MCP server. */
export class BearerGuard {
  readonly #oauth: TokenIssuer
  readonly #toolScopes: Readonly<Record<string, readonly string[]>>
  readonly #dpop: DpopPolicy
  // The key set is rebuilt only when the authorization server's JWKS changes (rotation), so
  // imported keys are reused across requests.
  #keySet: { id: string; get: ReturnType<typeof createLocalJWKSet> } | undefined

  constructor(oauth: TokenIssuer, toolScopes: Readonly<Record<string, readonly string[]>>, dpop: DpopPolicy) {
    this.#oauth = oauth
    this.#toolScopes = toolScopes
    this.#dpop = dpop
  }

  #currentKeySet() {
    const jwks = this.#oauth.publicJwks()
    const id = jwks.keys.map((k) => k.kid).join(' ')
    if (this.#keySet?.id !== id) this.#keySet = { id, get: createLocalJWKSet(jwks) }
    return this.#keySet.get
  }

  #reject(
    scheme: AuthScheme,
    metadataUrl: string,
    error: string | undefined,
    description: string,
    extra: Partial<AuthRejection> = {},
  ): AuthRejection {
    const params: Record<string, string> = error ? { error, error_description: description } : {}
    if (scheme === 'DPoP') params['algs'] = DPOP_ALGS.join(' ')
    return {
      ok: false,
      status: 401,
      scheme,
      ...(error ? { error } : {}),
      wwwAuthenticate: challenge(scheme, metadataUrl, params),
      body: error
        ? { error, error_description: description }
        : { error: 'unauthorized', error_description: description },
      ...extra,
    }
  }

  /**
   * Authenticates a request by its `Authorization` header (and `DPoP` proof); `accepted` are the
   * valid `aud`s, `urls` the URLs the request may have been sent to (for the proof's `htu`).
   */
  async authenticate(
    request: Request,
    metadataUrl: string,
    accepted: readonly string[],
    urls: readonly string[],
  ) {
    const headers = request.headers
    const authorization = headers.get('authorization')
    const required: AuthScheme = this.#dpop.required ? 'DPoP' : 'Bearer'
    const scheme = /^\s*dpop\s/i.test(authorization ?? '')
      ? 'DPoP'
      : /^\s*bearer\s/i.test(authorization ?? '')
        ? 'Bearer'
        : undefined
    // RFC 6750 §3.1 / RFC 9449 §7.1: no credentials → a challenge without an error code.
    if (!authorization || !scheme)
      return this.#reject(required, metadataUrl, undefined, `${required} token required`)
    if (scheme === 'Bearer' && this.#dpop.required)
      return this.#reject('DPoP', metadataUrl, 'invalid_token', 'a DPoP-bound token is required')
    const token = TOKEN68.exec(authorization)?.[2]
    if (!token) return this.#reject(scheme, metadataUrl, 'invalid_token', `malformed ${scheme} credentials`)
    const verified = await this.#verifyToken(token, accepted)
    if (typeof verified === 'string') return this.#reject(scheme, metadataUrl, 'invalid_token', verified)
    const jkt = (verified['cnf'] as { jkt?: unknown } | undefined)?.jkt
    // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token.
    if (scheme === 'Bearer' && jkt !== undefined)
      return this.#reject(
        'Bearer',
        metadataUrl,
        'invalid_token',
        'the token is DPoP-bound: use the DPoP scheme',
      )
    let dpop: AuthAcceptance['dpop']
    if (scheme === 'DPoP') {
      if (typeof jkt !== 'string')
        return this.#reject('DPoP', metadataUrl, 'invalid_token', 'the token is not DPoP-bound')
      const proof = headers.get('dpop')
      if (proof === null) return this.#reject('DPoP', metadataUrl, 'invalid_dpop_proof', 'missing DPoP proof')
      let result = await this.#dpop.verifier.verify(proof, {
        htm: request.method,
        htu: urls[0]!,
        accessToken: token,
      })
      for (const url of urls.slice(1)) {
        if (result.ok || result.description !== 'htu does not match the request URL') break
        result = await this.#dpop.verifier.verify(proof, {
          htm: request.method,
          htu: url,
          accessToken: token,
        })
      }
      const seen = { ...(result.jkt ? { jkt: result.jkt } : {}), ...(result.jti ? { jti: result.jti } : {}) }
      if (!result.ok) {
        const nonce = this.#dpop.nonce()
        const extra = result.error === 'use_dpop_nonce' && nonce ? { headers: { 'dpop-nonce': nonce } } : {}
        return this.#reject('DPoP', metadataUrl, result.error, result.description, { ...extra, dpop: seen })
      }
      if (result.jkt !== jkt) {
        return this.#reject(
          'DPoP',
          metadataUrl,
          'invalid_dpop_proof',
          "the proof's key does not match the token's cnf.jkt",
          {
            dpop: seen,
          },
        )
      }
      dpop = { jkt: result.jkt, jti: result.jti, nonce: result.nonce }
    }
    const authInfo = this.#authInfo(token, verified, headers)
    return { ok: true, authInfo, scheme, ...(dpop ? { dpop } : {}) } satisfies AuthAcceptance
  }

  /** The verified claims, or why the token was rejected. */
  async #verifyToken(token: string, accepted: readonly string[]): Promise<JWTPayload | string> {
    try {
      const { payload } = await jwtVerify(token, this.#currentKeySet(), {
        issuer: this.#oauth.issuer,
        audience: [...accepted],
        typ: 'at+jwt',
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(this.#oauth.now()),
      })
      return payload
    } catch (e) {
      return e instanceof joseErrors.JWTExpired
        ? 'token expired'
        : e instanceof joseErrors.JWTClaimValidationFailed
          ? `claim ${e.claim} invalid`
          : e instanceof joseErrors.JOSEError
            ? `token rejected (${e.code})`
            : 'token rejected'
    }
  }

  #authInfo(token: string, payload: JWTPayload, headers: Headers): AuthInfo {
    const clientId =
      typeof payload['client_id'] === 'string'
        ? payload['client_id']
        : typeof payload['azp'] === 'string'
          ? payload['azp']
          : (payload.sub ?? '')
    const authInfo: AuthInfo = {
      token,
      clientId,
      scopes: scopesOfClaims(payload),
      expiresAt: payload.exp,
      extra: {
        claims: { ...payload },
        cookies: parseCookies(headers.get('cookie')),
        headers: headersToRecord(headers),
      },
    }
    if (typeof payload.aud === 'string' && URL.canParse(payload.aud)) authInfo.resource = new URL(payload.aud)
    return authInfo
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
  checkScopes(body: unknown, accepted: AuthAcceptance, metadataUrl: string): AuthRejection | undefined {
    const required = this.requiredScopes(body)
    if (required.every((s) => accepted.authInfo.scopes.includes(s))) return undefined
    const description = `tool requires scope ${required.join(' ')}`
    return {
      ok: false,
      status: 403,
      error: 'insufficient_scope',
      scheme: accepted.scheme,
      wwwAuthenticate: challenge(accepted.scheme, metadataUrl, {
        error: 'insufficient_scope',
        scope: required.join(' '),
        error_description: description,
      }),
      body: { error: 'insufficient_scope', error_description: description },
    }
  }
}
