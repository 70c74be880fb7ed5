/**
 * Configuration from a YAML/JSON document ({@link parseConfig}). The normalised types are in
 * `config-schema.ts`, environment-only configuration in `config-from-env.ts`; reading files is
 * Node-only: `loadConfigFile` from `@mcp-oauth2/auth-core/node`.
 *
 * Two file shapes are accepted and normalise to the same {@link McpConfig}: the seed's
 * (`mcp_servers.<name>.auth.oauth2`, `mcp_config.default_oauth2`) and LiteLLM's
 * (`mcp_servers.<name>.auth_type: oauth2`, `client_id`, `token_url`, `scopes`, …).
 * Reference: https://github.com/mcp-oauth2-kit/mcp-oauth2-kit/blob/main/docs/configuration.md
 */
import { defaultEnv, parseConfigInput } from './config-normalise.js'
import type { McpConfig } from './config-schema.js'
import type { EnvLike } from './internal/config-interpolate.js'

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
 * import { readFileSync } from 'node:fs'
 * const config = parseConfig(readFileSync('config.yaml', 'utf8'), { env: process.env }) // YAML or JSON text, or an object
 * for (const server of Object.values(config.servers)) console.log(server.name, server.url)
 * ```
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): McpConfig {
  return parseConfigInput(input, options.env ?? defaultEnv(), options.file, undefined)
}
