/** The URLs of the mock authorization server and its metadata documents. Never re-exported. */
import { ASSERTION_ALGS } from './client-authentication.js'

/** Every URL the server answers, derived from its issuer. */
export interface OAuthEndpoints {
  issuer: string
  tokenEndpoint: string
  jwksUri: string
  authorizationEndpoint: string
  /** RFC 8414 §3: the well-known segment goes before the issuer's path. */
  metadataUrl: string
  /** OpenID Connect Discovery appends to the issuer; the SDK also tries the RFC 8414-style insertion. */
  openidUrls: string[]
}

/** Which endpoint a URL (origin + path) names. */
export type EndpointName = 'token' | 'jwks' | 'metadata' | 'authorization' | 'unknown'

export function oauthEndpoints(issuer: string): OAuthEndpoints {
  const url = new URL(issuer)
  const path = url.pathname === '/' ? '' : url.pathname
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    authorizationEndpoint: `${issuer}/authorize`,
    metadataUrl: `${url.origin}/.well-known/oauth-authorization-server${path}`,
    openidUrls: [
      `${issuer}/.well-known/openid-configuration`,
      `${url.origin}/.well-known/openid-configuration${path}`,
    ],
  }
}

export function endpointOf(endpoints: OAuthEndpoints, target: string): EndpointName {
  if (target === endpoints.tokenEndpoint) return 'token'
  if (target === endpoints.jwksUri) return 'jwks'
  if (target === endpoints.metadataUrl || endpoints.openidUrls.includes(target)) return 'metadata'
  if (target === endpoints.authorizationEndpoint) return 'authorization'
  return 'unknown'
}

/** What the metadata documents advertise beyond the endpoint URLs. */
export interface MetadataFacts {
  grantTypes: readonly string[]
  scopes: readonly string[]
  signingAlgorithm: string
  dpopAlgorithms: readonly string[]
}

/**
 * RFC 8414 metadata, and the OpenID Connect Discovery document (the same plus the OIDC fields).
 * `authorization_endpoint` is listed even for a client-credentials server: the MCP SDK's own
 * `ClientCredentialsProvider` rejects metadata without one.
 */
export function metadataDocuments(endpoints: OAuthEndpoints, facts: MetadataFacts) {
  const metadata = {
    issuer: endpoints.issuer,
    authorization_endpoint: endpoints.authorizationEndpoint,
    token_endpoint: endpoints.tokenEndpoint,
    jwks_uri: endpoints.jwksUri,
    response_types_supported: ['code'],
    grant_types_supported: [...facts.grantTypes],
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    scopes_supported: [...facts.scopes],
    code_challenge_methods_supported: ['S256'],
    dpop_signing_alg_values_supported: [...facts.dpopAlgorithms],
  }
  const openid = {
    ...metadata,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [facts.signingAlgorithm],
  }
  return { metadata, openid }
}
