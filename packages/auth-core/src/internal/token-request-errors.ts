/**
 * How a failed token request becomes a `TokenRequestError`: transport failures (timeout, network,
 * oversized response) and the server's OAuth error responses (RFC 6749 §5.2), every text the
 * server controls scrubbed of the client's secrets and the request's tokens first.
 *
 * @see RFC 6749 §5.2, RFC 6750 §3, RFC 9449 §8
 */
import type { WWWAuthenticateChallengeError } from 'oauth4webapi'
import { ErrorCode, TokenRequestError } from '../errors.js'
import { basicAuthorization } from './client-auth.js'
import { AttemptTimeoutError, NetworkFailureError, ResponseTooLargeError } from './http.js'
import { BASIC_CREDENTIAL_ENCODINGS } from './protocol.js'
import { DEFAULT_MAX_SERVER_TEXT, redact } from './redact.js'
import type { GrantRequest, TokenRequestContext } from './token-request-types.js'

/** Longest OAuth `error` code kept (RFC 6749 §5.2 codes are short ASCII words). */
const MAX_ERROR_CODE = 64

/** Every text the server controls goes through this before it reaches an error. */
export function scrub(
  ctx: TokenRequestContext,
  text: unknown,
  max = DEFAULT_MAX_SERVER_TEXT,
  extra: readonly string[] = [],
): string | undefined {
  if (typeof text !== 'string' || text === '') return undefined
  const { client } = ctx
  const secrets: string[] = [...ctx.secrets(), ...extra]
  if (client.clientSecret !== undefined) {
    secrets.push(client.clientSecret)
    for (const encoding of BASIC_CREDENTIAL_ENCODINGS) {
      secrets.push(basicAuthorization(client.clientId, client.clientSecret, encoding).slice('Basic '.length))
    }
  }
  return redact(text, secrets, max)
}

export function mapRequestError(error: unknown, endpoint: string): Error {
  const where = `token request to ${endpoint}`
  if (error instanceof AttemptTimeoutError) {
    return new TokenRequestError(ErrorCode.Timeout, `${where} timed out after ${error.attempts} attempt(s)`, {
      endpoint,
      attempts: error.attempts,
    })
  }
  if (error instanceof NetworkFailureError) {
    return new TokenRequestError(
      ErrorCode.TokenNetwork,
      `${where} failed: network error after ${error.attempts} attempt(s)`,
      { endpoint, attempts: error.attempts, cause: error.cause },
    )
  }
  if (error instanceof ResponseTooLargeError) {
    return new TokenRequestError(
      ErrorCode.TokenResponseInvalid,
      `${where} returned a response larger than 1 MiB`,
      { endpoint, attempts: error.attempts },
    )
  }
  // ConfigError (a private key that cannot be imported), InsecureHttp, …: already typed. Anything
  // else is a bug of ours or of a custom `fetch`, not a condition of the server: pass it on.
  return error instanceof Error ? error : new TypeError('token request failed')
}

export async function challengeError(
  ctx: TokenRequestContext,
  request: GrantRequest,
  error: WWWAuthenticateChallengeError,
  endpoint: string,
  attempts: number,
): Promise<TokenRequestError> {
  let body: Record<string, unknown> = {}
  try {
    const parsed: unknown = await error.response.clone().json()
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>
  } catch {}
  const params = error.cause[0]?.parameters ?? {}
  return oauthError(
    ctx,
    request,
    endpoint,
    error.status,
    body.error ?? params.error ?? 'invalid_client',
    body.error_description ?? params.error_description,
    attempts,
  )
}

export function oauthError(
  ctx: TokenRequestContext,
  request: GrantRequest,
  endpoint: string,
  status: number,
  rawError: unknown,
  rawDescription: unknown,
  attempts: number,
): TokenRequestError {
  const error = scrub(ctx, rawError, MAX_ERROR_CODE, request.secrets) ?? 'invalid_request'
  return new TokenRequestError(
    ErrorCode.OAuthErrorResponse,
    `token request to ${endpoint} failed: ${error}`,
    {
      endpoint,
      status,
      error,
      errorDescription: scrub(ctx, rawDescription, DEFAULT_MAX_SERVER_TEXT, request.secrets),
      attempts,
    },
  )
}

/** A `use_dpop_nonce` error that came with a nonce other than the one the proof carried. */
export function isNonceChallenge(
  error: TokenRequestError,
  sent: string | undefined,
  now: string | undefined,
): boolean {
  return error.error === 'use_dpop_nonce' && now !== undefined && now !== sent
}
