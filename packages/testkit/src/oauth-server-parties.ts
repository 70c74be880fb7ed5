/** Who the mock authorization server knows: its registered clients and the issuers it trusts. */
import type { JWK } from 'jose'

/** A client registered with the mock authorization server. */
export interface MockClient {
  /** The `client_id`. */
  clientId: string
  /**
   * The client secret, for `client_secret_basic` and `client_secret_post`.
   * @default undefined (the client cannot authenticate with a secret)
   */
  clientSecret?: string
  /**
   * Public keys for `private_key_jwt` (RFC 7523): client assertions are verified against them.
   * @default undefined (the client cannot use `private_key_jwt`)
   */
  jwks?: { keys: JWK[] }
  /**
   * Scopes the client may be granted. A request for any other scope fails with `invalid_scope`.
   * `undefined` allows any scope.
   * @default undefined
   */
  allowedScopes?: string[]
  /**
   * Scopes granted when the request has no `scope`.
   * @default allowedScopes (or no scope when that is undefined too)
   */
  defaultScopes?: string[]
  /**
   * Token endpoint authentication methods the client may use (`client_secret_basic`,
   * `client_secret_post`, `private_key_jwt`, `none`).
   * @default the secret methods when `clientSecret` is set, plus `private_key_jwt` when `jwks` is set
   */
  tokenEndpointAuthMethods?: string[]
  /**
   * The `client_id` claim of ID-JAGs this server, acting as the IdP, issues to the client: its
   * client id at the authorization server the ID-JAG is for.
   * @default clientId
   */
  idJagClientId?: string
}

/**
 * An issuer whose JWTs the mock authorization server accepts as RFC 7523 assertions (workload
 * identity, ID-JAGs from an IdP) and RFC 8693 subject and actor tokens. Another mock
 * authorization server (e.g. one playing the IdP) fits as it is: `trustedIssuers: [idp]`.
 */
export type TrustedIssuer =
  | {
      /** The `iss` of its tokens. */
      issuer: string
      /** Its public keys. */
      jwks: { keys: JWK[] }
    }
  | {
      /** The `iss` of its tokens. */
      issuer: string
      /** Its current public keys (read at each verification, so key rotation is followed). */
      publicJwks(): { keys: JWK[] }
    }
