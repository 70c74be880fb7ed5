export type { CookieFilter, CookieFilterOptions } from './cookie-filter.js'
export { createCookieFilter } from './cookie-filter.js'
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
  FilteredHeaders,
  HeaderFilter,
  HeaderFilterInput,
  HeaderFilterOptions,
} from './header-filter.js'
export { createHeaderFilter } from './header-filter.js'
export { isLoopbackHost } from './internal/url.js'
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
