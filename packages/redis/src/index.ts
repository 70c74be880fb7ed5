export type {
  RedisTokenStoreErrorOptions,
  RedisTokenStoreOperation,
} from './errors.js'
export { RedisTokenStoreError, RedisTokenStoreErrorCode } from './errors.js'
export type { RedisClientLike, RedisTokenStoreOptions } from './redis-token-store.js'
export { RedisTokenStore } from './redis-token-store.js'
export type { RedisTokenStoreFromConfigOptions } from './redis-token-store-from-config.js'
export { redisTokenStoreFromConfig } from './redis-token-store-from-config.js'
