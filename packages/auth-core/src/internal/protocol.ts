/**
 * Protocol vocabulary: one list per enumeration the package speaks. Option types, the zod enums
 * of the configuration schemas and the run-time checks all derive from these lists, so a value
 * is added or removed in one place.
 */

/**
 * JWS algorithms `JwtScopeVerifier` can accept: asymmetric ones only, never `none` or HMAC.
 *
 * @see RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864 (`Ed25519`)
 */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const
export type JwtAlgorithmName = (typeof JWT_ALGORITHMS)[number]

/**
 * Algorithms a `private_key_jwt` client assertion can be signed with.
 *
 * @see RFC 7523 §3, OpenID Connect Core §9
 */
export const PRIVATE_KEY_ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const
export type PrivateKeyAlgorithmName = (typeof PRIVATE_KEY_ALGORITHMS)[number]

/**
 * Client authentication methods at the token endpoint that the token provider implements.
 *
 * @see RFC 7591 §2, RFC 6749 §2.3.1, RFC 7523 §2.2
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const
export type TokenEndpointAuthMethodName = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number]

/**
 * `token_type` values accepted in a token response, compared case-insensitively (RFC 6749 §5.1).
 * `DPoP` only from a provider that sent a DPoP proof (it holds the key the token is bound to);
 * `N_A` only where the issued token is not an access token (an ID-JAG, RFC 8693 §2.2.1). MAC and
 * other types are refused.
 *
 * @see RFC 6749 §7.1, RFC 6750, RFC 9449 §5, RFC 8693 §2.2.1
 */
export const TOKEN_TYPES = ['Bearer', 'DPoP', 'N_A'] as const
export type TokenTypeName = (typeof TOKEN_TYPES)[number]

/**
 * Client authentication methods of the providers that may also send no client authentication
 * (`none`: a public client, or a grant whose assertion is the credential).
 *
 * @see RFC 7591 §2, RFC 7523 §3.1
 */
export const TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE = [...TOKEN_ENDPOINT_AUTH_METHODS, 'none'] as const
export type TokenEndpointAuthMethodWithNoneName = (typeof TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE)[number]

/** Grant types the providers send. @see RFC 6749 §4.4, RFC 8693 §2.1, RFC 7523 §2.1, RFC 6749 §4.1 */
export const GRANT_TYPES = {
  clientCredentials: 'client_credentials',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
} as const

/** Token type identifiers of RFC 8693 §3 and the ID-JAG draft. */
export const TOKEN_TYPE_URNS = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  refresh_token: 'urn:ietf:params:oauth:token-type:refresh_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
  id_jag: 'urn:ietf:params:oauth:token-type:id-jag',
} as const

/**
 * JWS algorithms of DPoP proofs (asymmetric only, RFC 9449 §4.2).
 *
 * @see RFC 9449 §4.2, RFC 7518 §3.1
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'] as const
export type DpopAlgorithmName = (typeof DPOP_ALGORITHMS)[number]

/**
 * How `client_secret_basic` encodes the id and secret before base64: `form-urlencoded` as RFC 6749
 * §2.3.1 says, or `raw` for servers that do not form-decode them.
 */
export const BASIC_CREDENTIAL_ENCODINGS = ['form-urlencoded', 'raw'] as const
export type BasicCredentialEncodingName = (typeof BASIC_CREDENTIAL_ENCODINGS)[number]

/** Whether `value` is one of `list` (a type guard for the lists above). */
export function isOneOf<const T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value)
}

/** `a, b or c`, for messages that name the allowed values. */
export function describeList(list: readonly string[]): string {
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`
}
