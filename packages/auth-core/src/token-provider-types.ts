/**
 * The token-provider contract: what every provider hands out and how it is asked. Re-exported by
 * `token-provider.ts` (and the package root).
 */
import type { DpopKey } from './dpop.js'

/** An OAuth 2.0 access token as held by a {@link TokenProvider}. */
export interface AccessToken {
  /** The token itself. Never log it. */
  readonly value: string
  /**
   * `token_type` from the response: `Bearer`, or `DPoP` for a token bound to a DPoP key (send it
   * as `Authorization: DPoP <value>` with a proof made with {@link AccessToken.dpopKey}).
   */
  readonly tokenType: string
  /** When the token expires, epoch milliseconds. */
  readonly expiresAt: number
  /** Scopes the token was granted (the response's `scope`, or the requested scopes when it had none). */
  readonly scopes: readonly string[]
  /**
   * The key a DPoP-bound token (`tokenType: 'DPoP'`) is bound to: every request that carries the
   * token needs a proof made with it (`dpopKey.proof({ method, url, accessToken: value })`).
   * Absent for bearer tokens.
   */
  readonly dpopKey?: DpopKey | undefined
}

/** Options of {@link TokenProvider.getToken}. */
export interface GetTokenOptions {
  /** Aborts this caller's wait. A request other callers share keeps running. */
  signal?: AbortSignal | undefined
  /**
   * Scopes needed on top of the configured ones (step-up); the token covers their union. The list
   * is treated as immutable: pass a new array to change it.
   */
  scopes?: readonly string[] | undefined
  /**
   * The user's token, for providers that act for a user (`TokenExchangeTokenProvider`: the RFC
   * 8693 `subject_token`). Service providers ignore it.
   */
  subjectToken?: string | undefined
  /**
   * The user's OpenID Connect ID token, for `IdJagTokenProvider` (enterprise-managed
   * authorization). Service providers ignore it.
   */
  idToken?: string | undefined
}

/** Something that hands out access tokens. */
export interface TokenProvider {
  getToken(options?: GetTokenOptions): Promise<AccessToken>
  /**
   * The token `getToken(options)` would hand out at once from memory, when it has one that needs
   * no refresh yet; `undefined` otherwise (nothing cached, its refresh is due, a step-up scope
   * set not cached yet, an aborted signal, a provider that cannot tell without waiting): then
   * call `getToken`. No I/O, no waiting, nothing started. Optional: callers on a hot path (the
   * auth fetch) use it when it is there, to send without waiting a turn.
   *
   * @example
   * ```ts
   * declare const provider: TokenProvider
   * const token = provider.cachedToken?.() ?? (await provider.getToken())
   * ```
   */
  cachedToken?(options?: GetTokenOptions): AccessToken | undefined
  /**
   * Drop a cached token. With `rejected`, only the cached token whose value is `rejected` is dropped
   * (compare-and-swap: a token refreshed meanwhile survives); without it, every cached token.
   */
  invalidate(rejected?: string): void
}
