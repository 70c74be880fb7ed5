/** How a mock server treats DPoP (RFC 9449): whether proofs are required, and server nonces. */

/**
 * DPoP behaviour of the mock authorization server (token endpoint) or the mock MCP server.
 *
 * @example
 * createMockOAuthServer({ dpop: { nonce: true } }) // every proof must carry the server's nonce
 * @see RFC 9449 §5, §7, §8, §9
 */
export interface MockDpopOptions {
  /**
   * Require DPoP: a token request without a proof gets `400 invalid_dpop_proof`; an MCP request
   * without a DPoP-bound token and proof gets `401` with a `DPoP` challenge only.
   * @default false (proofs are verified when sent; Bearer keeps working)
   */
  required?: boolean
  /**
   * Require the server's nonce in proofs: `true` for a generated one, or the nonce itself. A proof
   * without it is answered `use_dpop_nonce` with a `DPoP-Nonce` header (400 at the token
   * endpoint, 401 at the MCP server). `rotateDpopNonce()` replaces it (and turns this on).
   * @default false
   */
  nonce?: boolean | string
  /**
   * How far a proof's `iat` may be from the server's clock, in seconds.
   * @default 300
   */
  proofWindowSeconds?: number
}
