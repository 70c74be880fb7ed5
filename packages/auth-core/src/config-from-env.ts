/**
 * Configuration from environment variables alone, the way the seed system was configured.
 * Reference: https://github.com/mcp-oauth2-kit/mcp-oauth2-kit/blob/main/docs/configuration.md
 */
import type { ConfigEnv } from './config.js'
import { defaultEnv, normaliseConfig } from './config-normalise.js'
import type { McpConfig } from './config-schema.js'
import { parseBoolean } from './internal/config-file-schema.js'
import { IssueList } from './internal/config-issues.js'

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
  'MCP_OAUTH2_TOKEN_STORE',
  'MCP_OAUTH2_TOKEN_STORE_URL',
  'MCP_OAUTH2_TOKEN_STORE_KEY_PREFIX',
  'MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY',
] as const

const SERVER_URL_VAR = /^MCP_SERVER_([A-Z0-9_]+)_URL$/

/**
 * Build a configuration from environment variables alone, the way the seed was configured:
 *
 * - `MCP_OAUTH2_TOKEN_URL` (or `MCP_OAUTH2_ISSUER`), `MCP_OAUTH2_CLIENT_ID`,
 *   `MCP_OAUTH2_CLIENT_SECRET`, optional `MCP_OAUTH2_SCOPE` (space- or comma-separated),
 *   `MCP_OAUTH2_AUDIENCE`, `MCP_OAUTH2_RESOURCE`, `MCP_OAUTH2_TOKEN_ENDPOINT_AUTH_METHOD`,
 *   `MCP_OAUTH2_ALLOW_INSECURE_HTTP`: one client for every server. `MCP_OAUTH2_ALLOW_INSECURE_HTTP`
 *   also allows every server's passthrough over plain http (with OAuth2 on or off).
 * - `MCP_OAUTH2_ENABLED` or the seed's `LITELLM_ENABLE_OAUTH2_PATCH`, when set: `false` turns
 *   OAuth2 off even if the variables above are set; `true` makes them required. When neither is
 *   set, OAuth2 is on when any `MCP_OAUTH2_*` credential variable is set.
 * - Servers: `MCP_SERVER_URL` (named by `MCP_SERVER_NAME`, default `default`, transport
 *   `MCP_SERVER_TRANSPORT`) and/or `MCP_SERVER_<NAME>_URL` (+ `MCP_SERVER_<NAME>_TRANSPORT`),
 *   named `<name>` in lower case. At least one server is required.
 * - `MCP_COOKIE_PASSTHROUGH` / `MCP_HEADER_PASSTHROUGH`: comma-separated names forwarded to every server.
 * - `MCP_OAUTH2_TOKEN_STORE` (`memory` or `redis`) with `MCP_OAUTH2_TOKEN_STORE_URL`,
 *   `MCP_OAUTH2_TOKEN_STORE_KEY_PREFIX` and `MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY`
 *   (comma-separated keys, the encrypting one first): `mcp_config.token_store`.
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

  const document: { mcp_config?: Record<string, unknown>; mcp_servers: Record<string, unknown> } = {
    mcp_servers: {},
  }
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

  const storeType = get('MCP_OAUTH2_TOKEN_STORE')
  if (storeType !== undefined) {
    const store: Record<string, unknown> = { type: storeType.trim().toLowerCase() }
    origin.set('mcp_config.token_store', 'MCP_OAUTH2_TOKEN_STORE')
    origin.set('mcp_config.token_store.type', 'MCP_OAUTH2_TOKEN_STORE')
    const url = get('MCP_OAUTH2_TOKEN_STORE_URL')
    if (url !== undefined) store['url'] = url.trim()
    origin.set('mcp_config.token_store.url', 'MCP_OAUTH2_TOKEN_STORE_URL')
    const prefix = get('MCP_OAUTH2_TOKEN_STORE_KEY_PREFIX')
    if (prefix !== undefined) store['key_prefix'] = prefix
    origin.set('mcp_config.token_store.key_prefix', 'MCP_OAUTH2_TOKEN_STORE_KEY_PREFIX')
    const keys = get('MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY')
      ?.split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '')
    if (keys !== undefined && keys.length > 0) store['encryption_key'] = keys
    origin.set('mcp_config.token_store.encryption_key', 'MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY')
    document.mcp_config = { ...document.mcp_config, token_store: store }
  } else {
    for (const name of [
      'MCP_OAUTH2_TOKEN_STORE_URL',
      'MCP_OAUTH2_TOKEN_STORE_KEY_PREFIX',
      'MCP_OAUTH2_TOKEN_STORE_ENCRYPTION_KEY',
    ]) {
      if (get(name) !== undefined) issues.add(name, 'is only used with MCP_OAUTH2_TOKEN_STORE')
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
    // The one client's flag covers the server too: with OAuth2 off, passthrough over plain http
    // needs it as much as a bearer token does.
    const allowInsecure = get('MCP_OAUTH2_ALLOW_INSECURE_HTTP')
    if (allowInsecure !== undefined) {
      server['allow_insecure_http'] = allowInsecure
      origin.set(`mcp_servers.${name}.allow_insecure_http`, 'MCP_OAUTH2_ALLOW_INSECURE_HTTP')
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
    issues.add(origin.get(path) ?? issue.path, issue.message, inner.codeOf(issue))
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
