export type {
  AuthCoreErrorOptions,
  ConfigErrorOptions,
  ConfigIssue,
  DiscoveryErrorOptions,
  InsufficientScopeErrorOptions,
  InvalidTokenErrorOptions,
  InvalidTokenReason,
  TokenRequestErrorOptions,
} from './errors.js'
export {
  AuthCoreError,
  ConfigError,
  DiscoveryError,
  ErrorCode,
  InsufficientScopeError,
  InvalidTokenError,
  TokenRequestError,
} from './errors.js'
