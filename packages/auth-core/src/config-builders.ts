/**
 * From normalised configuration to the objects that use it, so that consumers (the server manager)
 * hold no configuration logic of their own.
 */

import {
  idJagOptions,
  jwtBearerOptions,
  type ProviderDefaults,
  tokenExchangeOptions,
} from './config-provider-options.js'
import type { McpConfig, OAuth2Config, ServerConfig, TokenStoreConfig } from './config-schema.js'
import type { ConfigIssue } from './errors.js'
import { IdJagTokenProvider } from './id-jag-provider.js'
import { sameRecord, sameSet } from './internal/config-compare.js'
import { configError } from './internal/config-issues.js'
import type { TokenStore } from './internal/token-store-types.js'
import { JwtBearerTokenProvider } from './jwt-bearer-provider.js'
import type { Secret } from './secret.js'
import { TokenExchangeTokenProvider } from './token-exchange-provider.js'
import {
  ClientCredentialsTokenProvider,
  type ClientCredentialsTokenProviderOptions,
} from './token-provider.js'
import type { TokenProvider } from './token-provider-types.js'
import { InMemoryTokenStore } from './token-store.js'

/** The service token provider a server's `auth.oauth2` makes: client credentials, or jwt-bearer. */
export type ServiceTokenProvider = ClientCredentialsTokenProvider | JwtBearerTokenProvider

/** The per-user token provider a server's `auth.user_token` makes. */
export type UserTokenProvider = TokenExchangeTokenProvider | IdJagTokenProvider

/**
 * Options of {@link tokenProviderFromConfig} and {@link tokenProvidersFromConfig}: the I/O seams,
 * and defaults for settings the configuration leaves out (a configured value wins).
 */
export interface TokenProviderFromConfigOptions extends ProviderDefaults {}

/**
 * Map one server's OAuth2 settings to `ClientCredentialsTokenProvider` options; `undefined` when
 * the server has no OAuth2. Secrets are revealed here, into the options object only.
 *
 * Throws a `ConfigError` when the key is still only a `privateKeyFile` (configs from `parseConfig`
 * cannot read files: use `loadConfigFile` from `@mcp-oauth2/auth-core/node`, or `private_key`).
 *
 * @example
 * ```ts
 * declare const config: McpConfig
 * declare const myFetch: FetchLike
 * const options = toTokenProviderOptions(config.servers['crm']!, { fetch: myFetch })
 * ```
 */
export function toTokenProviderOptions(
  server: ServerConfig,
  options: TokenProviderFromConfigOptions = {},
): ClientCredentialsTokenProviderOptions | undefined {
  const oauth2 = server.oauth2
  if (oauth2 === undefined) return undefined
  if (oauth2.grantType === 'jwt_bearer') {
    throw configError([
      {
        path: `mcp_servers.${server.name}.auth.oauth2.grant_type`,
        message: 'is jwt_bearer: use tokenProviderFromConfig, which makes a JwtBearerTokenProvider',
      },
    ])
  }
  if (oauth2.privateKey === undefined && oauth2.privateKeyFile !== undefined) {
    throw configError([
      {
        path: `mcp_servers.${server.name}.auth.oauth2.private_key_file`,
        message:
          'was not read: parseConfig has no file access; load the file with loadConfigFile (@mcp-oauth2/auth-core/node) or use private_key',
      },
    ])
  }
  const result: ClientCredentialsTokenProviderOptions = {
    clientId: oauth2.clientId,
    clientSecret: oauth2.clientSecret?.reveal(),
    privateKey: oauth2.privateKey?.reveal(),
    privateKeyAlgorithm: oauth2.privateKeyAlgorithm,
    privateKeyId: oauth2.privateKeyId,
    tokenEndpointAuthMethod: oauth2.tokenEndpointAuthMethod,
    basicCredentialsEncoding: oauth2.basicCredentialsEncoding,
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
    defaultExpiresInSeconds: options.defaultExpiresInSeconds,
    retry: options.retry,
    fetch: options.fetch,
    now: options.now,
    store: options.store,
    storeOptions: options.storeOptions,
    onEvent: options.onEvent,
  }
  for (const key of Object.keys(result) as (keyof ClientCredentialsTokenProviderOptions)[]) {
    if (result[key] === undefined) delete result[key]
  }
  return result
}

/**
 * A token provider for one server, or `undefined` when it has no OAuth2. Prefer
 * {@link tokenProvidersFromConfig} for a whole config: it shares providers between servers.
 *
 * @example
 * ```ts
 * declare const config: McpConfig
 * const provider = tokenProviderFromConfig(config.servers['crm']!)
 * const token = await provider?.getToken()
 * ```
 */
export function tokenProviderFromConfig(
  server: ServerConfig,
  options: TokenProviderFromConfigOptions = {},
): ServiceTokenProvider | undefined {
  if (server.oauth2?.grantType === 'jwt_bearer') {
    const jwtOptions = jwtBearerOptions(server, server.oauth2, options)
    try {
      return new JwtBearerTokenProvider(jwtOptions)
    } catch (err) {
      throw configError(
        [{ path: `mcp_servers.${server.name}.auth.oauth2`, message: messageOf(err) }],
        undefined,
        err,
      )
    }
  }
  const providerOptions = toTokenProviderOptions(server, options)
  if (providerOptions === undefined) return undefined
  try {
    return new ClientCredentialsTokenProvider(providerOptions)
  } catch (err) {
    throw configError(
      [{ path: `mcp_servers.${server.name}.auth.oauth2`, message: messageOf(err) }],
      undefined,
      err,
    )
  }
}

/**
 * Token providers for every server with OAuth2, by server name. Servers whose OAuth2 settings
 * are identical — endpoint (token URL, issuer or discovery URL), client id, credential, auth
 * method, scopes (in any order), resource, audience and the other settings — share one provider
 * instance, hence one cached token: N servers behind one authorization server cost one token
 * request. Credentials are compared in memory, never hashed or turned into a printable key.
 *
 * Every server that cannot get a provider is reported in one `ConfigError`.
 *
 * With `mcp_config.token_store`, every provider uses the store (and its `lock_ttl_ms`, `wait_ms`,
 * `timeout_ms`): `options.store` when given, else for `type: memory` one `InMemoryTokenStore`;
 * `type: redis` needs `options.store` (`redisTokenStoreFromConfig(config.tokenStore)` from
 * `@mcp-oauth2/redis`), else a `ConfigError`.
 *
 * @example
 * ```ts
 * declare const config: McpConfig
 * const providers = tokenProvidersFromConfig(config, { fetch })
 * providers.get('crm') === providers.get('tickets') // true when they share a client
 * ```
 */
export function tokenProvidersFromConfig(
  config: McpConfig,
  given: TokenProviderFromConfigOptions = {},
): Map<string, ServiceTokenProvider> {
  const options = withTokenStore(config.tokenStore, given)
  const providers = new Map<string, ServiceTokenProvider>()
  const built: { oauth2: OAuth2Config; provider: ServiceTokenProvider }[] = []
  const issues: ConfigIssue[] = []
  for (const server of Object.values(config.servers)) {
    const oauth2 = server.oauth2
    if (oauth2 === undefined) continue
    const existing = built.find((entry) => sameTokenClient(entry.oauth2, oauth2))
    if (existing) {
      providers.set(server.name, existing.provider)
      continue
    }
    try {
      const provider = tokenProviderFromConfig(server, options)
      if (provider) {
        built.push({ oauth2, provider })
        providers.set(server.name, provider)
      }
    } catch (err) {
      const nested = (err as { issues?: readonly ConfigIssue[] }).issues
      issues.push(
        ...(nested ?? [{ path: `mcp_servers.${server.name}.auth.oauth2`, message: messageOf(err) }]),
      )
    }
  }
  if (issues.length > 0) throw configError(issues)
  return providers
}

/**
 * The store and its settings for `mcp_config.token_store`: a given `store` wins; `memory` makes one
 * `InMemoryTokenStore` for these providers; `redis` needs the store from `@mcp-oauth2/redis`
 * (auth-core does not load it), so without one it is a `ConfigError` rather than a silently
 * unshared cache.
 */
function withTokenStore(
  config: TokenStoreConfig | undefined,
  options: TokenProviderFromConfigOptions,
): TokenProviderFromConfigOptions {
  if (config === undefined) return options
  let store: TokenStore | undefined = options.store
  if (store === undefined) {
    if (config.type === 'memory') store = new InMemoryTokenStore()
    else
      throw configError([
        {
          path: 'mcp_config.token_store',
          message:
            'type: redis needs the store instance: pass { store: redisTokenStoreFromConfig(config.tokenStore) } from @mcp-oauth2/redis',
        },
      ])
  }
  return {
    ...options,
    store,
    storeOptions: {
      ...(config.lockTtlMs === undefined ? {} : { lockTtlMs: config.lockTtlMs }),
      ...(config.waitMs === undefined ? {} : { waitMs: config.waitMs }),
      // The store's own deadline first; the provider's bound on the operation just after it.
      ...(config.timeoutMs === undefined ? {} : { operationTimeoutMs: config.timeoutMs + 250 }),
      ...options.storeOptions,
    },
  }
}

/**
 * Whether two OAuth2 settings would obtain the same tokens, so one provider can serve both.
 * Secrets are compared with `Secret.equals` (in memory).
 */
export function sameTokenClient(a: OAuth2Config, b: OAuth2Config): boolean {
  return (
    a.grantType === b.grantType &&
    a.assertionFile === b.assertionFile &&
    sameSecret(a.assertion, b.assertion) &&
    a.clientId === b.clientId &&
    a.tokenUrl === b.tokenUrl &&
    a.issuer === b.issuer &&
    a.resourceServerUrl === b.resourceServerUrl &&
    a.tokenEndpointAuthMethod === b.tokenEndpointAuthMethod &&
    a.basicCredentialsEncoding === b.basicCredentialsEncoding &&
    a.privateKeyAlgorithm === b.privateKeyAlgorithm &&
    a.privateKeyId === b.privateKeyId &&
    a.audience === b.audience &&
    a.refreshSkewSeconds === b.refreshSkewSeconds &&
    a.timeoutMs === b.timeoutMs &&
    a.allowInsecureHttp === b.allowInsecureHttp &&
    sameSet(a.scopes, b.scopes) &&
    sameSet(a.resource ?? [], b.resource ?? []) &&
    sameRecord(a.extraParams ?? {}, b.extraParams ?? {}) &&
    sameSecret(a.clientSecret, b.clientSecret) &&
    sameSecret(a.privateKey, b.privateKey)
  )
}

/** Options of {@link userTokenProviderFromConfig} and {@link userTokenProvidersFromConfig}. */
export interface UserTokenProviderFromConfigOptions extends TokenProviderFromConfigOptions {
  /**
   * The service token providers by server name (`tokenProvidersFromConfig`), for `actor: service`;
   * built here when absent.
   */
  serviceProviders?: ReadonlyMap<string, TokenProvider> | undefined
}

/**
 * The per-user token provider of one server (`auth.user_token`, LiteLLM's
 * `oauth2_token_exchange` / `oauth2_id_jag`), or `undefined` when it has none:
 * a `TokenExchangeTokenProvider` or an `IdJagTokenProvider`. The transport calls it inside a
 * user's context (`withUserContext({ subjectToken })` / `{ idToken }`) instead of the service
 * provider. `actor: service` makes the server's service token the actor token (from
 * `options.serviceProviders`, else built).
 *
 * @example
 * ```ts
 * declare const config: McpConfig
 * declare const usersToken: string // the access token your gateway received from the user
 * const userProvider = userTokenProviderFromConfig(config.servers['crm']!)
 * const token = await userProvider?.getToken({ subjectToken: usersToken })
 * ```
 */
export function userTokenProviderFromConfig(
  server: ServerConfig,
  options: UserTokenProviderFromConfigOptions = {},
): UserTokenProvider | undefined {
  const user = server.userToken
  if (user === undefined) return undefined
  const path = `mcp_servers.${server.name}.auth.user_token`
  try {
    if (user.grantType === 'id_jag') return new IdJagTokenProvider(idJagOptions(user, options))
    let actor: TokenProvider | undefined
    if (user.actor === 'service') {
      actor = options.serviceProviders?.get(server.name) ?? tokenProviderFromConfig(server, options)
      if (actor === undefined) throw new TypeError('actor: service needs auth.oauth2 (the service token)')
    }
    return new TokenExchangeTokenProvider(tokenExchangeOptions(user, actor, options))
  } catch (err) {
    const nested = (err as { issues?: readonly ConfigIssue[] }).issues
    throw configError(nested ?? [{ path, message: messageOf(err) }], undefined, err)
  }
}

/**
 * Per-user token providers of every server with `auth.user_token`, by server name, each with the
 * configuration's token store (its keys a digest of the user's token, never the token).
 *
 * @example
 * ```ts
 * declare const config: McpConfig
 * declare const store: TokenStore // e.g. a RedisTokenStore
 * const service = tokenProvidersFromConfig(config, { store })
 * const users = userTokenProvidersFromConfig(config, { store, serviceProviders: service })
 * ```
 */
export function userTokenProvidersFromConfig(
  config: McpConfig,
  given: UserTokenProviderFromConfigOptions = {},
): Map<string, UserTokenProvider> {
  const options = withTokenStore(config.tokenStore, given)
  const providers = new Map<string, UserTokenProvider>()
  const issues: ConfigIssue[] = []
  for (const server of Object.values(config.servers)) {
    try {
      const provider = userTokenProviderFromConfig(server, options)
      if (provider) providers.set(server.name, provider)
    } catch (err) {
      const nested = (err as { issues?: readonly ConfigIssue[] }).issues
      issues.push(
        ...(nested ?? [{ path: `mcp_servers.${server.name}.auth.user_token`, message: messageOf(err) }]),
      )
    }
  }
  if (issues.length > 0) throw configError(issues)
  return providers
}

function sameSecret(a: Secret<unknown> | undefined, b: Secret<unknown> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a === b || a.equals(b)
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : 'cannot build a token provider'
}
