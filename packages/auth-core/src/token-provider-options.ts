/**
 * Options every token provider shares: how the client authenticates, where the token endpoint
 * is, and the timing, HTTP, shared-store and DPoP settings.
 */
import type { JWK } from 'jose'
import type { DpopKey, DpopKeyOptions } from './dpop.js'
import type { FetchLike } from './fetch-like.js'
import type {
  BasicCredentialEncodingName,
  PrivateKeyAlgorithmName,
  TokenEndpointAuthMethodName,
} from './internal/protocol.js'
import type { SharedTokenEvent } from './internal/shared-token.js'
import type { TokenStore } from './internal/token-store-types.js'

/** Client authentication methods at the token endpoint. @see RFC 7591 §2 */
export type TokenEndpointAuthMethod = TokenEndpointAuthMethodName

/** Algorithms accepted for `private_key_jwt` assertions. @see RFC 7523 §3 */
export type PrivateKeyAlgorithm = PrivateKeyAlgorithmName

/**
 * How `client_secret_basic` encodes id and secret before base64: `form-urlencoded` (RFC 6749
 * §2.3.1) or `raw` (for servers that do not form-decode, such as glewlwyd and
 * @node-oauth/oauth2-server).
 */
export type BasicCredentialEncoding = BasicCredentialEncodingName

/** Retry policy for requests to the authorization server. */
export interface RetryOptions {
  /**
   * Retries after the first attempt, on network errors, timeouts, 5xx and 429.
   * @default 2
   */
  limit?: number
  /**
   * Delay before the first retry, milliseconds; doubles each retry, with full jitter.
   * @default 200
   */
  baseDelayMs?: number
  /**
   * Largest delay between attempts, milliseconds.
   * @default 5000
   */
  maxDelayMs?: number
  /**
   * Largest `Retry-After` honoured, milliseconds; a longer one fails at once instead of waiting.
   * @default 30000
   */
  maxRetryAfterMs?: number
}

/** How a client authenticates at a token endpoint. */
export interface ClientAuthenticationOptions {
  /** The OAuth `client_id`. */
  clientId?: string | undefined
  /** The client secret, for `client_secret_basic` / `client_secret_post`. */
  clientSecret?: string | undefined
  /** Private key for `private_key_jwt`: PKCS#8 PEM, a private JWK, or a `CryptoKey`. */
  privateKey?: string | JWK | CryptoKey | undefined
  /**
   * Algorithm of `privateKey`.
   * @default the JWK's `alg`, else inferred from the key type (RSA → RS256, EC P-256 → ES256, OKP → EdDSA)
   */
  privateKeyAlgorithm?: PrivateKeyAlgorithm | undefined
  /**
   * `kid` put into the assertion header.
   * @default the JWK's `kid`, if any
   */
  privateKeyId?: string | undefined
  /**
   * How the client authenticates at the token endpoint; `none` (a public client, or a grant whose
   * assertion is the credential) where the provider allows it.
   * @default 'client_secret_basic' with a `clientSecret`, 'private_key_jwt' with a `privateKey`, else 'none' where allowed
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | 'none' | undefined
  /**
   * The encoding of `client_secret_basic` credentials tried first. When the server answers
   * `invalid_client` and the two encodings of this id and secret differ (the secret holds
   * characters such as `+`, `/`, `:` or `%`), the request is retried once with the other one,
   * and the one that worked is kept for that token endpoint.
   * @default 'form-urlencoded'
   */
  basicCredentialsEncoding?: BasicCredentialEncoding | undefined
}

/** Where the token endpoint is: exactly one of the three. */
export interface TokenEndpointOptions {
  /** The token endpoint. One of `tokenUrl`, `issuer` or `resourceServerUrl` is required. */
  tokenUrl?: string | URL | undefined
  /** Authorization-server issuer; the token endpoint comes from its RFC 8414 metadata (OIDC discovery as fallback). */
  issuer?: string | URL | undefined
  /** The MCP server's URL; its RFC 9728 metadata names the authorization server. */
  resourceServerUrl?: string | URL | undefined
}

/** How a provider uses its {@link TokenStore}. */
export interface TokenStoreUseOptions {
  /**
   * How long the fleet lock lasts if its holder never releases it (a crash), milliseconds. Make it
   * longer than a token request can take, retries included.
   * @default 30000
   */
  lockTtlMs?: number | undefined
  /**
   * How long a replica waits for the lock holder's token before requesting one on its own,
   * milliseconds.
   * @default 15000
   */
  waitMs?: number | undefined
  /**
   * The longest wait between two reads while waiting (notices may be lost), milliseconds.
   * @default 1000
   */
  pollMs?: number | undefined
  /**
   * Deadline of every store operation, milliseconds; past it the store counts as failing and the
   * provider requests the token on its own.
   * @default 1000
   */
  operationTimeoutMs?: number | undefined
  /**
   * During a store outage, how often one call probes the store again, milliseconds.
   * @default 5000
   */
  retryStoreAfterMs?: number | undefined
}

/**
 * What a provider reports besides tokens: `token_store_unavailable` once when its store starts
 * failing (the failing operation and the error `code`, never a secret) and `token_store_recovered`
 * when it works again.
 */
export type TokenProviderEvent = SharedTokenEvent

/** Timing, HTTP, store and DPoP settings of every token provider. */
export interface TokenProviderCommonOptions {
  /**
   * Refresh this many seconds before expiry; clamped to half the token's lifetime so short-lived
   * tokens are not refetched on every call.
   * @default 60
   */
  refreshSkewSeconds?: number | undefined
  /**
   * Lifetime assumed when the response has no `expires_in`, seconds.
   * @default 300
   */
  defaultExpiresInSeconds?: number | undefined
  /**
   * Longest lifetime a token is cached for, seconds, whatever its `expires_in` says (a token is
   * then refreshed early, never cached forever). The shortest is 1 s: `expires_in: 0` is cached
   * for 1 s. A negative or non-numeric `expires_in` is an invalid token response.
   * @default 86400
   */
  maxTokenLifetimeSeconds?: number | undefined
  /**
   * Timeout of each attempt of a request to the authorization server, milliseconds.
   * @default 10000
   */
  timeoutMs?: number | undefined
  /** Retry policy for token and discovery requests. */
  retry?: RetryOptions | undefined
  /**
   * Allow plain `http:` to hosts that are not loopback. Loopback (127.0.0.0/8, ::1, localhost) is always allowed.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined
  /**
   * The fetch to call, as `(url, init)`; looked up on `globalThis` at call time when absent. A
   * fetch carrying `UNDERLYING_FETCH` (an auth fetch set as `globalThis.fetch`) is unwrapped, so
   * token requests never go through it.
   * @default globalThis.fetch
   */
  fetch?: FetchLike | undefined
  /**
   * Clock, epoch milliseconds.
   * @default Date.now
   */
  now?: (() => number) | undefined
  /**
   * A token cache shared by every replica of a gateway (`RedisTokenStore` from
   * `@mcp-oauth2/redis`, or an `InMemoryTokenStore` shared by providers of one process). Cache
   * hits stay in memory and never touch it; on a miss or at the refresh point one replica of the
   * fleet asks the authorization server and the others read its token; a rejected token is
   * dropped fleet-wide. Store trouble never fails a call: the provider then requests the token on
   * its own and reports one `token_store_unavailable` event per outage.
   * @default none: the cache of this provider only
   */
  store?: TokenStore | undefined
  /** How the provider uses `store` (waits, lock lifetime, deadlines). */
  storeOptions?: TokenStoreUseOptions | undefined
  /** Receives the provider's events (store outages); never a token or secret. */
  onEvent?: ((event: TokenProviderEvent) => void) | undefined
  /**
   * DPoP (RFC 9449): `true` for a key pair generated once (ES256), a {@link DpopKey} to use (and
   * share with the code that calls the MCP server), or the options of a new one. Every token
   * request then carries a fresh proof, a `use_dpop_nonce` answer is retried once with the
   * server's nonce, and a `token_type: DPoP` answer gives `AccessToken.tokenType === 'DPoP'`
   * with `AccessToken.dpopKey` set (the key its resource proofs must be made with).
   * @default false
   */
  dpop?: boolean | DpopKey | DpopKeyOptions | undefined
}
