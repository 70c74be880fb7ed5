/**
 * The engine behind `parseConfig`, `configFromEnv` and `loadConfigFile`: text or a parsed
 * document (after environment interpolation) → normalised `McpConfig`. Each server is checked in
 * the shape it is written in: the seed's (`config-normalise-seed.ts`) or LiteLLM's
 * (`config-normalise-litellm.ts`); what every shape shares is in `config-normalise-server.ts`
 * and `config-normalise-clients.ts`. Cross-key rules are checked on the raw values
 * (`internal/config-client-rules.ts`), so that every problem is reported even when zod found
 * others in the same object.
 *
 * Not exported from the package, yet not in `internal/`: these files build public values
 * (`Secret`s, the `config-schema.ts` types) and validate passthrough settings with the public
 * filters' own rules, and `internal/` imports nothing public. The leaf helpers are in `internal/`.
 */
import { toTokenStoreConfig } from './config-normalise-clients.js'
import { liteLLMServer } from './config-normalise-litellm.js'
import { seedServer } from './config-normalise-seed.js'
import { normaliseRateLimits } from './config-rate-limits.js'
import type { McpConfig, ServerConfig, TokenStoreConfig } from './config-schema.js'
import { checkOAuth2 } from './internal/config-client-rules.js'
import type { ConfigFileAccess } from './internal/config-file-access.js'
import { LITELLM_ONLY_KEYS, type RawOAuth2, rawMcpConfigSchema } from './internal/config-file-schema.js'
import { type EnvLike, interpolateEnv, isPlainObject } from './internal/config-interpolate.js'
import { addZodIssues, IssueList } from './internal/config-issues.js'
import { checkTokenStore } from './internal/config-token-store-rules.js'
import { compact } from './internal/config-values.js'
import { ownPart, parseText } from './internal/config-yaml.js'

/** Server names: they end up in tool-name prefixes and log lines. */
const SERVER_NAME = /^[A-Za-z0-9_-]+$/
/** Names that would reach `Object.prototype` when used as keys of a plain object. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * A document (interpolated) → normalised config, every problem added to `issues`; servers with
 * an issue are left out. `files` (Node loader only) reads the files the document names.
 */
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
