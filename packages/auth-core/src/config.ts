/**
 * Configuration: the normalised types the rest of the SDK consumes, and the functions that build
 * them from a YAML/JSON document ({@link parseConfig}) or from environment variables
 * ({@link configFromEnv}). Reading files is Node-only: `loadConfigFile` from
 * `@mcp-oauth2/auth-core/node`.
 *
 * Two file shapes are accepted and normalise to the same {@link McpConfig}: the seed's
 * (`mcp_servers.<name>.auth.oauth2`, `mcp_config.default_oauth2`) and LiteLLM's
 * (`mcp_servers.<name>.auth_type: oauth2`, `client_id`, `token_url`, `scopes`, …).
 * Reference: https://github.com/mcp-oauth2-kit/mcp-oauth2-kit/blob/main/docs/configuration.md
 */
import type { JWK } from 'jose'
import { z } from 'zod'
import type { EnvLike } from './internal/config-interpolate.js'
import { IssueList } from './internal/config-issues.js'
import { normaliseConfig } from './internal/config-normalise.js'
import { parseConfigInput } from './internal/config-parse.js'
import { parseBoolean } from './internal/config-schema.js'
import { Secret } from './secret.js'

// ---------------------------------------------------------------------------------------------
// Normalised configuration (zod is the single source of truth; the types are `z.infer`).
// ---------------------------------------------------------------------------------------------

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
  privateKeyAlgorithm: z.enum(['ES256', 'RS256', 'PS256', 'EdDSA']).optional(),
  /** `kid` put into the client assertion header. */
  privateKeyId: z.string().optional(),
  /** Client authentication at the token endpoint; inferred from the credential when absent. */
  tokenEndpointAuthMethod: z
    .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    .optional(),
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
  /** Cookies forwarded on the user path; absent: none. */
  cookiePassthrough: cookiePassthroughConfigSchema.optional(),
  /** Request headers forwarded on the user path; absent: none. */
  headerPassthrough: headerPassthroughConfigSchema.optional(),
  /** Static headers sent on every request (not secret: they are not redacted). */
  headers: z.record(z.string(), z.string()),
  /** TLS settings; absent: the platform defaults. */
  tls: tlsConfigSchema.optional(),
})

/** The whole configuration, normalised: what `McpServerManager.fromConfig` takes. */
export const mcpConfigSchema = z.object({
  /** Servers by name, in file order. */
  servers: z.record(z.string(), serverConfigSchema),
})

/** OAuth 2.0 client-credentials settings of one server. @see oauth2ConfigSchema */
export type OAuth2Config = z.infer<typeof oauth2ConfigSchema>
/** Cookie passthrough of one server. */
export type CookiePassthroughConfig = z.infer<typeof cookiePassthroughConfigSchema>
/** Header passthrough of one server. */
export type HeaderPassthroughConfig = z.infer<typeof headerPassthroughConfigSchema>
/** TLS settings of one server. */
export type TlsConfig = z.infer<typeof tlsConfigSchema>
/** One MCP server, normalised. */
export type ServerConfig = z.infer<typeof serverConfigSchema>
/** The whole configuration, normalised. */
export type McpConfig = z.infer<typeof mcpConfigSchema>
/** Transport of a server: `http` in files means Streamable HTTP. */
export type McpTransportKind = ServerConfig['transport']

// ---------------------------------------------------------------------------------------------
// parseConfig
// ---------------------------------------------------------------------------------------------

/** Environment variables, as in `process.env`. */
export type ConfigEnv = EnvLike

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /**
   * Variables for `${VAR}`, `${VAR:-default}` and LiteLLM's `os.environ/VAR`.
   * @default globalThis.process?.env, else no variables
   */
  env?: ConfigEnv | undefined
  /** The file the input came from, for `ConfigError.file` and messages. */
  file?: string | undefined
}

/**
 * Validate and normalise a configuration document: the seed's shape or LiteLLM's, as a parsed
 * object or as YAML/JSON text. Environment references are replaced first; every problem is
 * collected and thrown at once as a `ConfigError` whose `issues` name each path.
 *
 * `private_key_file` and TLS paths are kept as written: resolve them with `loadConfigFile` or
 * `resolveConfigFiles` from `@mcp-oauth2/auth-core/node`.
 *
 * @example
 * ```ts
 * const config = parseConfig(yamlText, { env: process.env })
 * for (const server of Object.values(config.servers)) console.log(server.name, server.url)
 * ```
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): McpConfig {
  return parseConfigInput(input, options.env ?? defaultEnv(), options.file, undefined)
}

/** `process.env` where there is one (read through `globalThis`: the root entry imports no `node:`). */
function defaultEnv(): ConfigEnv {
  const proc = (globalThis as { process?: { env?: ConfigEnv } }).process
  return proc?.env ?? {}
}

// ---------------------------------------------------------------------------------------------
// configFromEnv
// ---------------------------------------------------------------------------------------------

/** Environment variables {@link configFromEnv} reads (besides `MCP_SERVER_<NAME>_URL`/`_TRANSPORT`). */
export const CONFIG_ENV_VARS = [
  'MCP_OAUTH2_ENABLED',
  'LITELLM_ENABLE_OAUTH2_PATCH',
  'MCP_OAUTH2_TOKEN_URL',
  'MCP_OAUTH2_ISSUER',
  'MCP_OAUTH2_CLIENT_ID',
  'MCP_OAUTH2_CLIENT_SECRET',
  'MCP_OAUTH2_SCOPE',
  'MCP_OAUTH2_AUDIENCE',
  'MCP_OAUTH2_RESOURCE',
  'MCP_OAUTH2_TOKEN_ENDPOINT_AUTH_METHOD',
  'MCP_OAUTH2_ALLOW_INSECURE_HTTP',
  'MCP_SERVER_URL',
  'MCP_SERVER_NAME',
  'MCP_SERVER_TRANSPORT',
  'MCP_COOKIE_PASSTHROUGH',
  'MCP_HEADER_PASSTHROUGH',
] as const

const SERVER_URL_VAR = /^MCP_SERVER_([A-Z0-9_]+)_URL$/

/**
 * Build a configuration from environment variables alone, the way the seed was configured:
 *
 * - `MCP_OAUTH2_TOKEN_URL` (or `MCP_OAUTH2_ISSUER`), `MCP_OAUTH2_CLIENT_ID`,
 *   `MCP_OAUTH2_CLIENT_SECRET`, optional `MCP_OAUTH2_SCOPE` (space- or comma-separated),
 *   `MCP_OAUTH2_AUDIENCE`, `MCP_OAUTH2_RESOURCE`, `MCP_OAUTH2_TOKEN_ENDPOINT_AUTH_METHOD`,
 *   `MCP_OAUTH2_ALLOW_INSECURE_HTTP`: one client for every server.
 * - `MCP_OAUTH2_ENABLED` or the seed's `LITELLM_ENABLE_OAUTH2_PATCH`, when set: `false` turns
 *   OAuth2 off even if the variables above are set; `true` makes them required. When neither is
 *   set, OAuth2 is on when any `MCP_OAUTH2_*` credential variable is set.
 * - Servers: `MCP_SERVER_URL` (named by `MCP_SERVER_NAME`, default `default`, transport
 *   `MCP_SERVER_TRANSPORT`) and/or `MCP_SERVER_<NAME>_URL` (+ `MCP_SERVER_<NAME>_TRANSPORT`),
 *   named `<name>` in lower case. At least one server is required.
 * - `MCP_COOKIE_PASSTHROUGH` / `MCP_HEADER_PASSTHROUGH`: comma-separated names forwarded to every server.
 *
 * Issues name the variable (e.g. `path: 'MCP_OAUTH2_CLIENT_ID'`), never its value.
 *
 * @example
 * ```ts
 * const config = configFromEnv(process.env)
 * ```
 */
export function configFromEnv(env: ConfigEnv = defaultEnv()): McpConfig {
  const issues = new IssueList()
  const get = (name: string): string | undefined => {
    const value = env[name]
    return value === undefined || value.trim() === '' ? undefined : value
  }

  // Which variable each document path came from, so issues name variables, not YAML paths.
  const origin = new Map<string, string>()
  const flag = (name: string): boolean | undefined => {
    const value = get(name)
    if (value === undefined) return undefined
    const parsed = parseBoolean(value)
    if (parsed === undefined) issues.add(name, 'must be true or false')
    return parsed
  }
  const enabledFlags = [flag('MCP_OAUTH2_ENABLED'), flag('LITELLM_ENABLE_OAUTH2_PATCH')].filter(
    (v): v is boolean => v !== undefined,
  )
  if (enabledFlags.length === 2 && enabledFlags[0] !== enabledFlags[1]) {
    issues.add('MCP_OAUTH2_ENABLED', 'contradicts LITELLM_ENABLE_OAUTH2_PATCH')
  }
  const credentialVars = [
    'MCP_OAUTH2_TOKEN_URL',
    'MCP_OAUTH2_ISSUER',
    'MCP_OAUTH2_CLIENT_ID',
    'MCP_OAUTH2_CLIENT_SECRET',
  ]
  const enabled = enabledFlags[0] ?? credentialVars.some((name) => get(name) !== undefined)

  const document: { mcp_config?: unknown; mcp_servers: Record<string, unknown> } = { mcp_servers: {} }
  if (enabled) {
    const oauth2: Record<string, unknown> = {}
    const put = (key: string, name: string, value: unknown = get(name)) => {
      if (value === undefined) return
      oauth2[key] = value
      origin.set(`mcp_config.default_oauth2.${key}`, name)
    }
    put('token_url', 'MCP_OAUTH2_TOKEN_URL')
    put('issuer', 'MCP_OAUTH2_ISSUER')
    put('client_id', 'MCP_OAUTH2_CLIENT_ID')
    put('client_secret', 'MCP_OAUTH2_CLIENT_SECRET')
    put('scope', 'MCP_OAUTH2_SCOPE', get('MCP_OAUTH2_SCOPE')?.replace(/,/g, ' '))
    put('audience', 'MCP_OAUTH2_AUDIENCE')
    put('resource', 'MCP_OAUTH2_RESOURCE')
    put('token_endpoint_auth_method', 'MCP_OAUTH2_TOKEN_ENDPOINT_AUTH_METHOD')
    put('allow_insecure_http', 'MCP_OAUTH2_ALLOW_INSECURE_HTTP')
    const before = issues.size
    if (oauth2['client_id'] === undefined)
      issues.add('MCP_OAUTH2_CLIENT_ID', 'is required when OAuth2 is enabled')
    if (oauth2['client_secret'] === undefined) {
      issues.add('MCP_OAUTH2_CLIENT_SECRET', 'is required when OAuth2 is enabled')
    }
    if (oauth2['token_url'] === undefined && oauth2['issuer'] === undefined) {
      issues.add('MCP_OAUTH2_TOKEN_URL', 'is required when OAuth2 is enabled (or set MCP_OAUTH2_ISSUER)')
    }
    // With a variable missing, the servers are still checked, without OAuth2 (no derived issues).
    if (issues.size === before) {
      document.mcp_config = { default_oauth2: oauth2 }
      origin.set('mcp_config.default_oauth2', 'MCP_OAUTH2_TOKEN_URL')
    }
  }

  const list = (name: string): string[] | undefined =>
    get(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  const cookies = list('MCP_COOKIE_PASSTHROUGH')
  const headers = list('MCP_HEADER_PASSTHROUGH')

  const addServer = (name: string, urlVar: string, transportVar: string) => {
    if (Object.hasOwn(document.mcp_servers, name)) {
      issues.add(
        urlVar,
        `names server "${name}" a second time (see ${origin.get(`mcp_servers.${name}.url`)})`,
      )
      return
    }
    const server: Record<string, unknown> = { url: get(urlVar) }
    origin.set(`mcp_servers.${name}.url`, urlVar)
    origin.set(`mcp_servers.${name}`, urlVar)
    const transport = get(transportVar)
    if (transport !== undefined) {
      server['transport'] = transport
      origin.set(`mcp_servers.${name}.transport`, transportVar)
    }
    if (cookies || headers) {
      const auth: Record<string, unknown> = {}
      if (cookies) auth['cookie_passthrough'] = cookies
      if (headers) auth['header_passthrough'] = headers
      server['auth'] = auth
      origin.set(`mcp_servers.${name}.auth.cookie_passthrough`, 'MCP_COOKIE_PASSTHROUGH')
      origin.set(`mcp_servers.${name}.auth.header_passthrough`, 'MCP_HEADER_PASSTHROUGH')
    }
    Object.defineProperty(document.mcp_servers, name, { value: server, enumerable: true, configurable: true })
  }
  if (get('MCP_SERVER_URL') !== undefined) {
    addServer(get('MCP_SERVER_NAME')?.trim() ?? 'default', 'MCP_SERVER_URL', 'MCP_SERVER_TRANSPORT')
  }
  for (const key of Object.keys(env).sort()) {
    const match = SERVER_URL_VAR.exec(key)
    if (!match?.[1] || get(key) === undefined) continue
    addServer(match[1].toLowerCase(), key, `MCP_SERVER_${match[1]}_TRANSPORT`)
  }
  if (Object.keys(document.mcp_servers).length === 0) {
    issues.add('MCP_SERVER_URL', 'no MCP server configured: set MCP_SERVER_URL or MCP_SERVER_<NAME>_URL')
  }

  const inner = new IssueList()
  const config = normaliseConfig(document, inner)
  // Translate document paths back to the variables they came from.
  for (const issue of inner.issues) {
    let path = issue.path
    while (path !== '' && !origin.has(path)) path = parentPath(path)
    issues.add(origin.get(path) ?? issue.path, issue.message)
  }
  issues.throwIfAny()
  return config
}

/** `a.b[0]` → `a.b` → `a` → `''`. */
function parentPath(path: string): string {
  if (path.endsWith(']')) return path.slice(0, path.lastIndexOf('['))
  const dot = path.lastIndexOf('.')
  return dot === -1 ? '' : path.slice(0, dot)
}
