import type { TokenStoreConfig } from '@mcp-oauth2/auth-core'
import { RedisTokenStore, type RedisTokenStoreOptions } from './redis-token-store.js'

/** Options of {@link redisTokenStoreFromConfig}: what a configuration file cannot say. */
export type RedisTokenStoreFromConfigOptions = Pick<
  RedisTokenStoreOptions,
  'client' | 'allowInsecureTransport' | 'now'
>

/**
 * A {@link RedisTokenStore} from `mcp_config.token_store` (`type: redis`) of a normalised
 * configuration (`parseConfig`, `configFromEnv`, `loadConfigFile`): the URL (or `options.client`),
 * `key_prefix`, `encryption_key` and `timeout_ms`. The URL and keys are revealed here, into the
 * store only. Throws a `TypeError` when the settings are not a Redis store's. Close the store when
 * the gateway stops.
 *
 * @example
 * ```ts
 * import { parseConfig, tokenProvidersFromConfig } from '@mcp-oauth2/auth-core'
 * import { redisTokenStoreFromConfig } from '@mcp-oauth2/redis'
 *
 * const config = parseConfig(yamlText)
 * const store = config.tokenStore?.type === 'redis' ? redisTokenStoreFromConfig(config.tokenStore) : undefined
 * const providers = tokenProvidersFromConfig(config, { store })
 * ```
 */
export function redisTokenStoreFromConfig(
  config: TokenStoreConfig,
  options: RedisTokenStoreFromConfigOptions = {},
): RedisTokenStore {
  if (typeof config !== 'object' || config === null || config.type !== 'redis')
    throw new TypeError('config must be a token_store of type redis')
  const encryptionKey = config.encryptionKey?.reveal()
  if (encryptionKey === undefined) throw new TypeError('token_store.encryption_key is required')
  const url = options.client === undefined ? config.url?.reveal() : undefined
  if (url === undefined && options.client === undefined) throw new TypeError('token_store.url is required')
  return new RedisTokenStore({
    ...(url === undefined ? {} : { url }),
    ...options,
    encryptionKey: [...encryptionKey],
    ...(config.keyPrefix === undefined ? {} : { keyPrefix: config.keyPrefix }),
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
  })
}
