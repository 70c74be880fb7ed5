/**
 * One token request, end to end, for any grant: client authentication (with the Basic encoding
 * fallback), a DPoP proof per attempt (and one retry with the server's nonce after
 * `use_dpop_nonce`), the request through the resilient fetch, and the response checked and
 * turned into a typed error or the parts of a token. The providers add caching, single flight
 * and discovery around it (internal/grant-client.ts, internal/token-cache.ts).
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
import type { DpopSigner } from './dpop-signer.js'
import {
  AttemptTimeoutError,
  type CallStats,
  NetworkFailureError,
  type ResilientFetch,
  type ResilientInit,
  ResponseTooLargeError,
} from './http.js'
import {
  BASIC_CREDENTIAL_ENCODINGS,
  type BasicCredentialEncodingName,
  type TokenEndpointAuthMethodWithNoneName,
  type TokenTypeName,
} from './protocol.js'
import { DEFAULT_MAX_SERVER_TEXT, redact } from './redact.js'
import { displayUrl } from './url.js'

/** Longest OAuth `error` code kept (RFC 6749 §5.2 codes are short ASCII words). */
const MAX_ERROR_CODE = 64

/** The shortest lifetime a token is cached for, whatever `expires_in` says (0 included). */
export const MIN_TOKEN_LIFETIME_MS = 1_000

/** Client authentication of a provider, resolved once. */
export type ClientAuthentication =
  | {
      method: 'client_secret_basic'
      clientId: string
      clientSecret: string
      encoding: BasicCredentialEncodingName
    }
  | {
      method: Exclude<TokenEndpointAuthMethodWithNoneName, 'client_secret_basic'>
      /** The `client_id` (sent in the body with `none` when there is one). */
      clientId: string
      /** The secret of `client_secret_post` (scrubbed from server text); absent otherwise. */
      clientSecret: string | undefined
      auth: ClientAuth
    }

export interface TokenRequestContext {
  readonly client: ClientAuthentication
  readonly fetch: ResilientFetch
  readonly now: () => number
  readonly defaultExpiresInMs: number
  readonly maxLifetimeMs: number
  /** Values to scrub from server text besides the client secret (e.g. tokens held). */
  readonly secrets: () => Iterable<string>
  /** The Basic encoding that last worked, per token endpoint (shared across requests). */
  readonly basicEncodings: Map<string, BasicCredentialEncodingName>
  /** Signs a DPoP proof for every attempt and remembers the servers' nonces (RFC 9449). */
  readonly dpop?: DpopSigner | undefined
}

/** What one request sends besides client authentication. */
export interface GrantRequest {
  /** `grant_type`. */
  readonly grantType: string
  /** Form parameters (not `grant_type`, not client authentication). */
  readonly params: readonly [string, string][]
  /**
   * `token_type` values accepted besides `Bearer` (and `DPoP` when a proof was sent): `N_A` for a
   * token-exchange leg whose result is not an access token (an ID-JAG).
   */
  readonly acceptNotApplicable?: boolean | undefined
  /** Values scrubbed from server text besides the context's (a subject token, an assertion). */
  readonly secrets?: readonly string[] | undefined
}

/** What a successful token request yields; the provider builds its `AccessToken` from it. */
export interface IssuedToken {
  readonly value: string
  /** `Bearer`, `DPoP` (bound to the context's DPoP key) or `N_A`. */
  readonly tokenType: TokenTypeName
  /** The response's `scope`, when it had one. */
  readonly scope: string | undefined
  /** Epoch ms, bounded by the context's lifetimes. */
  readonly expiresAt: number
  /** RFC 8693 `issued_token_type`, when the response had one. */
  readonly issuedTokenType: string | undefined
  /** The response's `refresh_token`, when it had one. */
  readonly refreshToken: string | undefined
  /** HTTP attempts made, retries included (diagnostics). */
  readonly attempts: number
}

/** RFC 6750 §2.1 `b64token` is stricter; a header value must at least be visible ASCII. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/

/** Every text the server controls goes through this before it reaches an error. */
function scrub(
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

function mapRequestError(error: unknown, endpoint: string): Error {
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

interface Outcome {
  readonly token?: IssuedToken
  readonly error?: Error
  /** `invalid_client` from the server (a Basic encoding mismatch may be the cause). */
  readonly invalidClient?: boolean
  /** `use_dpop_nonce` from the server, which sent a nonce this attempt did not carry. */
  readonly nonceChallenge?: boolean
}

async function challengeError(
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

function oauthError(
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
function isNonceChallenge(
  error: TokenRequestError,
  sent: string | undefined,
  now: string | undefined,
): boolean {
  return error.error === 'use_dpop_nonce' && now !== undefined && now !== sent
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
