/**
 * The normalised configuration: what `parseConfig`, `configFromEnv` and `loadConfigFile` return
 * and what the rest of the SDK consumes. zod is the single source of truth; the types are
 * `z.infer` of these schemas.
 */
import type { JWK } from 'jose'
import { z } from 'zod'
import {
  BASIC_CREDENTIAL_ENCODINGS,
  PRIVATE_KEY_ALGORITHMS,
  TOKEN_ENDPOINT_AUTH_METHODS,
  TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE,
} from './internal/protocol.js'
import { Secret } from './secret.js'

const secretOf = <T>() =>
  z.custom<Secret<T>>((v) => Secret.isSecret(v), { error: 'must be a Secret (new Secret(value))' })

/**
 * OAuth 2.0 client-credentials settings of one server, ready for `ClientCredentialsTokenProvider`
 * (see `toTokenProviderOptions`). Exactly one of `tokenUrl`, `issuer`, `resourceServerUrl` is set;
 * `clientSecret` or `privateKey` (or, before it is read, `privateKeyFile`) is set.
 *
 * @see RFC 6749 §4.4
 */
export const oauth2ConfigSchema = z.object({
  /**
   * The grant of the service token: `client_credentials` (absent), or `jwt_bearer` (RFC 7523
   * workload identity: `assertion` or `assertionFile`, client credentials optional).
   */
  grantType: z.enum(['client_credentials', 'jwt_bearer']).optional(),
  /** jwt_bearer: the assertion. */
  assertion: secretOf<string>().optional(),
  /** jwt_bearer: the file holding the assertion, read (again when it changes) by the provider. */
  assertionFile: z.string().optional(),
  /** The OAuth `client_id`. */
  clientId: z.string().min(1),
  /** The client secret (`client_secret_basic` / `client_secret_post`). */
  clientSecret: secretOf<string>().optional(),
  /** The `private_key_jwt` key: PKCS#8 PEM text or a private JWK. */
  privateKey: secretOf<string | JWK>().optional(),
  /**
   * Where `privateKey` comes from, as written in the file (absolute once resolved by
   * `loadConfigFile`). `parseConfig` and `configFromEnv` cannot read files: a config with a
   * `privateKeyFile` and no `privateKey` must go through `resolveConfigFiles` (Node) first.
   */
  privateKeyFile: z.string().optional(),
  /** Algorithm of `privateKey`; inferred from the key when absent. */
  privateKeyAlgorithm: z.enum(PRIVATE_KEY_ALGORITHMS).optional(),
  /** `kid` put into the client assertion header. */
  privateKeyId: z.string().optional(),
  /** Client authentication at the token endpoint; inferred from the credential when absent. */
  tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).optional(),
  /** The `client_secret_basic` credential encoding tried first (the provider's default when absent). */
  basicCredentialsEncoding: z.enum(BASIC_CREDENTIAL_ENCODINGS).optional(),
  /** The token endpoint. */
  tokenUrl: z.string().optional(),
  /** Authorization-server issuer (RFC 8414 discovery). */
  issuer: z.string().optional(),
  /** The MCP server URL to discover the authorization server from (RFC 9728); set by `discover: true`. */
  resourceServerUrl: z.string().optional(),
  /** Scopes always requested, de-duplicated, in file order. Empty: no `scope` parameter. */
  scopes: z.array(z.string()),
  /** RFC 8707 resource indicators. */
  resource: z.array(z.string()).optional(),
  /** `audience` parameter (Auth0 and others). */
  audience: z.string().optional(),
  /** More token-request form parameters. */
  extraParams: z.record(z.string(), z.string()).optional(),
  /** Refresh this many seconds before expiry (the provider's default when absent). */
  refreshSkewSeconds: z.number().int().nonnegative().optional(),
  /** Per-attempt timeout of authorization-server requests, milliseconds. */
  timeoutMs: z.number().int().positive().optional(),
  /** Allow plain `http:` to non-loopback hosts (token endpoint and MCP server). */
  allowInsecureHttp: z.boolean().optional(),
})

/** The enterprise IdP of an `id_jag` user token (`IdJagTokenProvider`'s `idp`). */
export const idpConfigSchema = z.object({
  tokenUrl: z.string().optional(),
  issuer: z.string().optional(),
  clientId: z.string().optional(),
  clientSecret: secretOf<string>().optional(),
  tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE).optional(),
  /** URN of the user's token type (default: id_token). */
  subjectTokenType: z.string().optional(),
})

/**
 * How a token for the user of a call is obtained (`auth.user_token`, LiteLLM's
 * `oauth2_token_exchange` / `oauth2_id_jag`): `token_exchange` (RFC 8693,
 * `TokenExchangeTokenProvider`) or `id_jag` (enterprise-managed authorization,
 * `IdJagTokenProvider`). Built by `userTokenProvidersFromConfig`.
 */
export const userTokenConfigSchema = z.object({
  grantType: z.enum(['token_exchange', 'id_jag']),
  /** The client at the authorization server that issues the user's token. */
  clientId: z.string().min(1),
  clientSecret: secretOf<string>().optional(),
  privateKey: secretOf<string | JWK>().optional(),
  privateKeyAlgorithm: z.enum(PRIVATE_KEY_ALGORITHMS).optional(),
  privateKeyId: z.string().optional(),
  tokenEndpointAuthMethod: z.enum(TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE).optional(),
  /** Exactly one of tokenUrl, issuer, resourceServerUrl. */
  tokenUrl: z.string().optional(),
  issuer: z.string().optional(),
  resourceServerUrl: z.string().optional(),
  scopes: z.array(z.string()),
  resource: z.array(z.string()).optional(),
  audience: z.array(z.string()).optional(),
  /** URNs. */
  subjectTokenType: z.string().optional(),
  requestedTokenType: z.string().optional(),
  /** `service`: the server's service token is the RFC 8693 actor token. */
  actor: z.literal('service').optional(),
  /** id_jag: the IdP. */
  idp: idpConfigSchema.optional(),
  refreshSkewSeconds: z.number().int().nonnegative().optional(),
  timeoutMs: z.number().int().positive().optional(),
  allowInsecureHttp: z.boolean().optional(),
})

/** Which of the user's cookies go to the MCP server (input of `createCookieFilter`). */
export const cookiePassthroughConfigSchema = z.object({
  /** Cookie names forwarded (exact, case-sensitive). */
  allow: z.array(z.string()),
  /** Cookie-name prefixes forwarded. */
  allowPrefixes: z.array(z.string()).optional(),
})

/** Which of the caller's request headers go to the MCP server. */
export const headerPassthroughConfigSchema = z.object({
  /** Header names forwarded, lower-case. */
  allow: z.array(z.string()),
  /** Incoming lower-case name → lower-case name sent upstream. */
  rename: z.record(z.string(), z.string()).optional(),
})

/** TLS settings for the connection to the MCP server (Node). Paths are absolute after `loadConfigFile`. */
export const tlsConfigSchema = z.object({
  /** PEM file of CA certificates to trust (in addition to the defaults). */
  caFile: z.string().optional(),
  /** PEM client certificate for mutual TLS (with `keyFile`). */
  certFile: z.string().optional(),
  /** PEM private key of `certFile`. */
  keyFile: z.string().optional(),
  /** `false` disables certificate verification. Never in production. */
  rejectUnauthorized: z.boolean().optional(),
})

/** One MCP server, normalised. */
export const serverConfigSchema = z.object({
  /** The key under `mcp_servers`. */
  name: z.string().min(1),
  /** The MCP endpoint. */
  url: z.string(),
  /** `streamable-http` (the file's `http` and `streamable-http`) or the legacy `sse`. */
  transport: z.enum(['streamable-http', 'sse']),
  /** Client-credentials settings; absent when the server has no OAuth2 (`auth: none`, or no default). */
  oauth2: oauth2ConfigSchema.optional(),
  /** How a token for the user of a call is obtained; absent: the service token for every call. */
  userToken: userTokenConfigSchema.optional(),
  /** Cookies forwarded on the user path; absent: none. */
  cookiePassthrough: cookiePassthroughConfigSchema.optional(),
  /** Request headers forwarded on the user path; absent: none. */
  headerPassthrough: headerPassthroughConfigSchema.optional(),
  /**
   * Static headers sent on every request. Their values print as `[redacted]` (`util.inspect`,
   * `JSON.stringify`); reading a header returns its value.
   */
  headers: z.record(z.string(), z.string()),
  /** TLS settings; absent: the platform defaults. */
  tls: tlsConfigSchema.optional(),
  /**
   * The server's own `allow_insecure_http`: credentials (passthrough, static headers, tokens)
   * may go to it over plain `http:` to a host that is not loopback. Absent: not allowed, unless
   * its `oauth2` (or `userToken`) allows it.
   */
  allowInsecureHttp: z.boolean().optional(),
})

/**
 * The token store shared by the gateway's replicas (`mcp_config.token_store`). auth-core builds a
 * `memory` store itself; a `redis` store comes from `@mcp-oauth2/redis`
 * (`redisTokenStoreFromConfig`), passed to `tokenProvidersFromConfig(config, { store })`.
 */
export const tokenStoreConfigSchema = z.object({
  /** `memory` or `redis`. */
  type: z.enum(['memory', 'redis']),
  /** The Redis URL (it may hold a password, so it is a Secret). Set for `redis`. */
  url: secretOf<string>().optional(),
  /** Prefix of every Redis key and channel (the store's default when absent). */
  keyPrefix: z.string().optional(),
  /** The AES-256-GCM keys, the encrypting one first. Set for `redis`. */
  encryptionKey: secretOf<readonly string[]>().optional(),
  /** Deadline of each store operation, milliseconds. */
  timeoutMs: z.number().int().positive().optional(),
  /** Lifetime of a fleet lock whose holder never releases it, milliseconds. */
  lockTtlMs: z.number().int().positive().optional(),
  /** How long a replica waits for the lock holder's token, milliseconds. */
  waitMs: z.number().int().positive().optional(),
})

/** A number of calls per window (`rate_limits.user`, `rate_limits.global`). */
export const rateLimitConfigSchema = z.object({
  /** Calls allowed per window. */
  limit: z.number().int().positive(),
  /** The window, whole seconds (a fixed window, starting with its first call). */
  windowSeconds: z.number().int().positive(),
})

/** A limit of a tool or a server (`rate_limits.tools.<name>`, `rate_limits.servers.<name>`). */
export const scopedRateLimitConfigSchema = rateLimitConfigSchema.extend({
  /** `true`: each user gets `limit` on their own; absent: all users together. */
  perUser: z.boolean().optional(),
})

/** Where the rate-limit counters live (`rate_limits.store`). */
export const rateLimitStoreConfigSchema = z.object({
  /** `memory` (per process) or `redis` (shared by every replica). */
  type: z.enum(['memory', 'redis']),
  /** The Redis URL (it may hold a password, so it is a Secret). Set for `redis` from a file. */
  url: secretOf<string>().optional(),
  /** Prefix of the Redis keys (the manager's default when absent). */
  keyPrefix: z.string().optional(),
  /** How long a call waits for Redis before it counts in memory, milliseconds. */
  timeoutMs: z.number().int().positive().optional(),
})

/**
 * The manager's rate limits (`rate_limits:`), checked before any request leaves: the
 * `rateLimits` of `McpServerManager.fromConfig` when its options give none.
 */
export const rateLimitsConfigSchema = z.object({
  /** What identifies a user without a `userId`: a cookie's name, or a header's (lower-case). */
  identify: z.object({ cookie: z.string().optional(), header: z.string().optional() }).optional(),
  /** Each user's calls, all tools together. */
  user: rateLimitConfigSchema.optional(),
  /** By tool name, `<server>__<tool>` or `*`. */
  tools: z.record(z.string(), scopedRateLimitConfigSchema).optional(),
  /** By server name (one of `servers`) or `*`. */
  servers: z.record(z.string(), scopedRateLimitConfigSchema).optional(),
  /** Every call through the manager. */
  global: rateLimitConfigSchema.optional(),
  /** Where the counters live; absent: in memory. */
  store: rateLimitStoreConfigSchema.optional(),
})

/** The whole configuration, normalised: what `McpServerManager.fromConfig` takes. */
export const mcpConfigSchema = z.object({
  /** Servers by name, in file order. */
  servers: z.record(z.string(), serverConfigSchema),
  /** The shared token store; absent: every provider keeps its own cache. */
  tokenStore: tokenStoreConfigSchema.optional(),
  /** The manager's rate limits; absent: none. */
  rateLimits: rateLimitsConfigSchema.optional(),
})

/** OAuth 2.0 client-credentials settings of one server. @see oauth2ConfigSchema */
export type OAuth2Config = z.infer<typeof oauth2ConfigSchema>
/** The per-user token settings of one server. @see userTokenConfigSchema */
export type UserTokenConfig = z.infer<typeof userTokenConfigSchema>
/** The IdP of an `id_jag` user token. */
export type IdpConfig = z.infer<typeof idpConfigSchema>
/** Cookie passthrough of one server. */
export type CookiePassthroughConfig = z.infer<typeof cookiePassthroughConfigSchema>
/** Header passthrough of one server. */
export type HeaderPassthroughConfig = z.infer<typeof headerPassthroughConfigSchema>
/** TLS settings of one server. */
export type TlsConfig = z.infer<typeof tlsConfigSchema>
/** One MCP server, normalised. */
export type ServerConfig = z.infer<typeof serverConfigSchema>
/** The shared token store settings. */
export type TokenStoreConfig = z.infer<typeof tokenStoreConfigSchema>
/** One rate limit: calls per window. */
export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>
/** A rate limit of a tool or a server. */
export type ScopedRateLimitConfig = z.infer<typeof scopedRateLimitConfigSchema>
/** Where the rate-limit counters live. */
export type RateLimitStoreConfig = z.infer<typeof rateLimitStoreConfigSchema>
/** The `rate_limits:` block, normalised. @see rateLimitsConfigSchema */
export type RateLimitsConfig = z.infer<typeof rateLimitsConfigSchema>
/** The whole configuration, normalised. */
export type McpConfig = z.infer<typeof mcpConfigSchema>
/** Transport of a server: `http` in files means Streamable HTTP. */
export type McpTransportKind = ServerConfig['transport']
