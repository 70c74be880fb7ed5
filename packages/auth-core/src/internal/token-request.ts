/**
 * One token request, end to end, for any grant: client authentication (with the Basic encoding
 * fallback), a DPoP proof per attempt (and one retry with the server's nonce after
 * `use_dpop_nonce`), the request through the resilient fetch, and the response checked and
 * turned into a typed error (internal/token-request-errors.ts) or the parts of a token. The
 * providers add caching, single flight and discovery around it (internal/grant-client.ts,
 * internal/token-cache.ts).
 *
 * @see RFC 6749 §4.4, §5.1, §5.2, RFC 8693 §2.2, RFC 7523 §2.1, RFC 9449 §5, §8
 */
import {
  type AuthorizationServer,
  allowInsecureRequests,
  type ClientAuth,
  customFetch,
  genericTokenEndpointRequest,
  processGenericTokenEndpointResponse,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
} from 'oauth4webapi'
import { ErrorCode, TokenRequestError } from '../errors.js'
import { basicAuthorization, clientSecretBasic } from './client-auth.js'
import type { CallStats, ResilientInit } from './http.js'
import type { BasicCredentialEncodingName, TokenTypeName } from './protocol.js'
import { challengeError, isNonceChallenge, mapRequestError, oauthError } from './token-request-errors.js'
import type { GrantRequest, IssuedToken, TokenRequestContext } from './token-request-types.js'
import { displayUrl } from './url.js'

export type {
  ClientAuthentication,
  GrantRequest,
  IssuedToken,
  TokenRequestContext,
} from './token-request-types.js'

/** The shortest lifetime a token is cached for, whatever `expires_in` says (0 included). */
export const MIN_TOKEN_LIFETIME_MS = 1_000

/** RFC 6750 §2.1 `b64token` is stricter; a header value must at least be visible ASCII. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/

interface Outcome {
  readonly token?: IssuedToken
  readonly error?: Error
  /** `invalid_client` from the server (a Basic encoding mismatch may be the cause). */
  readonly invalidClient?: boolean
  /** `use_dpop_nonce` from the server, which sent a nonce this attempt did not carry. */
  readonly nonceChallenge?: boolean
}

async function attempt(
  ctx: TokenRequestContext,
  as: AuthorizationServer,
  tokenEndpoint: URL,
  request: GrantRequest,
  clientAuth: ClientAuth,
): Promise<Outcome> {
  const endpoint = displayUrl(tokenEndpoint)
  const { client, dpop } = ctx
  const stats: CallStats = { attempts: 0 }
  // oauth4webapi wants a client_id; only our own client authentication reads it, and a client
  // without one (`none`, a jwt-bearer assertion as the only credential) sends none.
  const oauthClient = { client_id: client.clientId || 'anonymous', token_endpoint_auth_method: client.method }
  if (client.method === 'private_key_jwt') {
    stats.renewForm = async (body) => {
      await clientAuth(as, oauthClient, body, new Headers())
      return body
    }
  }
  // The nonce the first proof of this request carries; a use_dpop_nonce answer that brings
  // another one is worth one more request (RFC 9449 §8).
  const sentNonce = dpop?.nonceFor(tokenEndpoint)
  if (dpop) {
    stats.headers = async () => ({ dpop: await dpop.proof({ method: 'POST', url: tokenEndpoint }) })
    stats.onResponse = (response) => dpop.rememberNonce(tokenEndpoint, response.headers.get('dpop-nonce'))
  }
  const started = ctx.now()
  let response: Response
  try {
    response = await genericTokenEndpointRequest(
      as,
      oauthClient,
      clientAuth,
      request.grantType,
      request.params.slice(),
      {
        [allowInsecureRequests]: tokenEndpoint.protocol === 'http:',
        [customFetch]: (url, init) => ctx.fetch(url, init as ResilientInit, stats),
      },
    )
  } catch (error) {
    return { error: mapRequestError(error, endpoint) }
  }
  const status = response.status
  let result: Awaited<ReturnType<typeof processGenericTokenEndpointResponse>>
  try {
    result = await processGenericTokenEndpointResponse(as, oauthClient, response, {
      // Type checks are ours (below); this only lets oauth4webapi hand over N_A and DPoP.
      recognizedTokenTypes: { n_a: () => {}, dpop: () => {} },
    })
  } catch (error) {
    const challenge =
      error instanceof WWWAuthenticateChallengeError
        ? await challengeError(ctx, request, error, endpoint, stats.attempts)
        : error instanceof ResponseBodyError
          ? oauthError(
              ctx,
              request,
              endpoint,
              error.status,
              error.error,
              error.error_description,
              stats.attempts,
            )
          : undefined
    if (challenge) {
      return {
        error: challenge,
        invalidClient: challenge.error === 'invalid_client',
        nonceChallenge:
          dpop !== undefined && isNonceChallenge(challenge, sentNonce, dpop.nonceFor(tokenEndpoint)),
      }
    }
    // Anything else is a response we cannot use. Its cause may hold the body, and with it a
    // token: keep only the status.
    const code = status >= 200 && status < 300 ? ErrorCode.TokenResponseInvalid : ErrorCode.TokenHttpStatus
    const message =
      code === ErrorCode.TokenHttpStatus
        ? `token request to ${endpoint} failed: HTTP ${status}`
        : `token request to ${endpoint} returned an invalid token response`
    return { error: new TokenRequestError(code, message, { endpoint, status, attempts: stats.attempts }) }
  }
  const invalid = (what: string) => ({
    error: new TokenRequestError(
      ErrorCode.TokenResponseInvalid,
      `token request to ${endpoint} returned ${what}`,
      { endpoint, status, attempts: stats.attempts },
    ),
  })
  const value = result.access_token
  if (typeof value !== 'string' || value === '') return invalid('no access_token')
  // The value goes into an Authorization header: CR, LF, NUL, spaces or non-ASCII would split
  // or corrupt it (and never reach a message: only the fact is reported).
  if (!VISIBLE_ASCII.test(value)) return invalid('an access_token that is not a valid header value')
  // oauth4webapi lower-cases token_type.
  const type = result.token_type
  let tokenType: TokenTypeName
  if (type === 'bearer') tokenType = 'Bearer'
  // A DPoP-bound token is usable only with the key that made the proof (RFC 9449 §5).
  else if (type === 'dpop' && dpop !== undefined) tokenType = 'DPoP'
  else if (type === 'n_a' && request.acceptNotApplicable === true) tokenType = 'N_A'
  else return invalid('an unsupported token_type')
  const issuedTokenType = (result as { issued_token_type?: unknown }).issued_token_type
  if (issuedTokenType !== undefined && typeof issuedTokenType !== 'string')
    return invalid('an issued_token_type that is not a string')
  // oauth4webapi has checked `expires_in` is a finite number >= 0. Bound it both ways: a server's
  // 0 or 1e308 must neither refetch on every call nor cache forever.
  const expiresInMs =
    typeof result.expires_in === 'number'
      ? Math.min(ctx.maxLifetimeMs, Math.max(MIN_TOKEN_LIFETIME_MS, result.expires_in * 1000))
      : ctx.defaultExpiresInMs
  return {
    token: {
      value,
      tokenType,
      scope: typeof result.scope === 'string' ? result.scope : undefined,
      // From the request's start: the server issued it no earlier, so this errs on the safe side.
      expiresAt: started + expiresInMs,
      issuedTokenType,
      refreshToken: typeof result.refresh_token === 'string' ? result.refresh_token : undefined,
      attempts: stats.attempts,
    },
  }
}

/** One attempt, and with DPoP one more when the server asked for its nonce (`use_dpop_nonce`). */
async function attemptWithNonce(
  ctx: TokenRequestContext,
  as: AuthorizationServer,
  tokenEndpoint: URL,
  request: GrantRequest,
  clientAuth: ClientAuth,
): Promise<Outcome> {
  const outcome = await attempt(ctx, as, tokenEndpoint, request, clientAuth)
  if (!outcome.nonceChallenge) return outcome
  const retry = await attempt(ctx, as, tokenEndpoint, request, clientAuth)
  if (retry.token) return { token: { ...retry.token, attempts: retry.token.attempts + attemptsOf(outcome) } }
  return retry
}

function attemptsOf(outcome: Outcome): number {
  return outcome.token?.attempts ?? (outcome.error as TokenRequestError | undefined)?.attempts ?? 0
}

/**
 * Request a token. With `client_secret_basic`, an `invalid_client` answer is retried once with
 * the other credential encoding when the two differ (RFC 6749 §2.3.1 asks servers to form-decode
 * the credentials, and some do not); the encoding that worked is remembered for the endpoint.
 * With DPoP, a `use_dpop_nonce` answer is retried once with the server's nonce.
 */
export async function requestToken(
  ctx: TokenRequestContext,
  as: AuthorizationServer,
  tokenEndpoint: URL,
  request: GrantRequest,
): Promise<IssuedToken> {
  const { client } = ctx
  if (client.method !== 'client_secret_basic') {
    const outcome = await attemptWithNonce(ctx, as, tokenEndpoint, request, client.auth)
    if (outcome.token) return outcome.token
    throw outcome.error
  }
  const key = tokenEndpoint.href
  const first = ctx.basicEncodings.get(key) ?? client.encoding
  const second: BasicCredentialEncodingName = first === 'raw' ? 'form-urlencoded' : 'raw'
  const basic = (encoding: BasicCredentialEncodingName) =>
    clientSecretBasic(client.clientId, client.clientSecret, encoding)
  const outcome = await attemptWithNonce(ctx, as, tokenEndpoint, request, basic(first))
  if (outcome.token) {
    ctx.basicEncodings.set(key, first)
    return outcome.token
  }
  const differ =
    basicAuthorization(client.clientId, client.clientSecret, first) !==
    basicAuthorization(client.clientId, client.clientSecret, second)
  if (!outcome.invalidClient || !differ) throw outcome.error
  const retry = await attemptWithNonce(ctx, as, tokenEndpoint, request, basic(second))
  if (retry.token) {
    ctx.basicEncodings.set(key, second)
    return retry.token
  }
  const error = retry.error
  if (retry.invalidClient && error instanceof TokenRequestError) {
    throw new TokenRequestError(
      ErrorCode.OAuthErrorResponse,
      `${error.message} (client_secret_basic refused with both ${first} and ${second} credentials)`,
      {
        endpoint: error.endpoint,
        status: error.status,
        error: error.error,
        errorDescription: error.errorDescription,
        attempts: (error.attempts ?? 0) + attemptsOf(outcome),
      },
    )
  }
  throw error
}
