/**
 * Cross-key rules of a client's settings (`oauth2`, `auth.user_token`), checked on the raw values
 * before zod, so that every problem is reported even when zod found others in the same mapping.
 * They never echo a value: secrets, keys and assertions are named by their key only.
 */
import { checkInsecureUrl } from './config-insecure.js'
import { isPlainObject } from './config-interpolate.js'
import type { ConfigPath, IssueList } from './config-issues.js'
import { checkJwk, checkPrivateKeyText } from './config-private-key.js'
import { present, truthy } from './config-values.js'

/** Cross-key rules of an `oauth2` mapping, checked on the raw values. */
export function checkOAuth2(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const endpoints = ['token_url', 'issuer'].filter((k) => present(raw, k))
  if (truthy(raw['discover'])) endpoints.push('discover')
  if (endpoints.length === 0) {
    issues.add(path, 'needs one of token_url, issuer or discover: true')
  } else if (endpoints.length > 1) {
    issues.add(path, `token_url, issuer and discover are mutually exclusive (found ${endpoints.join(', ')})`)
  }

  const jwtBearer = raw['grant_type'] === 'jwt_bearer'
  const assertions = ['assertion', 'assertion_file'].filter((k) => present(raw, k))
  if (jwtBearer && assertions.length !== 1) {
    issues.add(
      path,
      assertions.length === 0
        ? 'grant_type: jwt_bearer needs one of assertion or assertion_file'
        : 'assertion and assertion_file are mutually exclusive',
    )
  }
  if (!jwtBearer) {
    for (const key of assertions) issues.add([...path, key], 'only applies with grant_type: jwt_bearer')
  }
  const credentials = ['client_secret', 'private_key', 'private_key_file'].filter((k) => present(raw, k))
  if (credentials.length === 0 && !jwtBearer) {
    issues.add(path, 'needs one of client_secret, private_key or private_key_file')
  } else if (credentials.length > 1) {
    issues.add(
      path,
      `client_secret, private_key and private_key_file are mutually exclusive (found ${credentials.join(', ')})`,
    )
  }
  const hasSecret = present(raw, 'client_secret')
  const hasKey = present(raw, 'private_key') || present(raw, 'private_key_file')
  const method = raw['token_endpoint_auth_method']
  if (method === 'private_key_jwt' && !hasKey && hasSecret) {
    issues.add(
      [...path, 'token_endpoint_auth_method'],
      'private_key_jwt needs private_key or private_key_file',
    )
  }
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !hasSecret && hasKey) {
    issues.add([...path, 'token_endpoint_auth_method'], `${method} needs client_secret`)
  }
  const basic = hasSecret && (method === undefined || method === 'client_secret_basic')
  if (present(raw, 'basic_credentials_encoding') && !basic) {
    issues.add([...path, 'basic_credentials_encoding'], 'only applies with client_secret_basic')
  }
  if (!hasKey) {
    for (const key of ['private_key_algorithm', 'private_key_id']) {
      if (present(raw, key)) issues.add([...path, key], 'only applies with private_key or private_key_file')
    }
  }
  const key = raw['private_key']
  if (typeof key === 'string' && key !== '') checkPrivateKeyText(key, [...path, 'private_key'], issues)
  if (isPlainObject(key)) checkJwk(key, [...path, 'private_key'], issues)

  // The token endpoint (or the issuer whose metadata names it) gets the client secret, the
  // client assertion or the jwt-bearer grant's assertion: never over plain http.
  const insecure = truthy(raw['allow_insecure_http'])
  for (const k of ['token_url', 'issuer']) {
    const value = raw[k]
    if (typeof value === 'string')
      checkInsecureUrl(
        value,
        insecure,
        [...path, k],
        issues,
        jwtBearer ? 'an assertion' : 'a client credential',
      )
  }
}

/** Cross-key rules of an `auth.user_token` mapping (and the LiteLLM keys mapped onto one). */
export function checkUserToken(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const endpoints = ['token_url', 'issuer'].filter((k) => present(raw, k))
  if (truthy(raw['discover'])) endpoints.push('discover')
  if (endpoints.length === 0) issues.add(path, 'needs one of token_url, issuer or discover: true')
  else if (endpoints.length > 1)
    issues.add(path, `token_url, issuer and discover are mutually exclusive (found ${endpoints.join(', ')})`)
  const credentials = ['client_secret', 'private_key'].filter((k) => present(raw, k))
  if (credentials.length > 1) issues.add(path, 'client_secret and private_key are mutually exclusive')
  const method = raw['token_endpoint_auth_method']
  if (method === 'none' && credentials.length > 0)
    issues.add([...path, 'token_endpoint_auth_method'], 'none takes no client_secret or private_key')
  if (method !== 'none' && credentials.length === 0)
    issues.add(path, 'needs client_secret or private_key (or token_endpoint_auth_method: none)')
  if (method === 'private_key_jwt' && !present(raw, 'private_key'))
    issues.add([...path, 'token_endpoint_auth_method'], 'private_key_jwt needs private_key')
  const key = raw['private_key']
  if (typeof key === 'string' && key !== '') checkPrivateKeyText(key, [...path, 'private_key'], issues)
  if (isPlainObject(key)) checkJwk(key, [...path, 'private_key'], issues)
  const grant = raw['grant_type']
  const idp = raw['idp']
  if (grant === 'id_jag') {
    if (!isPlainObject(idp)) issues.add([...path, 'idp'], 'is required with grant_type: id_jag')
    else {
      const idpEndpoints = ['token_url', 'issuer'].filter((k) => present(idp, k))
      if (idpEndpoints.length !== 1) issues.add([...path, 'idp'], 'needs one of token_url or issuer')
    }
    if (present(raw, 'actor')) issues.add([...path, 'actor'], 'only applies with grant_type: token_exchange')
    for (const k of ['subject_token_type', 'requested_token_type'])
      if (present(raw, k))
        issues.add(
          [...path, k],
          'only applies with grant_type: token_exchange (id_jag: idp.subject_token_type)',
        )
  } else if (grant === 'token_exchange' && present(raw, 'idp')) {
    issues.add([...path, 'idp'], 'only applies with grant_type: id_jag')
  }
}

/** The insecure-http rule for the authorization servers of an `auth.user_token` mapping. */
export function checkUserTokenUrls(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const idp = raw['idp']
  // Every authorization server of the grant gets a user's token (the subject token, the ID token
  // or the ID-JAG made of it), and the client's credential when it has one.
  const insecure = truthy(raw['allow_insecure_http'])
  for (const k of ['token_url', 'issuer']) {
    const value = raw[k]
    if (typeof value === 'string') checkInsecureUrl(value, insecure, [...path, k], issues, "users' tokens")
    const idpValue = isPlainObject(idp) ? idp[k] : undefined
    if (typeof idpValue === 'string')
      checkInsecureUrl(idpValue, insecure, [...path, 'idp', k], issues, "users' tokens")
  }
}
