export type {
  ConfigEnv,
  CookiePassthroughConfig,
  HeaderPassthroughConfig,
  McpConfig,
  McpTransportKind,
  OAuth2Config,
  ParseConfigOptions,
  ServerConfig,
  TlsConfig,
} from './config.js'
export {
  CONFIG_ENV_VARS,
  configFromEnv,
  cookiePassthroughConfigSchema,
  headerPassthroughConfigSchema,
  mcpConfigSchema,
  oauth2ConfigSchema,
  parseConfig,
  serverConfigSchema,
  tlsConfigSchema,
} from './config.js'
export type { TokenProviderFromConfigOptions } from './config-builders.js'
export {
  sameTokenClient,
  tokenProviderFromConfig,
  tokenProvidersFromConfig,
  toTokenProviderOptions,
} from './config-builders.js'
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
  JwtAlgorithm,
  JwtPublicKey,
  JwtScopeVerifierOptions,
  JwtVerifyOptions,
  McpAuthInfo,
  McpSdkErrorClasses,
  McpTokenVerifier,
  McpTokenVerifierOptions,
  VerifiedAccessToken,
} from './jwt-verifier.js'
export { JwtScopeVerifier } from './jwt-verifier.js'
export { formatScope, isScopeToken, parseScope, scopeKey } from './scope.js'
export { Secret } from './secret.js'
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
export type {
  InMemoryTokenStoreOptions,
  SharedToken,
  SharedTokenEntry,
  TokenCacheKeyInput,
  TokenInvalidation,
  TokenStore,
  TokenStoreLockResult,
  TokenStoreOperationOptions,
  TokenStoreSetOptions,
} from './token-store.js'
export { InMemoryTokenStore, tokenCacheKey } from './token-store.js'
export type { ToolScopeDecision, ToolScopePolicy, ToolScopePolicyOptions } from './tool-scope-policy.js'
export { createToolScopePolicy } from './tool-scope-policy.js'
