/**
 * Normalised client settings → the options of the providers that use them (jwt-bearer, token
 * exchange, ID-JAG). Secrets are revealed here, into the options objects only. Not exported from
 * the package, yet not in `internal/`: it builds the public providers' option types.
 */
import type { OAuth2Config, ServerConfig, UserTokenConfig } from './config-schema.js'
import type { IdJagTokenProviderOptions } from './id-jag-provider.js'
import { configError } from './internal/config-issues.js'
import { compact } from './internal/config-values.js'
import type { JwtBearerTokenProviderOptions } from './jwt-bearer-provider.js'
import type { TokenExchangeTokenProviderOptions } from './token-exchange-provider.js'
import type { ClientCredentialsTokenProviderOptions } from './token-provider.js'
import type { TokenProvider } from './token-provider-types.js'

/**
 * The seams and defaults a builder passes on: the fields of the public
 * `TokenProviderFromConfigOptions`, which extends this (one list of them).
 */
export type ProviderDefaults = Pick<
  ClientCredentialsTokenProviderOptions,
  | 'fetch'
  | 'now'
  | 'retry'
  | 'defaultExpiresInSeconds'
  | 'refreshSkewSeconds'
  | 'timeoutMs'
  | 'allowInsecureHttp'
  | 'store'
  | 'storeOptions'
  | 'onEvent'
>

/** The JwtBearerTokenProvider options of a `grant_type: jwt_bearer` server. */
export function jwtBearerOptions(
  server: ServerConfig,
  oauth2: OAuth2Config,
  options: ProviderDefaults,
): JwtBearerTokenProviderOptions {
  if (oauth2.privateKey === undefined && oauth2.privateKeyFile !== undefined) {
    throw configError([
      {
        path: `mcp_servers.${server.name}.auth.oauth2.private_key_file`,
        message: 'was not read: parseConfig has no file access; use loadConfigFile or private_key',
      },
    ])
  }
  return compact<JwtBearerTokenProviderOptions>({
    assertion: oauth2.assertion?.reveal(),
    assertionFile: oauth2.assertionFile,
    clientId: oauth2.clientId,
    clientSecret: oauth2.clientSecret?.reveal(),
    privateKey: oauth2.privateKey?.reveal(),
    privateKeyAlgorithm: oauth2.privateKeyAlgorithm,
    privateKeyId: oauth2.privateKeyId,
    tokenEndpointAuthMethod:
      oauth2.tokenEndpointAuthMethod ??
      (oauth2.clientSecret === undefined && oauth2.privateKey === undefined ? 'none' : undefined),
    tokenUrl: oauth2.tokenUrl,
    issuer: oauth2.issuer,
    resourceServerUrl: oauth2.resourceServerUrl,
    scope: oauth2.scopes.length > 0 ? [...oauth2.scopes] : undefined,
    resource: oauth2.resource && [...oauth2.resource],
    audience: oauth2.audience,
    extraParams: oauth2.extraParams && { ...oauth2.extraParams },
    refreshSkewSeconds: oauth2.refreshSkewSeconds ?? options.refreshSkewSeconds,
    timeoutMs: oauth2.timeoutMs ?? options.timeoutMs,
    allowInsecureHttp: oauth2.allowInsecureHttp ?? options.allowInsecureHttp,
    ...seams(options),
  })
}

function userClient(user: UserTokenConfig) {
  return {
    clientId: user.clientId,
    clientSecret: user.clientSecret?.reveal(),
    privateKey: user.privateKey?.reveal(),
    privateKeyAlgorithm: user.privateKeyAlgorithm,
    privateKeyId: user.privateKeyId,
    tokenUrl: user.tokenUrl,
    issuer: user.issuer,
    resourceServerUrl: user.resourceServerUrl,
  }
}

function userTiming(user: UserTokenConfig, options: ProviderDefaults) {
  return {
    refreshSkewSeconds: user.refreshSkewSeconds ?? options.refreshSkewSeconds,
    timeoutMs: user.timeoutMs ?? options.timeoutMs,
    allowInsecureHttp: user.allowInsecureHttp ?? options.allowInsecureHttp,
    ...seams(options),
  }
}

export function tokenExchangeOptions(
  user: UserTokenConfig,
  actor: TokenProvider | undefined,
  options: ProviderDefaults,
): TokenExchangeTokenProviderOptions {
  return compact<TokenExchangeTokenProviderOptions>({
    ...userClient(user),
    tokenEndpointAuthMethod: user.tokenEndpointAuthMethod,
    scope: user.scopes.length > 0 ? [...user.scopes] : undefined,
    resource: user.resource && [...user.resource],
    audience: user.audience && [...user.audience],
    subjectTokenType: user.subjectTokenType,
    requestedTokenType: user.requestedTokenType,
    actor,
    ...userTiming(user, options),
  })
}

export function idJagOptions(user: UserTokenConfig, options: ProviderDefaults): IdJagTokenProviderOptions {
  const idp = user.idp
  if (idp === undefined) throw new TypeError('id_jag needs idp')
  if (user.tokenEndpointAuthMethod === 'none')
    throw new TypeError(
      'id_jag authenticates at the MCP authorization server: token_endpoint_auth_method none is not allowed',
    )
  return compact<IdJagTokenProviderOptions>({
    ...userClient(user),
    tokenEndpointAuthMethod: user.tokenEndpointAuthMethod,
    idp: compact({
      tokenUrl: idp.tokenUrl,
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret?.reveal(),
      tokenEndpointAuthMethod: idp.tokenEndpointAuthMethod,
      subjectTokenType: idp.subjectTokenType,
    }),
    scope: user.scopes.length > 0 ? [...user.scopes] : undefined,
    resource: user.resource?.[0],
    audience: user.audience?.[0],
    ...userTiming(user, options),
  })
}

function seams(options: ProviderDefaults) {
  return {
    defaultExpiresInSeconds: options.defaultExpiresInSeconds,
    retry: options.retry,
    fetch: options.fetch,
    now: options.now,
    store: options.store,
    storeOptions: options.storeOptions,
    onEvent: options.onEvent,
  }
}
