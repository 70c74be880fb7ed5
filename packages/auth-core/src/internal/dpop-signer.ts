/**
 * What the token request needs of a DPoP key (RFC 9449), in an internal file so that internal
 * code can use it without importing the public `DpopKey` (src/dpop.ts), which implements it.
 */

/** Options of one DPoP proof. */
export interface DpopProofInput {
  /** The HTTP method, `htm`. */
  readonly method: string
  /** The request URL; `htu` is it without query and fragment (RFC 9449 §4.2). */
  readonly url: string | URL
  /** The access token the request carries: the proof gets `ath` (RFC 9449 §4.2). */
  readonly accessToken?: string | undefined
  /**
   * The server's nonce. Absent: the nonce remembered for the URL's origin, if any; `null`: none.
   */
  readonly nonce?: string | null | undefined
}

/** A DPoP key pair that signs proofs and remembers nonces per origin. */
export interface DpopSigner {
  /** A new proof (fresh `jti`, `iat` now). */
  proof(input: DpopProofInput): Promise<string>
  /** Remembers `nonce` for the origin of `url` (RFC 9449 §8.2); `null`/`undefined` is ignored. */
  rememberNonce(url: string | URL, nonce: string | null | undefined): void
  /** The nonce remembered for the origin of `url`. */
  nonceFor(url: string | URL): string | undefined
  /** The RFC 7638 SHA-256 thumbprint of the public key (`cnf.jkt`). */
  thumbprint(): Promise<string>
}
