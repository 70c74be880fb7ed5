/**
 * Errors thrown by `@mcp-oauth2/auth-core`. Every error has a stable `code`; tests and callers
 * branch on `code` and on the data fields, never on the wording of `message`.
 *
 * No message, field or `cause` of these errors ever holds a client secret, private key, access
 * token or cookie value.
 */

import { formatScope } from './scope.js'

/** Stable codes of {@link AuthCoreError} and its subclasses. */
export const ErrorCode = {
  /** The token endpoint answered with an RFC 6749 §5.2 error response (`error` holds it). */
  OAuthErrorResponse: 'ERR_OAUTH_ERROR_RESPONSE',
  /** The token endpoint answered with an HTTP error status and no OAuth error body. */
  TokenHttpStatus: 'ERR_TOKEN_HTTP_STATUS',
  /** The token endpoint could not be reached (after the configured retries). */
  TokenNetwork: 'ERR_TOKEN_NETWORK',
  /** A request to the authorization server exceeded its per-attempt timeout (after retries). */
  Timeout: 'ERR_TIMEOUT',
  /** The token response was not a valid RFC 6749 §5.1 Bearer token response. */
  TokenResponseInvalid: 'ERR_TOKEN_RESPONSE_INVALID',
  /** Authorization-server or protected-resource metadata could not be discovered. */
  DiscoveryFailed: 'ERR_DISCOVERY_FAILED',
  /** Discovered metadata was malformed or inconsistent (e.g. issuer mismatch, no token endpoint). */
  DiscoveryInvalidMetadata: 'ERR_DISCOVERY_INVALID_METADATA',
  /** Credentials would be sent over plain HTTP to a host that is not loopback. */
  InsecureHttp: 'ERR_INSECURE_HTTP',
  /** An access token failed verification (see `InvalidTokenError.reason`). */
  InvalidToken: 'ERR_INVALID_TOKEN',
  /** An access token is valid but lacks required scopes. */
  InsufficientScope: 'ERR_INSUFFICIENT_SCOPE',
  /** The verifier's keys could not be obtained. */
  KeysUnavailable: 'ERR_KEYS_UNAVAILABLE',
  /** Configuration was invalid (see `ConfigError.issues`). */
  Config: 'ERR_CONFIG',
  /** A per-user provider was asked for a token without the user's token (`subjectToken` / `idToken`). */
  SubjectTokenRequired: 'ERR_SUBJECT_TOKEN_REQUIRED',
  /** The user's token (subject token, ID token) has expired: no request is sent with it. */
  SubjectTokenExpired: 'ERR_SUBJECT_TOKEN_EXPIRED',
  /** A jwt-bearer assertion has expired: it is not sent. */
  AssertionExpired: 'ERR_ASSERTION_EXPIRED',
  /** A jwt-bearer assertion could not be obtained (its file unreadable or empty, its callback failed). */
  AssertionUnavailable: 'ERR_ASSERTION_UNAVAILABLE',
  /** The authorization step of the authorization-code flow failed (an error, a wrong state or issuer). */
  AuthorizationFailed: 'ERR_AUTHORIZATION_FAILED',
} as const

/**
 * One of auth-core's codes. `AuthCoreError.code` is this union, open for codes added later (and
 * for subclasses in other packages): `AuthCoreErrorCode | (string & {})`, as jose's `JOSEErrorCode`.
 */
export type AuthCoreErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]
/** The same union as {@link AuthCoreErrorCode}, under the name of the constants object. */
export type ErrorCode = AuthCoreErrorCode

/** Codes of {@link TokenRequestError}. */
export type TokenRequestErrorCode =
  | typeof ErrorCode.OAuthErrorResponse
  | typeof ErrorCode.TokenHttpStatus
  | typeof ErrorCode.TokenNetwork
  | typeof ErrorCode.Timeout
  | typeof ErrorCode.TokenResponseInvalid

/** Codes of {@link DiscoveryError}. */
export type DiscoveryErrorCode = typeof ErrorCode.DiscoveryFailed | typeof ErrorCode.DiscoveryInvalidMetadata

/** Options every error constructor accepts. */
export interface AuthCoreErrorOptions {
  /** The underlying error, if any. It must not carry a secret or token value. */
  cause?: unknown
}

/**
 * Base class of every error this package throws.
 *
 * @example
 * ```ts
 * try { await provider.getToken() } catch (err) {
 *   if (err instanceof AuthCoreError && err.code === 'ERR_OAUTH_ERROR_RESPONSE') { … }
 * }
 * ```
 */
export class AuthCoreError extends Error {
  /** A stable, machine-readable code: one of {@link ErrorCode} for the errors of this package. */
  readonly code: AuthCoreErrorCode | (string & {})

  constructor(code: AuthCoreErrorCode | (string & {}), message: string, options?: AuthCoreErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
  }
}

/** Options of {@link TokenRequestError}. */
export interface TokenRequestErrorOptions extends AuthCoreErrorOptions {
  /** The endpoint that was called (no query string, no credentials). */
  endpoint: string
  /** HTTP status, when a response was received. */
  status?: number | undefined
  /** RFC 6749 §5.2 `error`, when the server sent one. */
  error?: string | undefined
  /** RFC 6749 §5.2 `error_description`, when the server sent one. */
  errorDescription?: string | undefined
  /** Attempts made, retries included. */
  attempts?: number | undefined
}

/**
 * A token request failed.
 *
 * @see RFC 6749 §5.2
 */
export class TokenRequestError extends AuthCoreError {
  declare readonly code: TokenRequestErrorCode
  readonly endpoint: string
  readonly status: number | undefined
  readonly error: string | undefined
  readonly errorDescription: string | undefined
  readonly attempts: number | undefined

  constructor(code: TokenRequestErrorCode, message: string, options: TokenRequestErrorOptions) {
    super(code, message, options)
    this.endpoint = options.endpoint
    this.status = options.status
    this.error = options.error
    this.errorDescription = options.errorDescription
    this.attempts = options.attempts
  }
}

/** Options of {@link DiscoveryError}. */
export interface DiscoveryErrorOptions extends AuthCoreErrorOptions {
  /** The metadata URL(s) that were tried, in order. */
  urls: readonly string[]
  /** HTTP status of the last attempt, when a response was received. */
  status?: number | undefined
}

/**
 * Authorization-server (RFC 8414) or protected-resource (RFC 9728) metadata discovery failed.
 *
 * @see RFC 8414 §3, RFC 9728 §3
 */
export class DiscoveryError extends AuthCoreError {
  declare readonly code: DiscoveryErrorCode
  readonly urls: readonly string[]
  readonly status: number | undefined

  constructor(code: DiscoveryErrorCode, message: string, options: DiscoveryErrorOptions) {
    super(code, message, options)
    this.urls = options.urls
    this.status = options.status
  }
}

/** Why a token was rejected by {@link InvalidTokenError}. */
export type InvalidTokenReason =
  | 'malformed'
  | 'too_large'
  | 'algorithm'
  | 'signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'type'
  | 'claims'

/** Options of {@link InvalidTokenError}. */
export interface InvalidTokenErrorOptions extends AuthCoreErrorOptions {
  reason: InvalidTokenReason
  /** RFC 9728 `resource_metadata` URL to put into the challenge. */
  resourceMetadata?: string | undefined
}

/** Quote a value for an RFC 7235 auth-param (quoted-string). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/**
 * An access token failed verification. `wwwAuthenticate` is a ready RFC 6750 §3 challenge.
 *
 * @see RFC 6750 §3.1
 */
export class InvalidTokenError extends AuthCoreError {
  declare readonly code: typeof ErrorCode.InvalidToken
  readonly reason: InvalidTokenReason
  /** Value for a `WWW-Authenticate` response header. */
  readonly wwwAuthenticate: string

  constructor(message: string, options: InvalidTokenErrorOptions) {
    super(ErrorCode.InvalidToken, message, options)
    this.reason = options.reason
    let challenge = `Bearer error="invalid_token", error_description=${quote(message)}`
    if (options.resourceMetadata) challenge += `, resource_metadata=${quote(options.resourceMetadata)}`
    this.wwwAuthenticate = challenge
  }
}

/** Options of {@link InsufficientScopeError}. */
export interface InsufficientScopeErrorOptions extends AuthCoreErrorOptions {
  /** Scopes the token lacks. */
  missingScopes: readonly string[]
  /** Scopes the operation requires (put into the challenge's `scope`). */
  requiredScopes: readonly string[]
  /** RFC 9728 `resource_metadata` URL to put into the challenge. */
  resourceMetadata?: string | undefined
}

/**
 * An access token is valid but does not carry the scopes an operation requires.
 *
 * @see RFC 6750 §3.1
 */
export class InsufficientScopeError extends AuthCoreError {
  declare readonly code: typeof ErrorCode.InsufficientScope
  readonly missingScopes: readonly string[]
  readonly requiredScopes: readonly string[]
  /** Value for a `WWW-Authenticate` response header. */
  readonly wwwAuthenticate: string

  constructor(message: string, options: InsufficientScopeErrorOptions) {
    super(ErrorCode.InsufficientScope, message, options)
    this.missingScopes = [...options.missingScopes]
    this.requiredScopes = [...options.requiredScopes]
    let challenge = `Bearer error="insufficient_scope", scope=${quote(formatScope(this.requiredScopes))}`
    if (options.resourceMetadata) challenge += `, resource_metadata=${quote(options.resourceMetadata)}`
    this.wwwAuthenticate = challenge
  }
}

/** One problem found in a configuration. */
export interface ConfigIssue {
  /** Where the problem is, e.g. `mcp_servers.crm.auth.oauth2.client_id`. */
  path: string
  /** What is wrong, without the value when the value may be a secret. */
  message: string
}

/** Options of {@link ConfigError}. */
export interface ConfigErrorOptions extends AuthCoreErrorOptions {
  issues: readonly ConfigIssue[]
  /** The file the configuration came from, when it came from a file. */
  file?: string | undefined
}

/**
 * A configuration is invalid. `issues` lists every problem with its path.
 */
export class ConfigError extends AuthCoreError {
  declare readonly code: typeof ErrorCode.Config
  readonly issues: readonly ConfigIssue[]
  readonly file: string | undefined

  constructor(message: string, options: ConfigErrorOptions) {
    super(ErrorCode.Config, message, options)
    this.issues = options.issues
    this.file = options.file
  }
}

/**
 * Every error this package throws on purpose, as a union discriminated by `code`: after
 * `switch (err.code)` the compiler knows the class and its fields.
 *
 * @example
 * ```ts
 * function describe(err: KnownAuthCoreError): string {
 *   switch (err.code) {
 *     case 'ERR_OAUTH_ERROR_RESPONSE':
 *       return `${err.endpoint} refused: ${err.error}` // a TokenRequestError
 *     case 'ERR_INVALID_TOKEN':
 *       return err.reason // an InvalidTokenError
 *     default:
 *       return err.message
 *   }
 * }
 * ```
 */
export type KnownAuthCoreError =
  | TokenRequestError
  | DiscoveryError
  | InvalidTokenError
  | InsufficientScopeError
  | ConfigError
  | (AuthCoreError & {
      readonly code:
        | typeof ErrorCode.InsecureHttp
        | typeof ErrorCode.KeysUnavailable
        | typeof ErrorCode.SubjectTokenRequired
        | typeof ErrorCode.SubjectTokenExpired
        | typeof ErrorCode.AssertionExpired
        | typeof ErrorCode.AssertionUnavailable
        | typeof ErrorCode.AuthorizationFailed
    })
