export type {
  RedisTokenStoreErrorOptions,
  RedisTokenStoreOperation,
} from './errors.js'
export { RedisTokenStoreError, RedisTokenStoreErrorCode } from './errors.js'
export type { RedisClientLike, RedisTokenStoreOptions } from './redis-token-store.js'
export { RedisTokenStore } from './redis-token-store.js'
