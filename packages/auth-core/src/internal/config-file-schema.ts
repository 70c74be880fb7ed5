/**
 * zod schemas of the configuration *file* formats (snake_case, as operators write them):
 * the seed's shape and LiteLLM's `mcp_servers` shape. They check each value; rules that span
 * several keys (exactly one token endpoint, exactly one credential, …) live in
 * `config-normalise.ts`, because zod skips refinements of an object that already has issues and
 * we report every problem at once.
 */
import { z } from 'zod'
import {
  BASIC_CREDENTIAL_ENCODINGS,
  describeList,
  PRIVATE_KEY_ALGORITHMS,
  TOKEN_ENDPOINT_AUTH_METHODS,
  TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE,
} from './protocol.js'

/** `true`/`false`, also as the strings an environment variable gives (`"true"`, `"0"`, `"yes"`…). */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.trim().toLowerCase()
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false
  return undefined
}

export const boolish = z.preprocess(
  (v) => (typeof v === 'string' ? (parseBoolean(v) ?? v) : v),
  z.boolean({ error: 'must be true or false' }),
)

export const intish = (min: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` }),
  )

const text = z.string({ error: 'must be a string' })
export const nonEmpty = text.trim().min(1, { error: 'must not be empty' })

/** An absolute http(s) URL without credentials. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
  } catch {
    return false
  }
}

export const httpUrl = nonEmpty.refine(isHttpUrl, {
  error: 'must be an absolute http(s) URL without credentials',
})

/** RFC 7230 `token`: the characters allowed in a header or cookie name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
export const cookieName = nonEmpty.regex(TOKEN, { error: 'is not a valid cookie name' })
export const headerName = nonEmpty.regex(TOKEN, { error: 'is not a valid header name' })

/** A scope list: a space-delimited string (RFC 6749 §3.3) or a list. */
export const scopeValue = z.union([
  text,
  z.array(nonEmpty, { error: 'must be a string or a list of strings' }),
])

/** A secret string: never echoed in messages (zod's messages do not include the input). */
export const secretString = text.min(1, { error: 'must not be empty' })

export const privateKeyAlgorithm = z.enum(PRIVATE_KEY_ALGORITHMS, {
  error: `must be one of ${describeList(PRIVATE_KEY_ALGORITHMS)}`,
})
export const tokenEndpointAuthMethod = z.enum(TOKEN_ENDPOINT_AUTH_METHODS, {
  error: `must be one of ${describeList(TOKEN_ENDPOINT_AUTH_METHODS)}`,
})

export const tokenEndpointAuthMethodWithNone = z.enum(TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE, {
  error: `must be one of ${describeList(TOKEN_ENDPOINT_AUTH_METHODS_WITH_NONE)}`,
})

/** Grants of the service token (`auth.oauth2.grant_type`). */
export const SERVICE_GRANT_TYPES = ['client_credentials', 'jwt_bearer'] as const
/** Grants of the per-user token (`auth.user_token.grant_type`). */
export const USER_GRANT_TYPES = ['token_exchange', 'id_jag'] as const

/** A token type: a short name (`access_token`, `id_token`, `jwt`, …) or a URN. */
const tokenType = nonEmpty.regex(/^(?:[a-z_-]+|[A-Za-z][A-Za-z0-9+.-]*:\S+)$/, {
  error: 'must be a token type (access_token, id_token, jwt, …) or its URN',
})

/** `auth.oauth2` and `mcp_config.default_oauth2` in the seed's shape. */
export const rawOAuth2Schema = z.strictObject({
  /** `client_credentials` (default) or `jwt_bearer` (RFC 7523 workload identity). */
  grant_type: z
    .enum(SERVICE_GRANT_TYPES, { error: `must be one of ${describeList(SERVICE_GRANT_TYPES)}` })
    .optional(),
  /** jwt_bearer: the assertion itself (e.g. `${WORKLOAD_TOKEN}`). */
  assertion: secretString.optional(),
  /** jwt_bearer: a file holding the assertion, re-read when it rotates. */
  assertion_file: nonEmpty.optional(),
  /** Token endpoint URL. */
  token_url: httpUrl.optional(),
  /** Authorization-server issuer; the token endpoint comes from its RFC 8414 metadata. */
  issuer: httpUrl.optional(),
  /** Discover the authorization server from the MCP server's RFC 9728 metadata. */
  discover: boolish.optional(),
  client_id: nonEmpty,
  client_secret: secretString.optional(),
  /** PKCS#8 PEM, a JWK as JSON text, or a JWK as a mapping. */
  private_key: z
    .union([secretString, z.record(z.string(), z.unknown())], {
      error: 'must be a PEM string or a JWK',
    })
    .optional(),
  private_key_file: nonEmpty.optional(),
  private_key_algorithm: privateKeyAlgorithm.optional(),
  private_key_id: nonEmpty.optional(),
  token_endpoint_auth_method: tokenEndpointAuthMethod.optional(),
  /** `form-urlencoded` (RFC 6749 §2.3.1) or `raw`, for servers that do not form-decode Basic credentials. */
  basic_credentials_encoding: z
    .enum(BASIC_CREDENTIAL_ENCODINGS, { error: `must be one of ${describeList(BASIC_CREDENTIAL_ENCODINGS)}` })
    .optional(),
  scope: scopeValue.optional(),
  resource: z.union([httpUrl, z.array(httpUrl)]).optional(),
  audience: nonEmpty.optional(),
  extra_params: z.record(z.string(), text).optional(),
  refresh_skew_seconds: intish(0).optional(),
  timeout_ms: intish(1).optional(),
  allow_insecure_http: boolish.optional(),
})
export type RawOAuth2 = z.infer<typeof rawOAuth2Schema>

const none = z.literal('none', { error: 'must be "none" or a mapping' })

/** `auth.cookie_passthrough`: a list of names, or the seed's `{ enabled, cookie_names }`. */
export const rawCookiePassthroughSchema = z.union([
  z.array(cookieName),
  z.strictObject({
    enabled: boolish.optional(),
    cookie_names: z.array(cookieName).optional(),
    /** Cookie-name prefixes also forwarded (e.g. `pref_`). */
    cookie_prefixes: z.array(cookieName).optional(),
  }),
])

/** `auth.header_passthrough`: a list of names, or `{ enabled, header_names, rename }`. */
export const rawHeaderPassthroughSchema = z.union([
  z.array(headerName),
  z.strictObject({
    enabled: boolish.optional(),
    header_names: z.array(headerName).optional(),
    /** Incoming name → name sent upstream. */
    rename: z.record(headerName, headerName).optional(),
  }),
])

/** `auth.user_token.idp`: the enterprise IdP of `grant_type: id_jag`. */
export const rawIdpSchema = z.strictObject({
  token_url: httpUrl.optional(),
  issuer: httpUrl.optional(),
  client_id: nonEmpty.optional(),
  client_secret: secretString.optional(),
  token_endpoint_auth_method: tokenEndpointAuthMethodWithNone.optional(),
  subject_token_type: tokenType.optional(),
})

/**
 * `auth.user_token`: the token obtained for the user of a call (`withUserContext({ subjectToken })`
 * or `{ idToken }`), sent instead of the service token.
 */
export const rawUserTokenSchema = z.strictObject({
  grant_type: z.enum(USER_GRANT_TYPES, { error: `must be one of ${describeList(USER_GRANT_TYPES)}` }),
  token_url: httpUrl.optional(),
  issuer: httpUrl.optional(),
  discover: boolish.optional(),
  client_id: nonEmpty,
  client_secret: secretString.optional(),
  private_key: z
    .union([secretString, z.record(z.string(), z.unknown())], { error: 'must be a PEM string or a JWK' })
    .optional(),
  private_key_algorithm: privateKeyAlgorithm.optional(),
  private_key_id: nonEmpty.optional(),
  token_endpoint_auth_method: tokenEndpointAuthMethodWithNone.optional(),
  scope: scopeValue.optional(),
  resource: z.union([httpUrl, z.array(httpUrl)]).optional(),
  audience: z.union([nonEmpty, z.array(nonEmpty)]).optional(),
  subject_token_type: tokenType.optional(),
  requested_token_type: tokenType.optional(),
  /** token_exchange: `service` sends the server's service token (`auth.oauth2`) as `actor_token`. */
  actor: z.literal('service', { error: 'must be service' }).optional(),
  idp: rawIdpSchema.optional(),
  refresh_skew_seconds: intish(0).optional(),
  timeout_ms: intish(1).optional(),
  allow_insecure_http: boolish.optional(),
})
export type RawUserToken = z.infer<typeof rawUserTokenSchema>

export const rawAuthSchema = z.union([
  none,
  z.strictObject({
    oauth2: z.union([none, rawOAuth2Schema]).optional(),
    user_token: rawUserTokenSchema.optional(),
    cookie_passthrough: rawCookiePassthroughSchema.optional(),
    header_passthrough: rawHeaderPassthroughSchema.optional(),
  }),
])

export const rawTlsSchema = z.strictObject({
  ca_file: nonEmpty.optional(),
  cert_file: nonEmpty.optional(),
  key_file: nonEmpty.optional(),
  reject_unauthorized: boolish.optional(),
})

export const transportValue = z.enum(['http', 'streamable-http', 'sse'], {
  error: 'must be one of http, streamable-http, sse',
})

/** One server in the seed's shape. */
export const rawServerSchema = z.strictObject({
  url: httpUrl,
  transport: transportValue.optional(),
  auth: rawAuthSchema.optional(),
  headers: z.record(headerName, text).optional(),
  tls: rawTlsSchema.optional(),
  /** Allow credentials (passthrough, static headers, tokens) over plain http to this server. */
  allow_insecure_http: boolish.optional(),
})
export type RawServer = z.infer<typeof rawServerSchema>

/** One server in LiteLLM's `mcp_servers` shape (the keys we read, and the ones we accept and ignore). */
export const rawLiteLLMServerSchema = z.strictObject({
  url: httpUrl,
  /** LiteLLM: `http`, `sse` or `stdio` (stdio is not supported here). */
  transport: z.string({ error: 'must be a string' }).optional(),
  /** LiteLLM: `none` or `oauth2` are supported; the others are reported as unsupported. */
  auth_type: z.string({ error: 'must be a string' }).optional(),
  /** LiteLLM: `client_credentials` or `jwt_bearer` (supported), `authorization_code` (not supported). */
  oauth2_flow: z.string({ error: 'must be a string' }).optional(),
  client_id: nonEmpty.optional(),
  client_secret: secretString.optional(),
  token_url: httpUrl.optional(),
  /** `oauth2_flow: jwt_bearer`: the assertion, or the file that holds it. */
  assertion: secretString.optional(),
  assertion_file: nonEmpty.optional(),
  /** `auth_type: oauth2_token_exchange` / `oauth2_id_jag`: the (IdP's) token-exchange endpoint. */
  token_exchange_endpoint: httpUrl.optional(),
  /** `auth_type: oauth2_id_jag`: the MCP authorization server's token endpoint and client. */
  id_jag_resource_token_endpoint: httpUrl.optional(),
  id_jag_client_id: nonEmpty.optional(),
  id_jag_client_secret: secretString.optional(),
  audience: z.union([nonEmpty, z.array(nonEmpty)]).optional(),
  resource: httpUrl.optional(),
  subject_token_type: tokenType.optional(),
  requested_token_type: tokenType.optional(),
  scopes: scopeValue.optional(),
  /** LiteLLM: names of client request headers forwarded to the server. */
  extra_headers: z.array(headerName).optional(),
  /** LiteLLM: headers sent on every request. */
  static_headers: z.record(headerName, text).optional(),
  /** Ours, not LiteLLM's: allow credentials over plain http to this server and its token endpoints. */
  allow_insecure_http: boolish.optional(),
  // Accepted and ignored: they describe the server to LiteLLM's UI and access control, or are
  // only used by LiteLLM's interactive (authorization-code) flow.
  description: z.unknown().optional(),
  alias: z.unknown().optional(),
  server_id: z.unknown().optional(),
  allowed_tools: z.unknown().optional(),
  disallowed_tools: z.unknown().optional(),
  allowed_params: z.unknown().optional(),
  access_groups: z.unknown().optional(),
  mcp_info: z.unknown().optional(),
  authorization_url: z.unknown().optional(),
  registration_url: z.unknown().optional(),
})
export type RawLiteLLMServer = z.infer<typeof rawLiteLLMServerSchema>

/** Keys only LiteLLM's shape has; a server with one of them (and no `auth`) is read as LiteLLM's. */
export const LITELLM_ONLY_KEYS = [
  'auth_type',
  'oauth2_flow',
  'client_id',
  'client_secret',
  'token_url',
  'scopes',
  'extra_headers',
  'static_headers',
  'token_exchange_endpoint',
  'id_jag_resource_token_endpoint',
] as const

/** Keys of LiteLLM server entries that change behaviour we do not implement, with what to do instead. */
export const LITELLM_UNSUPPORTED_KEYS: Readonly<Record<string, string>> = {
  command: 'stdio servers are not supported (remote http/sse servers only)',
  args: 'stdio servers are not supported (remote http/sse servers only)',
  env: 'stdio servers are not supported (remote http/sse servers only)',
  spec_path: 'OpenAPI-generated servers are not supported',
  auth_value: 'static credentials are not read from auth_value; put the header into static_headers',
  authentication_token: 'static credentials are not read from authentication_token; use static_headers',
}

/** Token store kinds of `mcp_config.token_store.type`. */
export const TOKEN_STORE_TYPES = ['memory', 'redis'] as const

/** `mcp_config.token_store`: the token cache shared by every replica of a gateway. */
export const rawTokenStoreSchema = z.strictObject({
  /** `memory` (this process's providers share one cache) or `redis` (the fleet shares one). */
  type: z.enum(TOKEN_STORE_TYPES, { error: `must be one of ${describeList(TOKEN_STORE_TYPES)}` }),
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`; may hold a password: a secret. */
  url: secretString.optional(),
  /** Prefix of every Redis key and channel. */
  key_prefix: nonEmpty.optional(),
  /** AES-256-GCM key(s), 32 bytes as base64; with a list, the first encrypts and all decrypt. */
  encryption_key: z
    .union([secretString, z.array(secretString, { error: 'must be a string or a list of strings' })], {
      error: 'must be a string or a list of strings',
    })
    .optional(),
  /** Deadline of each store operation, milliseconds. */
  timeout_ms: intish(1).optional(),
  /** How long a fleet lock lasts if its holder never releases it, milliseconds. */
  lock_ttl_ms: intish(1).optional(),
  /** How long a replica waits for the lock holder's token, milliseconds. */
  wait_ms: intish(1).optional(),
})
export type RawTokenStore = z.infer<typeof rawTokenStoreSchema>

export const rawMcpConfigSchema = z.strictObject({
  /** Applied to every server without its own `auth.oauth2` (a server opts out with `auth: none`). */
  default_oauth2: rawOAuth2Schema.optional(),
  /** The token cache shared by the gateway's replicas. */
  token_store: rawTokenStoreSchema.optional(),
})
