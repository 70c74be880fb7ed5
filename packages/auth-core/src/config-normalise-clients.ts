/**
 * Raw (validated) client settings → their normalised form: `oauth2`, `auth.user_token` and
 * `mcp_config.token_store`. Not exported from the package, yet not in `internal/`: it builds
 * public values (`Secret`s, the `config-schema.ts` types).
 */
import type { OAuth2Config, TokenStoreConfig, UserTokenConfig } from './config-schema.js'
import {
  assertionFile,
  type ConfigFileAccess,
  MAX_PRIVATE_KEY_FILE_BYTES,
} from './internal/config-file-access.js'
import type { RawOAuth2, RawTokenStore, RawUserToken } from './internal/config-file-schema.js'
import type { ConfigPath, IssueList } from './internal/config-issues.js'
import { checkPrivateKeyText, privateKeyValue } from './internal/config-private-key.js'
import { compact, tokenTypeUrnOf, unique } from './internal/config-values.js'
import { parseScope } from './scope.js'
import { Secret } from './secret.js'

/**
 * Raw (validated) oauth2 mapping → normalised. `serverUrl` backs `discover: true`; with file
 * access, `private_key_file` is read into `privateKey` (and checked) here.
 */
export function toOAuth2Config(
  raw: RawOAuth2,
  serverUrl: string,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): OAuth2Config {
  let privateKey = raw.private_key === undefined ? undefined : new Secret(privateKeyValue(raw.private_key))
  let privateKeyFile = raw.private_key_file
  if (privateKeyFile !== undefined && files !== undefined) {
    privateKeyFile = files.resolve(privateKeyFile)
    const keyPath = [...path, 'private_key_file']
    let text: string | undefined
    try {
      text = files.read(privateKeyFile, MAX_PRIVATE_KEY_FILE_BYTES)
    } catch (err) {
      issues.add(keyPath, `${privateKeyFile} ${files.describeError(err)}`)
    }
    if (text !== undefined) {
      const before = issues.size
      checkPrivateKeyText(text, keyPath, issues)
      if (issues.size === before) privateKey = new Secret(privateKeyValue(text))
    }
  }
  return compact({
    grantType: raw.grant_type,
    assertion: raw.assertion === undefined ? undefined : new Secret(raw.assertion),
    assertionFile: assertionFile(raw.assertion_file, [...path, 'assertion_file'], issues, files),
    clientId: raw.client_id,
    clientSecret: raw.client_secret === undefined ? undefined : new Secret(raw.client_secret),
    privateKey,
    privateKeyFile,
    privateKeyAlgorithm: raw.private_key_algorithm,
    privateKeyId: raw.private_key_id,
    tokenEndpointAuthMethod: raw.token_endpoint_auth_method,
    basicCredentialsEncoding: raw.basic_credentials_encoding,
    tokenUrl: raw.token_url,
    issuer: raw.issuer,
    resourceServerUrl: raw.discover === true ? serverUrl : undefined,
    scopes: splitScopes(raw.scope),
    resource: raw.resource === undefined ? undefined : unique([raw.resource].flat()),
    audience: raw.audience,
    extraParams: raw.extra_params,
    refreshSkewSeconds: raw.refresh_skew_seconds,
    timeoutMs: raw.timeout_ms,
    allowInsecureHttp: raw.allow_insecure_http,
  })
}

/** Raw (validated) `auth.user_token` → normalised; `serverUrl` backs `discover: true`. */
export function toUserTokenConfig(raw: RawUserToken, serverUrl: string): UserTokenConfig {
  const idp = raw.idp
  return compact({
    grantType: raw.grant_type,
    clientId: raw.client_id,
    clientSecret: raw.client_secret === undefined ? undefined : new Secret(raw.client_secret),
    privateKey: raw.private_key === undefined ? undefined : new Secret(privateKeyValue(raw.private_key)),
    privateKeyAlgorithm: raw.private_key_algorithm,
    privateKeyId: raw.private_key_id,
    tokenEndpointAuthMethod: raw.token_endpoint_auth_method,
    tokenUrl: raw.token_url,
    issuer: raw.issuer,
    resourceServerUrl: raw.discover === true ? serverUrl : undefined,
    scopes: splitScopes(raw.scope),
    resource: raw.resource === undefined ? undefined : unique([raw.resource].flat()),
    audience: raw.audience === undefined ? undefined : unique([raw.audience].flat()),
    subjectTokenType: raw.subject_token_type && tokenTypeUrnOf(raw.subject_token_type),
    requestedTokenType: raw.requested_token_type && tokenTypeUrnOf(raw.requested_token_type),
    actor: raw.actor,
    idp:
      idp &&
      compact({
        tokenUrl: idp.token_url,
        issuer: idp.issuer,
        clientId: idp.client_id,
        clientSecret: idp.client_secret === undefined ? undefined : new Secret(idp.client_secret),
        tokenEndpointAuthMethod: idp.token_endpoint_auth_method,
        subjectTokenType: idp.subject_token_type && tokenTypeUrnOf(idp.subject_token_type),
      }),
    refreshSkewSeconds: raw.refresh_skew_seconds,
    timeoutMs: raw.timeout_ms,
    allowInsecureHttp: raw.allow_insecure_http,
  })
}

/** Raw (validated) `mcp_config.token_store` → normalised, the URL and keys as `Secret`s. */
export function toTokenStoreConfig(raw: RawTokenStore): TokenStoreConfig {
  return compact({
    type: raw.type,
    url: raw.url === undefined ? undefined : new Secret(raw.url),
    keyPrefix: raw.key_prefix,
    encryptionKey:
      raw.encryption_key === undefined
        ? undefined
        : new Secret<readonly string[]>(Object.freeze([raw.encryption_key].flat().map((k) => k.trim()))),
    timeoutMs: raw.timeout_ms,
    lockTtlMs: raw.lock_ttl_ms,
    waitMs: raw.wait_ms,
  })
}

/**
 * RFC 6749 §3.3: space-delimited; a list may hold space-delimited items too. Files may fold a long
 * value over lines or use tabs, so any whitespace separates here before the one scope parser runs.
 */
export function splitScopes(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return []
  return parseScope([scope].flat().flatMap((s) => parseScope(s.replace(/\s+/g, ' '))))
}
