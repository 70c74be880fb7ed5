/**
 * What the mock authorization server records of the requests it receives, and how a test makes
 * its endpoints fail.
 */

/** One request received by the token endpoint, as recorded by the mock authorization server. */
export interface TokenRequestRecord {
  /** The client that (tried to) authenticate; `undefined` when none could be identified. */
  clientId: string | undefined
  /** `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none` or `undefined` (no client authentication). */
  authMethod: string | undefined
  /** The `grant_type` parameter. */
  grantType: string | undefined
  /** The requested scopes (the `scope` parameter split on spaces). */
  scope: string[]
  /** The `resource` parameters (RFC 8707). */
  resource: string[]
  /** The `audience` parameter, if any. */
  audience?: string
  /** The request headers, lower-cased names (includes `authorization`). */
  headers: Record<string, string>
  /** The raw form parameters (`client_secret` and `client_assertion` included). */
  params: Record<string, string>
  /** The HTTP status answered (`0` for a simulated network error). */
  status: number
  /** The OAuth `error` answered, if any. */
  error?: string
  /** The scopes granted, when a token was issued. */
  grantedScope?: string[]
  /** The access token issued, if any (an ID-JAG for an ID-JAG exchange). */
  accessToken?: string
  /** The `token_type` answered: `Bearer`, `DPoP` (bound to the proof's key), or `N_A` (an ID-JAG). */
  tokenType?: string
  /** RFC 8693 `issued_token_type`, for token exchange. */
  issuedTokenType?: string
  /** The `sub` of the issued token. */
  subject?: string
  /** The `sub` of the actor (RFC 8693 `actor_token`), when one acted. */
  actor?: string
  /** The DPoP proof of the request: its key thumbprint and the nonce it carried. */
  dpop?: { jkt?: string; nonce?: string }
  /** When the request arrived (epoch ms, from the server's clock). */
  at: number
}

/** What the next token requests should fail with (see `MockOAuthServer.failNext`). */
export interface FailNextOptions {
  /**
   * HTTP status of the failure.
   * @default 503
   */
  status?: number
  /**
   * OAuth `error` code in the JSON body.
   * @default 'temporarily_unavailable' for 5xx/429, 'invalid_client' for 401, else 'invalid_request'
   */
  error?: string
  /**
   * `error_description` in the JSON body.
   * @default undefined
   */
  errorDescription?: string
  /**
   * Raw response body, replacing the JSON error body (e.g. an HTML error page).
   * @default undefined
   */
  body?: string
  /**
   * Extra response headers (e.g. `Retry-After`).
   * @default {}
   */
  headers?: Record<string, string>
  /**
   * Delay before answering, in milliseconds.
   * @default 0
   */
  delayMs?: number
  /**
   * Fail at the network level instead (the client's `fetch` rejects).
   * @default false
   */
  networkError?: boolean
  /**
   * Which endpoint fails: the token endpoint, the JWKS, or the metadata documents (RFC 8414 and
   * OpenID configuration). Each endpoint has its own queue.
   * @default 'token'
   */
  endpoint?: MockOAuthEndpoint
}

/** The endpoints of the mock authorization server that `MockOAuthServer.failNext` can fail. */
export type MockOAuthEndpoint = 'token' | 'jwks' | 'metadata'

/** One HTTP request received by any endpoint of the mock authorization server. */
export interface OAuthServerRequestRecord {
  /** HTTP method. */
  method: string
  /** Full URL. */
  url: string
  /** Which endpoint it hit (`authorization` and `unknown` included). */
  endpoint: MockOAuthEndpoint | 'authorization' | 'unknown'
  /** HTTP status answered (`0` for a simulated network error). */
  status: number
  /** When it arrived (epoch ms, from the server's clock). */
  at: number
}
