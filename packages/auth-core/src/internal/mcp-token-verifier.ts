/**
 * The error side of `JwtScopeVerifier.toMcpTokenVerifier`: the verifier's errors as the MCP SDK's
 * classes, which its `requireBearerAuth` answers with 401, 403 or 500 (it tests `instanceof`).
 *
 * @see RFC 6750 §3.1
 */
import { AuthCoreError, InsufficientScopeError, InvalidTokenError } from '../errors.js'
import type { SdkErrorClasses } from './mcp-sdk-errors.js'

/** The `errors` option, checked: a `TypeError` unless it holds the SDK's three classes. */
export function checkSdkErrorClasses(injected: SdkErrorClasses | undefined): void {
  if (
    injected !== undefined &&
    !(
      typeof injected.InvalidTokenError === 'function' &&
      typeof injected.InsufficientScopeError === 'function' &&
      typeof injected.ServerError === 'function'
    )
  ) {
    throw new TypeError(
      '"errors" must hold the SDK classes InvalidTokenError, InsufficientScopeError and ServerError',
    )
  }
}

/**
 * `error` as an instance of the SDK's classes: `InvalidTokenError` (401), `InsufficientScopeError`
 * (403), else `ServerError` (500, e.g. keys unavailable), with `error` as its `cause`.
 */
export function toSdkError(error: unknown, classes: SdkErrorClasses): Error {
  const Mapped =
    error instanceof InvalidTokenError
      ? classes.InvalidTokenError
      : error instanceof InsufficientScopeError
        ? classes.InsufficientScopeError
        : classes.ServerError
  // requireBearerAuth puts the message into its WWW-Authenticate header unescaped.
  const message = (error instanceof AuthCoreError ? error.message : 'token verification failed').replace(
    /["\\]/g,
    "'",
  )
  return Object.assign(new Mapped(message), { cause: error })
}
