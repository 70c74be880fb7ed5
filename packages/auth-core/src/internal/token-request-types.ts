/**
 * The shapes of one token request (internal/token-request.ts): the provider's context, what a
 * grant sends, and what a successful request yields.
 *
 * @see RFC 6749 §4.4, §5.1
 */
import type { ClientAuth } from 'oauth4webapi'
import type { DpopSigner } from './dpop-signer.js'
import type { ResilientFetch } from './http.js'
import type {
  BasicCredentialEncodingName,
  TokenEndpointAuthMethodWithNoneName,
  TokenTypeName,
} from './protocol.js'

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
