/** The mock MCP server's RFC 9728 protected-resource metadata. Never re-exported. */
import { DPOP_ALGS } from '../dpop.js'

export interface ResourceFacts {
  resource: string
  issuer: string
  toolScopes: Readonly<Record<string, readonly string[]>>
  name: string
  dpopRequired: boolean
}

/** @see RFC 9728 §2, RFC 9449 §7.3 (the DPoP fields) */
export function protectedResourceMetadata(facts: ResourceFacts) {
  return {
    resource: facts.resource,
    authorization_servers: [facts.issuer],
    bearer_methods_supported: ['header'],
    scopes_supported: [...new Set(Object.values(facts.toolScopes).flat())],
    resource_name: facts.name,
    dpop_signing_alg_values_supported: DPOP_ALGS,
    ...(facts.dpopRequired ? { dpop_bound_access_tokens_required: true } : {}),
  }
}
