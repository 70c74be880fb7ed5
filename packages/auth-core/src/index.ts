export type {
  AuthorizationCodeTokenProviderOptions,
  AuthorizationRequest,
} from './authorization-code-provider.js'
export { AuthorizationCodeTokenProvider } from './authorization-code-provider.js'
export type { ConfigEnv, ParseConfigOptions } from './config.js'
export { parseConfig } from './config.js'
export type {
  ServiceTokenProvider,
  TokenProviderFromConfigOptions,
  UserTokenProvider,
  UserTokenProviderFromConfigOptions,
} from './config-builders.js'
export {
  sameTokenClient,
  tokenProviderFromConfig,
  tokenProvidersFromConfig,
  toTokenProviderOptions,
  userTokenProviderFromConfig,
  userTokenProvidersFromConfig,
} from './config-builders.js'
export { CONFIG_ENV_VARS, configFromEnv } from './config-from-env.js'
export type { ParseRateLimitsConfigOptions } from './config-rate-limits.js'
export { parseRateLimitsConfig } from './config-rate-limits.js'
export type {
  CookiePassthroughConfig,
  HeaderPassthroughConfig,
  IdpConfig,
  McpConfig,
  McpTransportKind,
  OAuth2Config,
  RateLimitConfig,
  RateLimitStoreConfig,
  RateLimitsConfig,
  ScopedRateLimitConfig,
  ServerConfig,
  TlsConfig,
  TokenStoreConfig,
  UserTokenConfig,
} from './config-schema.js'
export {
  cookiePassthroughConfigSchema,
  headerPassthroughConfigSchema,
  idpConfigSchema,
  mcpConfigSchema,
  oauth2ConfigSchema,
  rateLimitConfigSchema,
  rateLimitStoreConfigSchema,
  rateLimitsConfigSchema,
  scopedRateLimitConfigSchema,
  serverConfigSchema,
  tlsConfigSchema,
  tokenStoreConfigSchema,
  userTokenConfigSchema,
} from './config-schema.js'
export type { CookieFilter, CookieFilterOptions } from './cookie-filter.js'
export { createCookieFilter } from './cookie-filter.js'
export type { TokenCacheMessage, TokenRequestContext } from './diagnostics.js'
export { TOKEN_CACHE_CHANNEL, TOKEN_REQUEST_CHANNEL } from './diagnostics.js'
export type { DpopAlgorithm, DpopKeyOptions, DpopProofOptions } from './dpop.js'
export { DpopKey, dpopHtu, isDpopNonceChallenge } from './dpop.js'
export type {
  AuthCoreErrorCode,
  AuthCoreErrorOptions,
  ConfigErrorOptions,
  ConfigIssue,
  DiscoveryErrorCode,
  DiscoveryErrorOptions,
  InsufficientScopeErrorOptions,
  InvalidTokenErrorOptions,
  InvalidTokenReason,
  KnownAuthCoreError,
  TokenRequestErrorCode,
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
export type { FetchLike } from './fetch-like.js'
export { UNDERLYING_FETCH, unwrapFetch } from './fetch-like.js'
export type {
  FilteredHeaders,
  HeaderFilter,
  HeaderFilterInput,
  HeaderFilterOptions,
} from './header-filter.js'
export { createHeaderFilter, NEVER_FORWARD_HEADER_PREFIXES, NEVER_FORWARD_HEADERS } from './header-filter.js'
export type { IdJagIdentityProviderOptions, IdJagTokenProviderOptions } from './id-jag-provider.js'
export { IdJagTokenProvider } from './id-jag-provider.js'
export type { JwtBearerTokenProviderOptions } from './jwt-bearer-provider.js'
export { JwtBearerTokenProvider } from './jwt-bearer-provider.js'
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
export { isLoopbackHost } from './loopback-host.js'
export { formatScope, isScopeToken, parseScope, scopeKey } from './scope.js'
export { Secret } from './secret.js'
export type { RedactServerTextOptions } from './server-text.js'
export { redactServerText } from './server-text.js'
export type {
  TokenExchangeActor,
  TokenExchangeTokenProviderOptions,
  TokenTypeIdentifier,
} from './token-exchange-provider.js'
export { TokenExchangeTokenProvider } from './token-exchange-provider.js'
export type {
  AccessToken,
  ClientCredentialsTokenProviderOptions,
  GetTokenOptions,
  TokenProvider,
} from './token-provider.js'
export { ClientCredentialsTokenProvider } from './token-provider.js'
export type {
  BasicCredentialEncoding,
  ClientAuthenticationOptions,
  PrivateKeyAlgorithm,
  RetryOptions,
  TokenEndpointAuthMethod,
  TokenEndpointOptions,
  TokenProviderCommonOptions,
  TokenProviderEvent,
  TokenStoreUseOptions,
} from './token-provider-options.js'
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
