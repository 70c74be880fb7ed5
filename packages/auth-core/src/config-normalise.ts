/**
 * The engine behind `parseConfig`, `configFromEnv` and `loadConfigFile`: text or a parsed
 * document (after environment interpolation) → normalised `McpConfig`. Each server is checked in
 * the shape it is written in (seed or LiteLLM); cross-key rules are checked here, on the raw
 * values, so that every problem is reported even when zod found others in the same object.
 *
 * Not exported from the package, yet not in `internal/`: it builds public values (`Secret`s, the
 * `config-schema.ts` types) and validates passthrough settings with the public filters' own
 * rules, and `internal/` imports nothing public. The leaf helpers it uses are in `internal/`.
 */
import type { JWK } from 'jose'
import { parseDocument } from 'yaml'
import { normaliseRateLimits } from './config-rate-limits.js'
import type {
  CookiePassthroughConfig,
  HeaderPassthroughConfig,
  McpConfig,
  OAuth2Config,
  ServerConfig,
  TlsConfig,
  TokenStoreConfig,
  UserTokenConfig,
} from './config-schema.js'
import { createCookieFilter } from './cookie-filter.js'
import { createHeaderFilter, NEVER_FORWARD_HEADER_PREFIXES, NEVER_FORWARD_HEADERS } from './header-filter.js'
import {
  LITELLM_ONLY_KEYS,
  LITELLM_UNSUPPORTED_KEYS,
  parseBoolean,
  type RawLiteLLMServer,
  type RawOAuth2,
  type RawServer,
  type RawTokenStore,
  type RawUserToken,
  rawLiteLLMServerSchema,
  rawMcpConfigSchema,
  rawServerSchema,
} from './internal/config-file-schema.js'
import { checkInsecureUrl, serverCredentials } from './internal/config-insecure.js'
import { type EnvLike, interpolateEnv, isPlainObject } from './internal/config-interpolate.js'
import { addZodIssues, type ConfigPath, IssueList } from './internal/config-issues.js'
import { redactedHeaders } from './internal/config-redacted-headers.js'
import { checkRedisUrl } from './internal/config-redis-url.js'
import { parseScope } from './scope.js'
import { Secret } from './secret.js'

/** Server names: they end up in tool-name prefixes and log lines. */
const SERVER_NAME = /^[A-Za-z0-9_-]+$/
/** Names that would reach `Object.prototype` when used as keys of a plain object. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Static headers a configuration may not set: the never-forwarded list, but `cookie` (a static
 * cookie is the operator's own; user cookies go through the cookie filter).
 */
function isForbiddenStaticHeader(name: string): boolean {
  if (name === 'cookie') return false
  return (
    NEVER_FORWARD_HEADERS.includes(name) ||
    NEVER_FORWARD_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))
  )
}

/**
 * File access for `private_key_file` and TLS paths. Only the Node loader provides it: the root
 * entry has no file system, so without it those paths are kept as written.
 */
export interface ConfigFileAccess {
  /** Absolute form of a path written in the file (relative to the file's directory). */
  resolve(path: string): string
  /**
   * Read an absolute path as UTF-8; throws when it cannot, when it is not a regular file (a FIFO
   * or a device must not hang or exhaust the process) or when it has more than `maxBytes`.
   */
  read(path: string, maxBytes: number): string
  /** Why `read` failed, for an issue: "is not a regular file", "cannot be read (ENOENT)", … */
  describeError(err: unknown): string
}

/** Largest `private_key_file` read (a PEM or JWK private key is a few KiB). */
export const MAX_PRIVATE_KEY_FILE_BYTES = 64 * 1024
/** Largest TLS file read (a CA bundle may hold a few hundred certificates). */
export const MAX_TLS_FILE_BYTES = 1024 * 1024

export function normaliseConfig(doc: unknown, issues: IssueList, files?: ConfigFileAccess): McpConfig {
  const servers: Record<string, ServerConfig> = {}
  if (!isPlainObject(doc)) {
    issues.add([], 'must be a mapping with an mcp_servers key')
    return { servers }
  }

  let defaultOAuth2: RawOAuth2 | undefined
  let tokenStore: TokenStoreConfig | undefined
  const mcpConfig = doc['mcp_config']
  if (mcpConfig !== undefined && mcpConfig !== null) {
    const before = issues.size
    const parsed = rawMcpConfigSchema.safeParse(mcpConfig)
    if (!parsed.success) addZodIssues(issues, ['mcp_config'], parsed.error.issues)
    if (isPlainObject(mcpConfig) && isPlainObject(mcpConfig['default_oauth2'])) {
      checkOAuth2(mcpConfig['default_oauth2'], ['mcp_config', 'default_oauth2'], issues)
    }
    if (isPlainObject(mcpConfig) && isPlainObject(mcpConfig['token_store'])) {
      checkTokenStore(mcpConfig['token_store'], ['mcp_config', 'token_store'], issues)
    }
    if (parsed.success && issues.size === before) {
      defaultOAuth2 = parsed.data.default_oauth2
      tokenStore = parsed.data.token_store && toTokenStoreConfig(parsed.data.token_store)
    }
  }

  const rawServers = doc['mcp_servers']
  if (rawServers === undefined || rawServers === null) {
    issues.add(['mcp_servers'], 'is required: a mapping of server name to its settings')
    return { servers }
  }
  if (!isPlainObject(rawServers)) {
    issues.add(['mcp_servers'], 'must be a mapping of server name to its settings')
    return { servers }
  }

  for (const [name, raw] of Object.entries(rawServers)) {
    const path = ['mcp_servers', name]
    const before = issues.size
    if (!SERVER_NAME.test(name) || RESERVED_NAMES.has(name)) {
      issues.add(
        path,
        'server names use letters, digits, _ and - only, and are not __proto__, constructor or prototype',
      )
    }
    if (!isPlainObject(raw)) {
      issues.add(path, 'must be a mapping with at least a url')
      continue
    }
    const isLiteLLM = !('auth' in raw) && LITELLM_ONLY_KEYS.some((key) => key in raw)
    const server = isLiteLLM
      ? liteLLMServer(name, raw, path, defaultOAuth2, issues, files)
      : seedServer(name, raw, path, defaultOAuth2, issues, files)
    if (server && issues.size === before) servers[name] = server
  }
  const rawRateLimits = doc['rate_limits']
  const rateLimits =
    rawRateLimits === undefined || rawRateLimits === null
      ? undefined
      : normaliseRateLimits(rawRateLimits, ['rate_limits'], issues, { servers: Object.keys(rawServers) })
  return compact({ servers, tokenStore, rateLimits })
}

// ---------------------------------------------------------------------------------------------
// Token store
// ---------------------------------------------------------------------------------------------

/** Cross-key rules of `mcp_config.token_store`, on the raw values (never echoing the URL or key). */
function checkTokenStore(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const type = raw['type']
  if (type === 'memory') {
    for (const key of ['url', 'key_prefix', 'encryption_key', 'timeout_ms']) {
      if (present(raw, key)) issues.add([...path, key], 'only applies with type: redis')
    }
    return
  }
  if (type !== 'redis') return
  if (!present(raw, 'url')) issues.add([...path, 'url'], 'is required with type: redis')
  if (!present(raw, 'encryption_key'))
    issues.add([...path, 'encryption_key'], 'is required with type: redis (openssl rand -base64 32)')
  checkRedisUrl(raw['url'], [...path, 'url'], issues)
  const keys = raw['encryption_key']
  for (const [i, key] of (Array.isArray(keys) ? keys : [keys]).entries()) {
    if (typeof key !== 'string' || key === '') continue
    const where = Array.isArray(keys) ? [...path, 'encryption_key', i] : [...path, 'encryption_key']
    if (!isEncryptionKey(key)) issues.add(where, 'must be 32 bytes as base64 (openssl rand -base64 32)')
  }
}

/** Whether `text` is the base64 of exactly 32 bytes (what RedisTokenStore accepts as a string). */
function isEncryptionKey(text: string): boolean {
  const t = text.trim().replace(/-/g, '+').replace(/_/g, '/')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return false
  try {
    return atob(t.padEnd(Math.ceil(t.length / 4) * 4, '=')).length === 32
  } catch {
    return false
  }
}

function toTokenStoreConfig(raw: RawTokenStore): TokenStoreConfig {
  return compact({
    type: raw.type,
    url: raw.url === undefined ? undefined : new Secret(raw.url),
    keyPrefix: raw.key_prefix,
    encryptionKey:
      raw.encryption_key === undefined
        ? undefined
        : new Secret<readonly string[]>(Object.freeze([raw.encryption_key].flat().map((k) => k.trim()))),
    timeoutMs: raw.timeout_ms,
    lockTtlMs: raw.lock_ttl_ms,
    waitMs: raw.wait_ms,
  })
}

// ---------------------------------------------------------------------------------------------
// Seed shape
// ---------------------------------------------------------------------------------------------

function seedServer(
  name: string,
  raw: Record<string, unknown>,
  path: ConfigPath,
  defaultOAuth2: RawOAuth2 | undefined,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): ServerConfig | undefined {
  const auth = raw['auth']
  if (isPlainObject(auth) && isPlainObject(auth['oauth2'])) {
    checkOAuth2(auth['oauth2'], [...path, 'auth', 'oauth2'], issues)
  }
  if (isPlainObject(auth) && isPlainObject(auth['user_token'])) {
    checkUserToken(auth['user_token'], [...path, 'auth', 'user_token'], issues)
    checkUserTokenUrls(auth['user_token'], [...path, 'auth', 'user_token'], issues)
  }
  for (const key of LITELLM_ONLY_KEYS) {
    if (key in raw) issues.add([...path, key], `is LiteLLM's shape; with auth, use auth.oauth2 instead`)
  }
  const parsed = rawServerSchema.safeParse(raw)
  if (!parsed.success) {
    addZodIssues(issues, path, parsed.error.issues)
    return undefined
  }
  const data: RawServer = parsed.data

  let oauth2Raw: RawOAuth2 | undefined
  let oauth2Path: ConfigPath = [...path, 'auth', 'oauth2']
  let cookiePassthrough: CookiePassthroughConfig | undefined
  let headerPassthrough: HeaderPassthroughConfig | undefined
  if (data.auth !== 'none') {
    const own = data.auth?.oauth2
    if (own === undefined) {
      oauth2Raw = defaultOAuth2
      oauth2Path = ['mcp_config', 'default_oauth2']
    } else if (own !== 'none') {
      oauth2Raw = own
    }
    cookiePassthrough = cookies(
      data.auth?.cookie_passthrough,
      [...path, 'auth', 'cookie_passthrough'],
      issues,
    )
    headerPassthrough = passHeaders(
      data.auth?.header_passthrough,
      [...path, 'auth', 'header_passthrough'],
      issues,
    )
  }
  const oauth2 = oauth2Raw && toOAuth2Config(oauth2Raw, data.url, oauth2Path, issues, files)
  const rawUser = data.auth !== 'none' ? data.auth?.user_token : undefined
  const userPath = [...path, 'auth', 'user_token']
  const userToken = rawUser && toUserTokenConfig(rawUser, data.url)
  const headers = staticHeaders(data.headers ?? {}, oauth2, [...path, 'headers'], issues)
  checkServerUrl(
    data.url,
    { oauth2, userToken, cookiePassthrough, headerPassthrough, headers },
    data.allow_insecure_http === true,
    [...path, 'url'],
    issues,
  )
  if (userToken?.actor === 'service' && oauth2 === undefined)
    issues.add([...userPath, 'actor'], 'service needs the server to have a service token (auth.oauth2)')

  let tls: TlsConfig | undefined
  if (data.tls) {
    if ((data.tls.cert_file === undefined) !== (data.tls.key_file === undefined)) {
      issues.add([...path, 'tls'], 'cert_file and key_file go together (mutual TLS)')
    }
    const tlsPath = [...path, 'tls']
    tls = compact({
      caFile: tlsFile(data.tls.ca_file, [...tlsPath, 'ca_file'], issues, files),
      certFile: tlsFile(data.tls.cert_file, [...tlsPath, 'cert_file'], issues, files),
      keyFile: tlsFile(data.tls.key_file, [...tlsPath, 'key_file'], issues, files),
      rejectUnauthorized: data.tls.reject_unauthorized,
    })
  }

  return compact({
    name,
    url: data.url,
    transport: data.transport === 'sse' ? ('sse' as const) : ('streamable-http' as const),
    oauth2,
    userToken,
    cookiePassthrough,
    headerPassthrough,
    headers,
    tls,
    allowInsecureHttp: data.allow_insecure_http,
  })
}

function cookies(
  raw: RawServerAuthObject['cookie_passthrough'],
  path: ConfigPath,
  issues: IssueList,
): CookiePassthroughConfig | undefined {
  if (raw === undefined) return undefined
  const spec = Array.isArray(raw) ? { cookie_names: raw } : raw
  if (spec.enabled === false) return undefined
  const allow = unique(spec.cookie_names ?? [])
  const prefixes = unique(spec.cookie_prefixes ?? [])
  if (allow.length === 0 && prefixes.length === 0) {
    issues.add(path, 'lists no cookie_names: name the cookies to forward, or set enabled: false')
    return undefined
  }
  const config = compact({ allow, allowPrefixes: prefixes.length > 0 ? prefixes : undefined })
  try {
    createCookieFilter(config)
  } catch (err) {
    issues.add(path, err instanceof Error ? err.message : 'rejected by the cookie filter')
    return undefined
  }
  return config
}

function passHeaders(
  raw: RawServerAuthObject['header_passthrough'],
  path: ConfigPath,
  issues: IssueList,
): HeaderPassthroughConfig | undefined {
  if (raw === undefined) return undefined
  const spec = Array.isArray(raw) ? { header_names: raw } : raw
  if (spec.enabled === false) return undefined
  const allow = unique((spec.header_names ?? []).map((n) => n.toLowerCase()))
  const rename = spec.rename
    ? Object.fromEntries(
        Object.entries(spec.rename).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()]),
      )
    : undefined
  if (allow.length === 0 && (rename === undefined || Object.keys(rename).length === 0)) {
    issues.add(path, 'lists no header_names: name the headers to forward, or set enabled: false')
    return undefined
  }
  const config = compact({ allow, rename })
  // The filter's own construction-time rules (hop-by-hop, cookie/authorization, rename
  // conflicts) are the single source of truth; its messages name headers, never values.
  try {
    createHeaderFilter(config)
  } catch (err) {
    issues.add(path, err instanceof Error ? err.message : 'rejected by the header filter')
    return undefined
  }
  return config
}

type RawServerAuthObject = Exclude<NonNullable<RawServer['auth']>, 'none'>

// ---------------------------------------------------------------------------------------------
// LiteLLM shape
// ---------------------------------------------------------------------------------------------

function liteLLMServer(
  name: string,
  raw: Record<string, unknown>,
  path: ConfigPath,
  defaultOAuth2: RawOAuth2 | undefined,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): ServerConfig | undefined {
  const rest: Record<string, unknown> = { ...raw }
  for (const [key, message] of Object.entries(LITELLM_UNSUPPORTED_KEYS)) {
    if (key in rest) {
      issues.add([...path, key], `is not supported: ${message}`)
      delete rest[key]
    }
  }
  const parsed = rawLiteLLMServerSchema.safeParse(rest)
  if (!parsed.success) {
    addZodIssues(issues, path, parsed.error.issues)
    return undefined
  }
  const data: RawLiteLLMServer = parsed.data
  const before = issues.size

  let transport: ServerConfig['transport']
  const t = data.transport?.toLowerCase()
  if (t === undefined) {
    // LiteLLM servers often omit it; an endpoint path ending in /sse is the legacy transport.
    transport = new URL(data.url).pathname.replace(/\/+$/, '').endsWith('/sse') ? 'sse' : 'streamable-http'
  } else if (t === 'http' || t === 'streamable-http' || t === 'streamable_http') {
    transport = 'streamable-http'
  } else if (t === 'sse') {
    transport = 'sse'
  } else if (t === 'stdio') {
    issues.add([...path, 'transport'], 'stdio servers are not supported (remote http/sse servers only)')
    return undefined
  } else {
    issues.add([...path, 'transport'], 'must be one of http, sse')
    return undefined
  }

  const authType = data.auth_type?.toLowerCase()
  let oauth2Raw: RawOAuth2 | undefined
  let userRaw: RawUserToken | undefined
  const oauthKeys = ['client_id', 'client_secret', 'token_url', 'scopes', 'oauth2_flow'] as const
  const assertionKeys = ['assertion', 'assertion_file'] as const
  const exchangeKeys = [
    'token_exchange_endpoint',
    'id_jag_resource_token_endpoint',
    'id_jag_client_id',
    'id_jag_client_secret',
    'audience',
    'resource',
    'subject_token_type',
    'requested_token_type',
  ] as const
  const onlyWith = (keys: readonly (keyof RawLiteLLMServer)[], what: string) => {
    for (const key of keys)
      if (data[key] !== undefined) issues.add([...path, key], `is only used with ${what}`)
  }
  if (authType === 'oauth2') {
    const flow = data.oauth2_flow?.toLowerCase()
    const jwtBearer = flow === 'jwt_bearer'
    if (flow !== undefined && flow !== 'client_credentials' && !jwtBearer) {
      issues.add(
        [...path, 'oauth2_flow'],
        flow === 'authorization_code'
          ? 'authorization_code (interactive) is not supported: only client_credentials and jwt_bearer'
          : 'must be client_credentials or jwt_bearer',
      )
    }
    onlyWith(exchangeKeys, 'auth_type: oauth2_token_exchange or oauth2_id_jag')
    if (!jwtBearer) onlyWith(assertionKeys, 'oauth2_flow: jwt_bearer')
    if (data.token_url === undefined) {
      issues.add(
        [...path, 'token_url'],
        'is required: LiteLLM oauth2 without token_url is the interactive flow, which is not supported',
      )
    }
    if (data.client_id === undefined) issues.add([...path, 'client_id'], 'is required with auth_type: oauth2')
    if (data.client_secret === undefined && !jwtBearer)
      issues.add([...path, 'client_secret'], 'is required with auth_type: oauth2')
    if (jwtBearer && (data.assertion === undefined) === (data.assertion_file === undefined))
      issues.add(path, 'oauth2_flow: jwt_bearer needs one of assertion or assertion_file')
    if (data.token_url && data.client_id && (data.client_secret || jwtBearer)) {
      oauth2Raw = {
        allow_insecure_http: data.allow_insecure_http,
        token_url: data.token_url,
        client_id: data.client_id,
        client_secret: data.client_secret,
        scope: data.scopes,
        ...(jwtBearer
          ? {
              grant_type: 'jwt_bearer' as const,
              assertion: data.assertion,
              assertion_file: data.assertion_file,
            }
          : {}),
      }
      checkInsecureUrl(
        data.token_url,
        data.allow_insecure_http === true,
        [...path, 'token_url'],
        issues,
        'a client credential',
      )
    }
  } else if (authType === 'oauth2_token_exchange' || authType === 'oauth2_id_jag') {
    const idJag = authType === 'oauth2_id_jag'
    onlyWith(['token_url', 'oauth2_flow', ...assertionKeys], 'auth_type: oauth2')
    if (!idJag)
      onlyWith(
        ['id_jag_resource_token_endpoint', 'id_jag_client_id', 'id_jag_client_secret'],
        'auth_type: oauth2_id_jag',
      )
    if (data.token_exchange_endpoint === undefined)
      issues.add([...path, 'token_exchange_endpoint'], `is required with auth_type: ${authType}`)
    if (data.client_id === undefined)
      issues.add([...path, 'client_id'], `is required with auth_type: ${authType}`)
    if (idJag) {
      onlyWith(['subject_token_type', 'requested_token_type'], 'auth_type: oauth2_token_exchange')
      for (const key of [
        'id_jag_resource_token_endpoint',
        'id_jag_client_id',
        'id_jag_client_secret',
      ] as const)
        if (data[key] === undefined) issues.add([...path, key], 'is required with auth_type: oauth2_id_jag')
    }
    if (issues.size === before && data.token_exchange_endpoint && data.client_id) {
      // LiteLLM's names: for ID-JAG the IdP client is client_id/client_secret and the MCP
      // authorization server's is id_jag_client_id/id_jag_client_secret.
      const allowInsecure =
        data.allow_insecure_http === undefined ? {} : { allow_insecure_http: data.allow_insecure_http }
      userRaw = idJag
        ? {
            ...allowInsecure,
            grant_type: 'id_jag',
            token_url: data.id_jag_resource_token_endpoint,
            client_id: data.id_jag_client_id!,
            client_secret: data.id_jag_client_secret,
            scope: data.scopes,
            resource: data.resource,
            audience: data.audience,
            idp: {
              token_url: data.token_exchange_endpoint,
              client_id: data.client_id,
              client_secret: data.client_secret,
              ...(data.client_secret === undefined ? { token_endpoint_auth_method: 'none' as const } : {}),
            },
          }
        : {
            ...allowInsecure,
            grant_type: 'token_exchange',
            token_url: data.token_exchange_endpoint,
            client_id: data.client_id,
            client_secret: data.client_secret,
            ...(data.client_secret === undefined ? { token_endpoint_auth_method: 'none' as const } : {}),
            scope: data.scopes,
            resource: data.resource,
            audience: data.audience,
            subject_token_type: data.subject_token_type,
            requested_token_type: data.requested_token_type,
          }
      checkUserToken(userRaw as Record<string, unknown>, path, issues)
      // The same rule as checkUserTokenUrls, at LiteLLM's keys: every endpoint gets a user's token.
      const endpoints = idJag
        ? (['token_exchange_endpoint', 'id_jag_resource_token_endpoint'] as const)
        : (['token_exchange_endpoint'] as const)
      for (const key of endpoints) {
        const value = data[key]
        if (value !== undefined)
          checkInsecureUrl(value, data.allow_insecure_http === true, [...path, key], issues, "users' tokens")
      }
    }
  } else if (authType === undefined || authType === 'none') {
    for (const key of [...oauthKeys, ...assertionKeys, ...exchangeKeys]) {
      if (data[key] !== undefined) issues.add([...path, key], 'is only used with an oauth2 auth_type')
    }
    if (authType === undefined) oauth2Raw = defaultOAuth2
  } else {
    issues.add(
      [...path, 'auth_type'],
      `${authType} is not supported (oauth2, oauth2_token_exchange, oauth2_id_jag and none are); send fixed credentials with static_headers`,
    )
  }
  if (issues.size > before) return undefined

  const oauth2Path = authType === 'oauth2' ? path : ['mcp_config', 'default_oauth2']
  const oauth2 = oauth2Raw && toOAuth2Config(oauth2Raw, data.url, oauth2Path, issues, files)
  const userToken = userRaw && toUserTokenConfig(userRaw, data.url)
  const headers = staticHeaders(data.static_headers ?? {}, oauth2, [...path, 'static_headers'], issues)
  const passthrough = data.extra_headers
    ? passHeaders({ header_names: data.extra_headers }, [...path, 'extra_headers'], issues)
    : undefined
  checkServerUrl(
    data.url,
    { oauth2, userToken, headerPassthrough: passthrough, headers },
    data.allow_insecure_http === true,
    [...path, 'url'],
    issues,
  )
  return compact({
    name,
    url: data.url,
    transport,
    oauth2,
    userToken,
    headerPassthrough: passthrough,
    headers,
    allowInsecureHttp: data.allow_insecure_http,
  })
}

// ---------------------------------------------------------------------------------------------
// Shared rules
// ---------------------------------------------------------------------------------------------

const present = (obj: Record<string, unknown>, key: string): boolean =>
  obj[key] !== undefined && obj[key] !== null
const truthy = (value: unknown): boolean =>
  value === true || (typeof value === 'string' && parseBoolean(value) === true)

/** Cross-key rules of an `oauth2` mapping, checked on the raw values. */
function checkOAuth2(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const endpoints = ['token_url', 'issuer'].filter((k) => present(raw, k))
  if (truthy(raw['discover'])) endpoints.push('discover')
  if (endpoints.length === 0) {
    issues.add(path, 'needs one of token_url, issuer or discover: true')
  } else if (endpoints.length > 1) {
    issues.add(path, `token_url, issuer and discover are mutually exclusive (found ${endpoints.join(', ')})`)
  }

  const jwtBearer = raw['grant_type'] === 'jwt_bearer'
  const assertions = ['assertion', 'assertion_file'].filter((k) => present(raw, k))
  if (jwtBearer && assertions.length !== 1) {
    issues.add(
      path,
      assertions.length === 0
        ? 'grant_type: jwt_bearer needs one of assertion or assertion_file'
        : 'assertion and assertion_file are mutually exclusive',
    )
  }
  if (!jwtBearer) {
    for (const key of assertions) issues.add([...path, key], 'only applies with grant_type: jwt_bearer')
  }
  const credentials = ['client_secret', 'private_key', 'private_key_file'].filter((k) => present(raw, k))
  if (credentials.length === 0 && !jwtBearer) {
    issues.add(path, 'needs one of client_secret, private_key or private_key_file')
  } else if (credentials.length > 1) {
    issues.add(
      path,
      `client_secret, private_key and private_key_file are mutually exclusive (found ${credentials.join(', ')})`,
    )
  }
  const hasSecret = present(raw, 'client_secret')
  const hasKey = present(raw, 'private_key') || present(raw, 'private_key_file')
  const method = raw['token_endpoint_auth_method']
  if (method === 'private_key_jwt' && !hasKey && hasSecret) {
    issues.add(
      [...path, 'token_endpoint_auth_method'],
      'private_key_jwt needs private_key or private_key_file',
    )
  }
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !hasSecret && hasKey) {
    issues.add([...path, 'token_endpoint_auth_method'], `${method} needs client_secret`)
  }
  const basic = hasSecret && (method === undefined || method === 'client_secret_basic')
  if (present(raw, 'basic_credentials_encoding') && !basic) {
    issues.add([...path, 'basic_credentials_encoding'], 'only applies with client_secret_basic')
  }
  if (!hasKey) {
    for (const key of ['private_key_algorithm', 'private_key_id']) {
      if (present(raw, key)) issues.add([...path, key], 'only applies with private_key or private_key_file')
    }
  }
  const key = raw['private_key']
  if (typeof key === 'string' && key !== '') checkPrivateKeyText(key, [...path, 'private_key'], issues)
  if (isPlainObject(key)) checkJwk(key, [...path, 'private_key'], issues)

  // The token endpoint (or the issuer whose metadata names it) gets the client secret, the
  // client assertion or the jwt-bearer grant's assertion: never over plain http.
  const insecure = truthy(raw['allow_insecure_http'])
  for (const k of ['token_url', 'issuer']) {
    const value = raw[k]
    if (typeof value === 'string')
      checkInsecureUrl(
        value,
        insecure,
        [...path, k],
        issues,
        jwtBearer ? 'an assertion' : 'a client credential',
      )
  }
}

/** Cross-key rules of an `auth.user_token` mapping (and the LiteLLM keys mapped onto one). */
function checkUserToken(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const endpoints = ['token_url', 'issuer'].filter((k) => present(raw, k))
  if (truthy(raw['discover'])) endpoints.push('discover')
  if (endpoints.length === 0) issues.add(path, 'needs one of token_url, issuer or discover: true')
  else if (endpoints.length > 1)
    issues.add(path, `token_url, issuer and discover are mutually exclusive (found ${endpoints.join(', ')})`)
  const credentials = ['client_secret', 'private_key'].filter((k) => present(raw, k))
  if (credentials.length > 1) issues.add(path, 'client_secret and private_key are mutually exclusive')
  const method = raw['token_endpoint_auth_method']
  if (method === 'none' && credentials.length > 0)
    issues.add([...path, 'token_endpoint_auth_method'], 'none takes no client_secret or private_key')
  if (method !== 'none' && credentials.length === 0)
    issues.add(path, 'needs client_secret or private_key (or token_endpoint_auth_method: none)')
  if (method === 'private_key_jwt' && !present(raw, 'private_key'))
    issues.add([...path, 'token_endpoint_auth_method'], 'private_key_jwt needs private_key')
  const key = raw['private_key']
  if (typeof key === 'string' && key !== '') checkPrivateKeyText(key, [...path, 'private_key'], issues)
  if (isPlainObject(key)) checkJwk(key, [...path, 'private_key'], issues)
  const grant = raw['grant_type']
  const idp = raw['idp']
  if (grant === 'id_jag') {
    if (!isPlainObject(idp)) issues.add([...path, 'idp'], 'is required with grant_type: id_jag')
    else {
      const idpEndpoints = ['token_url', 'issuer'].filter((k) => present(idp, k))
      if (idpEndpoints.length !== 1) issues.add([...path, 'idp'], 'needs one of token_url or issuer')
    }
    if (present(raw, 'actor')) issues.add([...path, 'actor'], 'only applies with grant_type: token_exchange')
    for (const k of ['subject_token_type', 'requested_token_type'])
      if (present(raw, k))
        issues.add(
          [...path, k],
          'only applies with grant_type: token_exchange (id_jag: idp.subject_token_type)',
        )
  } else if (grant === 'token_exchange' && present(raw, 'idp')) {
    issues.add([...path, 'idp'], 'only applies with grant_type: id_jag')
  }
}

/** The insecure-http rule for the authorization servers of an `auth.user_token` mapping. */
function checkUserTokenUrls(raw: Record<string, unknown>, path: ConfigPath, issues: IssueList): void {
  const idp = raw['idp']
  // Every authorization server of the grant gets a user's token (the subject token, the ID token
  // or the ID-JAG made of it), and the client's credential when it has one.
  const insecure = truthy(raw['allow_insecure_http'])
  for (const k of ['token_url', 'issuer']) {
    const value = raw[k]
    if (typeof value === 'string') checkInsecureUrl(value, insecure, [...path, k], issues, "users' tokens")
    const idpValue = isPlainObject(idp) ? idp[k] : undefined
    if (typeof idpValue === 'string')
      checkInsecureUrl(idpValue, insecure, [...path, 'idp', k], issues, "users' tokens")
  }
}

function toUserTokenConfig(raw: RawUserToken, serverUrl: string): UserTokenConfig {
  const idp = raw.idp
  return compact({
    grantType: raw.grant_type,
    clientId: raw.client_id,
    clientSecret: raw.client_secret === undefined ? undefined : new Secret(raw.client_secret),
    privateKey: raw.private_key === undefined ? undefined : new Secret(privateKeyValue(raw.private_key)),
    privateKeyAlgorithm: raw.private_key_algorithm,
    privateKeyId: raw.private_key_id,
    tokenEndpointAuthMethod: raw.token_endpoint_auth_method,
    tokenUrl: raw.token_url,
    issuer: raw.issuer,
    resourceServerUrl: raw.discover === true ? serverUrl : undefined,
    scopes: splitScopes(raw.scope),
    resource: raw.resource === undefined ? undefined : unique([raw.resource].flat()),
    audience: raw.audience === undefined ? undefined : unique([raw.audience].flat()),
    subjectTokenType: raw.subject_token_type && tokenTypeUrnOf(raw.subject_token_type),
    requestedTokenType: raw.requested_token_type && tokenTypeUrnOf(raw.requested_token_type),
    actor: raw.actor,
    idp:
      idp &&
      compact({
        tokenUrl: idp.token_url,
        issuer: idp.issuer,
        clientId: idp.client_id,
        clientSecret: idp.client_secret === undefined ? undefined : new Secret(idp.client_secret),
        tokenEndpointAuthMethod: idp.token_endpoint_auth_method,
        subjectTokenType: idp.subject_token_type && tokenTypeUrnOf(idp.subject_token_type),
      }),
    refreshSkewSeconds: raw.refresh_skew_seconds,
    timeoutMs: raw.timeout_ms,
    allowInsecureHttp: raw.allow_insecure_http,
  })
}

/** A token type's URN from its short name (`id_token`, `id-jag`, …); a URN stays as it is. */
function tokenTypeUrnOf(value: string): string {
  if (value.includes(':')) return value
  return `urn:ietf:params:oauth:token-type:${value}`
}

/**
 * Check private-key text without ever echoing it: PKCS#8 PEM (`BEGIN PRIVATE KEY`) or a JWK as JSON.
 * Also used by the Node loader for `private_key_file` contents.
 */
export function checkPrivateKeyText(text: string, path: ConfigPath | string, issues: IssueList): void {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let jwk: unknown
    try {
      jwk = JSON.parse(trimmed)
    } catch {
      issues.add(path, 'looks like a JWK but is not valid JSON')
      return
    }
    if (isPlainObject(jwk)) checkJwk(jwk, path, issues)
    else issues.add(path, 'must be a PKCS#8 PEM private key or a private JWK')
    return
  }
  if (/-----BEGIN (RSA |EC |OPENSSH )PRIVATE KEY-----/.test(trimmed)) {
    issues.add(path, 'must be PKCS#8 PEM (BEGIN PRIVATE KEY); convert with: openssl pkcs8 -topk8 -nocrypt')
    return
  }
  if (!trimmed.includes('-----BEGIN PRIVATE KEY-----')) {
    issues.add(path, 'must be a PKCS#8 PEM private key (BEGIN PRIVATE KEY) or a private JWK')
  }
}

function checkJwk(jwk: Record<string, unknown>, path: ConfigPath | string, issues: IssueList): void {
  if (typeof jwk['kty'] !== 'string') issues.add(path, 'is not a JWK (no kty)')
  else if (jwk['d'] === undefined) issues.add(path, 'is a public JWK: a private key (with d) is needed')
}

/** The private key value: a JWK when it is JSON text or a mapping, else PEM text. */
export function privateKeyValue(value: string | Record<string, unknown>): string | JWK {
  if (typeof value !== 'string') return value as JWK
  const trimmed = value.trim()
  if (!trimmed.startsWith('{')) return value
  try {
    return JSON.parse(trimmed) as JWK
  } catch {
    return value // reported by checkPrivateKeyText
  }
}

/** What a server's URL receives, besides its url. */
interface ServerCredentials {
  oauth2?: OAuth2Config | undefined
  userToken?: UserTokenConfig | undefined
  cookiePassthrough?: CookiePassthroughConfig | undefined
  headerPassthrough?: HeaderPassthroughConfig | undefined
  headers: Readonly<Record<string, string>>
}

/**
 * No credential of any kind over plain http to a host that is not loopback: the bearer token,
 * users' tokens, user cookies, user headers (one renamed to `authorization` above all) and static
 * headers. Allowed by the server's own `allow_insecure_http` or its client's (`auth.oauth2`,
 * `auth.user_token`), as `createAuthFetch` is by `allowInsecureHttp`. Without any credential,
 * plain http is fine.
 */
function checkServerUrl(
  url: string,
  sent: ServerCredentials,
  serverAllows: boolean,
  path: ConfigPath,
  issues: IssueList,
): void {
  const what = serverCredentials({
    bearer: sent.oauth2 !== undefined,
    userToken: sent.userToken !== undefined,
    cookies: sent.cookiePassthrough !== undefined,
    headers: sent.headerPassthrough !== undefined,
    renamedToAuthorization: Object.values(sent.headerPassthrough?.rename ?? {}).includes('authorization'),
    staticHeaders: Object.keys(sent.headers).length > 0,
  })
  if (what === '') return
  const allowed =
    serverAllows || sent.oauth2?.allowInsecureHttp === true || sent.userToken?.allowInsecureHttp === true
  checkInsecureUrl(url, allowed, path, issues, what)
}

function staticHeaders(
  raw: Record<string, string>,
  oauth2: OAuth2Config | undefined,
  path: ConfigPath,
  issues: IssueList,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase()
    if (isForbiddenStaticHeader(lower))
      issues.add(
        [...path, name],
        `${lower} is a hop-by-hop, framing or protocol header that is never configurable`,
      )
    else if (lower === 'authorization' && oauth2) {
      issues.add([...path, name], 'conflicts with oauth2, which sets Authorization')
    }
    out[lower] = value
  }
  return redactedHeaders(out)
}

/** Largest assertion file read at load (the provider reads it again, as it rotates). */
const MAX_ASSERTION_FILE_BYTES = 64 * 1024

/** An assertion file path: resolved and checked readable when file access is available. */
function assertionFile(
  file: string | undefined,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): string | undefined {
  if (file === undefined || files === undefined) return file
  const absolute = files.resolve(file)
  try {
    files.read(absolute, MAX_ASSERTION_FILE_BYTES)
  } catch (err) {
    issues.add(path, `${absolute} ${files.describeError(err)}`)
  }
  return absolute
}

/** A TLS file path: resolved and checked readable when file access is available. */
function tlsFile(
  file: string | undefined,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): string | undefined {
  if (file === undefined || files === undefined) return file
  const absolute = files.resolve(file)
  try {
    files.read(absolute, MAX_TLS_FILE_BYTES)
  } catch (err) {
    issues.add(path, `${absolute} ${files.describeError(err)}`)
  }
  return absolute
}

/**
 * Raw (validated) oauth2 mapping → normalised. `serverUrl` backs `discover: true`; with file
 * access, `private_key_file` is read into `privateKey` (and checked) here.
 */
function toOAuth2Config(
  raw: RawOAuth2,
  serverUrl: string,
  path: ConfigPath,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): OAuth2Config {
  let privateKey = raw.private_key === undefined ? undefined : new Secret(privateKeyValue(raw.private_key))
  let privateKeyFile = raw.private_key_file
  if (privateKeyFile !== undefined && files !== undefined) {
    privateKeyFile = files.resolve(privateKeyFile)
    const keyPath = [...path, 'private_key_file']
    let text: string | undefined
    try {
      text = files.read(privateKeyFile, MAX_PRIVATE_KEY_FILE_BYTES)
    } catch (err) {
      issues.add(keyPath, `${privateKeyFile} ${files.describeError(err)}`)
    }
    if (text !== undefined) {
      const before = issues.size
      checkPrivateKeyText(text, keyPath, issues)
      if (issues.size === before) privateKey = new Secret(privateKeyValue(text))
    }
  }
  return compact({
    grantType: raw.grant_type,
    assertion: raw.assertion === undefined ? undefined : new Secret(raw.assertion),
    assertionFile: assertionFile(raw.assertion_file, [...path, 'assertion_file'], issues, files),
    clientId: raw.client_id,
    clientSecret: raw.client_secret === undefined ? undefined : new Secret(raw.client_secret),
    privateKey,
    privateKeyFile,
    privateKeyAlgorithm: raw.private_key_algorithm,
    privateKeyId: raw.private_key_id,
    tokenEndpointAuthMethod: raw.token_endpoint_auth_method,
    basicCredentialsEncoding: raw.basic_credentials_encoding,
    tokenUrl: raw.token_url,
    issuer: raw.issuer,
    resourceServerUrl: raw.discover === true ? serverUrl : undefined,
    scopes: splitScopes(raw.scope),
    resource: raw.resource === undefined ? undefined : unique([raw.resource].flat()),
    audience: raw.audience,
    extraParams: raw.extra_params,
    refreshSkewSeconds: raw.refresh_skew_seconds,
    timeoutMs: raw.timeout_ms,
    allowInsecureHttp: raw.allow_insecure_http,
  })
}

/**
 * RFC 6749 §3.3: space-delimited; a list may hold space-delimited items too. Files may fold a long
 * value over lines or use tabs, so any whitespace separates here before the one scope parser runs.
 */
export function splitScopes(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return []
  return parseScope([scope].flat().flatMap((s) => parseScope(s.replace(/\s+/g, ' '))))
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)]
}

/** Drop `undefined` properties, so normalised objects print and compare cleanly. */
function compact<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key]
  return obj
}

export { defaultEnv } from './internal/config-interpolate.js'

/**
 * Text or parsed document → normalised config, throwing one `ConfigError` with every issue.
 * `files` (Node loader only) resolves and reads `private_key_file` and TLS paths.
 */
export function parseConfigInput(
  input: unknown,
  env: EnvLike,
  file: string | undefined,
  files: ConfigFileAccess | undefined,
): McpConfig {
  const issues = new IssueList()
  const document = typeof input === 'string' ? parseText(input, issues) : input
  issues.throwIfAny(file)
  const interpolated = interpolateEnv(ownPart(document), env, [], issues)
  const config = normaliseConfig(interpolated, issues, files)
  issues.throwIfAny(file)
  return config
}

/** Aliases a document may expand; more is a "billion laughs" bomb, not a configuration. */
const MAX_YAML_ALIASES = 100

/** Parse YAML (JSON is YAML 1.2) without echoing the text: `yaml`'s own messages quote the line. */
function parseText(text: string, issues: IssueList): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = error.linePos?.[0]
      const where = pos ? `line ${pos.line}, column ${pos.col}` : `offset ${error.pos[0]}`
      issues.add(`(${where})`, `YAML syntax error ${error.code}`)
    }
    return undefined
  }
  // Warnings (e.g. unknown tags) are not fatal; values are plain data either way. An alias bomb
  // makes `toJS` throw its own ReferenceError: report it as an issue like any other problem.
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES })
  } catch {
    issues.add('(document)', `YAML aliases expand too far (more than ${MAX_YAML_ALIASES} alias uses)`)
    return undefined
  }
}

/**
 * Only `mcp_config`, `mcp_servers` and `rate_limits` are ours: the rest of a LiteLLM
 * `config.yaml` (`model_list`, `general_settings`, …) is neither validated nor interpolated, so
 * its `os.environ/…` references need not be set for us.
 */
function ownPart(document: unknown): unknown {
  if (!isPlainObject(document)) return document
  const own: Record<string, unknown> = {}
  for (const key of ['mcp_config', 'mcp_servers', 'rate_limits'])
    if (key in document) own[key] = document[key]
  return own
}
