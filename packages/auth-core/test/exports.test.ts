import { expect, it } from 'vitest'
import * as api from '../src/index.js'

// Every runtime export is public API: a change here must be deliberate (and shows in review).
it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "AuthCoreError",
      "CONFIG_ENV_VARS",
      "ClientCredentialsTokenProvider",
      "ConfigError",
      "DiscoveryError",
      "ErrorCode",
      "InsufficientScopeError",
      "InvalidTokenError",
      "JwtScopeVerifier",
      "NEVER_FORWARD_HEADERS",
      "NEVER_FORWARD_HEADER_PREFIXES",
      "Secret",
      "TokenRequestError",
      "UNDERLYING_FETCH",
      "configFromEnv",
      "cookiePassthroughConfigSchema",
      "createCookieFilter",
      "createHeaderFilter",
      "createToolScopePolicy",
      "formatScope",
      "headerPassthroughConfigSchema",
      "isLoopbackHost",
      "isScopeToken",
      "mcpConfigSchema",
      "oauth2ConfigSchema",
      "parseConfig",
      "parseScope",
      "redactServerText",
      "sameTokenClient",
      "scopeKey",
      "serverConfigSchema",
      "tlsConfigSchema",
      "toTokenProviderOptions",
      "tokenProviderFromConfig",
      "tokenProvidersFromConfig",
      "unwrapFetch",
    ]
  `)
})
