/** Turn an error from any step into one actionable sentence. Never includes secret values. */
export function diagnose(error: unknown): string {
  const e = error as { code?: unknown; error?: unknown; status?: unknown; message?: unknown; cause?: unknown }
  const code = typeof e?.code === 'string' ? e.code : undefined
  const causeCode = findCauseCode(error)
  switch (causeCode) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `TLS: the server's certificate is not trusted (${causeCode}); add its CA with tls.ca_file or SSL_CERT_FILE`
    case 'CERT_HAS_EXPIRED':
      return 'TLS: the server certificate has expired; renew it on the server'
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'TLS: the certificate does not name this host; use the host name the certificate was issued for'
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens at that address (is the server running, is the port right?)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DNS: the host name does not resolve; check the URL'
    case 'ECONNRESET':
      return 'the connection was reset; check proxies and that the server speaks the expected protocol (http vs https)'
  }
  switch (code) {
    case 'ERR_INSECURE_HTTP':
      return `${String(e.message)}. Credentials never go over plain http except to loopback`
    case 'ERR_DISCOVERY_FAILED':
      return `${String(e.message)}. Check the URL, or configure token_url instead of discovery`
    case 'ERR_DISCOVERY_INVALID_METADATA':
      return `${String(e.message)}. The server's metadata is inconsistent: fix it or configure token_url`
    case 'ERR_OAUTH_ERROR_RESPONSE':
      if (e.error === 'invalid_client') {
        return `${String(e.message)}. Check client_id and client_secret (or the private key) and token_endpoint_auth_method`
      }
      if (e.error === 'invalid_scope')
        return `${String(e.message)}. The client may not request one of the configured scopes`
      if (e.error === 'unauthorized_client')
        return `${String(e.message)}. The client may not use the client_credentials grant`
      return String(e.message)
    case 'ERR_TOKEN_NETWORK':
    case 'ERR_TIMEOUT':
      return `${String(e.message)}. Check that the token endpoint is reachable from here`
    case 'ERR_CONFIG':
      return String(e.message)
  }
  const status = typeof e?.code === 'number' ? e.code : undefined
  if (status === 401) {
    return 'the MCP server rejected the token (401): check the audience/resource it expects (set resource) and the issuer it trusts'
  }
  if (status === 403) return 'the MCP server refused the token (403): it lacks a required scope'
  if (status === 404)
    return 'the MCP endpoint was not found (404): check the server URL and its path (often /mcp)'
  return error instanceof Error ? error.message : String(error)
}

function findCauseCode(error: unknown): string | undefined {
  let current = error as { code?: unknown; cause?: unknown } | undefined
  for (let depth = 0; current && depth < 6; depth++) {
    if (
      typeof current.code === 'string' &&
      /^[A-Z_]+$/.test(current.code) &&
      !current.code.startsWith('ERR_')
    ) {
      return current.code
    }
    if (current.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return current.code
    current = current.cause as typeof current
  }
  return undefined
}
