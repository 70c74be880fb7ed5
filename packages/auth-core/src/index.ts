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
export type {
  AccessToken,
  ClientCredentialsTokenProviderOptions,
  FetchLike,
  GetTokenOptions,
  PrivateKeyAlgorithm,
  RetryOptions,
  TokenEndpointAuthMethod,
  TokenProvider,
} from './token-provider.js'
export { ClientCredentialsTokenProvider } from './token-provider.js'
