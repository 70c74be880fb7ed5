import {
  type FetchLike,
  type McpConfig,
  type ServerConfig,
  type TokenProvider,
  type TokenProviderEvent,
  type TokenProviderFromConfigOptions,
  tokenProvidersFromConfig,
  userTokenProvidersFromConfig,
} from '@mcp-oauth2/auth-core'
import { loadOtelApi } from '../telemetry/otel-api.js'
import { propagatingFetch } from '../telemetry/propagating-fetch.js'
import type { TelemetryOptions } from '../telemetry/telemetry.js'
import type { Emit } from './events.js'
import { LazyTokenStore } from './lazy-token-store.js'

/**
 * The secrets of the configured server a definition was made from by `fromConfig` (client
 * secrets, assertions), which `McpServerDefinition` does not carry: kept out of that server's
 * errors even when an MCP server echoes them.
 */
export const configSecrets = new WeakMap<object, readonly string[]>()

/** The secret values of a configured server: its OAuth2 and user-token client secrets and assertion. */
export function secretsOfServerConfig(server: ServerConfig): string[] {
  const values = [
    server.oauth2?.clientSecret?.reveal(),
    server.oauth2?.assertion?.reveal(),
    server.userToken?.clientSecret?.reveal(),
    server.userToken?.idp?.clientSecret?.reveal(),
  ]
  return values.filter((v): v is string => typeof v === 'string')
}

/** A configured server with its token providers: what `fromConfig` makes an `McpServerDefinition` of. */
export type ConfiguredServer = ServerConfig & {
  readonly tokenProvider: TokenProvider | undefined
  readonly userTokenProvider: TokenProvider | undefined
  readonly allowInsecureHttp: boolean | undefined
}

/**
 * The servers of `config` with their token providers, each with its client secrets noted in
 * {@link configSecrets} (kept out of its errors; a definition does not carry them).
 */
export function definitionsOf(
  config: McpConfig,
  providers: ReadonlyMap<string, TokenProvider>,
  userProviders: ReadonlyMap<string, TokenProvider>,
): ConfiguredServer[] {
  return Object.values(config.servers).map((server) => {
    const def: ConfiguredServer = {
      ...server,
      tokenProvider: providers.get(server.name),
      userTokenProvider: userProviders.get(server.name),
      // What the configuration allowed: the server's own allow_insecure_http, or its client's
      // (any of them true, as the config check has it: an explicit false does not hide a true).
      allowInsecureHttp:
        server.allowInsecureHttp === true ||
        server.oauth2?.allowInsecureHttp === true ||
        server.userToken?.allowInsecureHttp === true,
    }
    configSecrets.set(def, secretsOfServerConfig(server))
    return def
  })
}

/** What {@link providersFromConfig} is given (of `McpServerManagerConfigOptions`). */
export interface ConfigProvidersOptions {
  readonly tokenProviderOptions?: Omit<TokenProviderFromConfigOptions, 'fetch' | 'now'> | undefined
  readonly tokenStoreClient?: object | undefined
  readonly fetch?: FetchLike | undefined
  readonly now?: (() => number) | undefined
  readonly telemetry?: TelemetryOptions | false | undefined
}

/** The token providers of a config, and the token store they share. */
export interface ConfigProviders {
  /** The service's token providers, by server name. */
  readonly providers: ReadonlyMap<string, TokenProvider>
  /** The users' token providers (`auth.user_token`), by server name. */
  readonly userProviders: ReadonlyMap<string, TokenProvider>
  /** The Redis token store of `token_store`, if the config has one (the manager closes it). */
  readonly store: LazyTokenStore | undefined
  /** From now on, the providers' store events become the manager's `store` events. */
  forwardStoreEvents(emit: Emit | undefined, now: () => number): void
}

/**
 * The token providers of `config` for `McpServerManager.fromConfig`: servers with the same OAuth2
 * client share one; `auth.user_token` makes the users' (the service's as actors); a `redis`
 * `token_store` is loaded from `@mcp-oauth2/redis` (an optional peer) on first use. Trace context
 * reaches the authorization server only when `telemetry.propagateToAuthorizationServer` says so.
 * Throws a `ConfigError` when a server's settings cannot make a provider (nothing is left open).
 */
export function providersFromConfig(config: McpConfig, options: ConfigProvidersOptions): ConfigProviders {
  const { tokenProviderOptions, tokenStoreClient } = options
  const telemetry = options.telemetry === false ? undefined : options.telemetry
  const api = telemetry?.propagateToAuthorizationServer === true ? loadOtelApi() : null
  const tokenFetch = api ? propagatingFetch(api, options.fetch) : options.fetch
  const storeConfig = config.tokenStore
  const store =
    tokenProviderOptions?.store === undefined && storeConfig?.type === 'redis'
      ? new LazyTokenStore(async () => {
          const { redisTokenStoreFromConfig } = await import('@mcp-oauth2/redis')
          return redisTokenStoreFromConfig(storeConfig, {
            ...(tokenStoreClient === undefined ? {} : { client: tokenStoreClient as never }),
            ...(options.now ? { now: options.now } : {}),
          })
        })
      : undefined
  // The providers' store events become the manager's (set once the manager exists).
  let forward: ((event: TokenProviderEvent) => void) | undefined
  const onProviderEvent = tokenProviderOptions?.onEvent
  try {
    const providerOptions = {
      ...tokenProviderOptions,
      ...(store ? { store } : {}),
      onEvent: (event: TokenProviderEvent) => {
        forward?.(event)
        onProviderEvent?.(event)
      },
      ...(tokenFetch ? { fetch: tokenFetch } : {}),
      ...(options.now ? { now: options.now } : {}),
    }
    const providers = tokenProvidersFromConfig(config, providerOptions)
    // `auth.user_token`: the per-user providers (token exchange, ID-JAG), the service's as actors.
    const userProviders = userTokenProvidersFromConfig(config, {
      ...providerOptions,
      serviceProviders: providers,
    })
    return {
      providers,
      userProviders,
      store,
      forwardStoreEvents(emit, now) {
        if (!emit) return
        forward = (event) => {
          const base = {
            type: 'store',
            at: now(),
            server: undefined,
            tool: undefined,
            durationMs: 0,
            store: 'tokens',
          } as const
          if (event.type === 'token_store_unavailable')
            emit({ ...base, state: 'unavailable', code: event.code })
          else if (event.type === 'token_store_recovered')
            emit({ ...base, durationMs: event.outageMs, state: 'available' })
        }
      },
    }
  } catch (error) {
    void store?.close().catch(() => {})
    throw error
  }
}
