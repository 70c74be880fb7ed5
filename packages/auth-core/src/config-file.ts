/**
 * Loading a configuration file (Node only: exported from `@mcp-oauth2/auth-core/node`, so the
 * root entry stays free of `node:` imports).
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { ConfigEnv } from './config.js'
import { parseConfigInput } from './config-normalise.js'
import type { McpConfig } from './config-schema.js'
import { configError } from './internal/config-issues.js'

/** Options of {@link loadConfigFile}. */
export interface LoadConfigFileOptions {
  /**
   * Variables for `${VAR}`, `${VAR:-default}` and LiteLLM's `os.environ/VAR`.
   * @default process.env
   */
  env?: ConfigEnv | undefined
}

/**
 * Read, validate and normalise a YAML or JSON configuration file (the seed's shape or LiteLLM's
 * `config.yaml`). Relative `private_key_file`, `tls.ca_file`, `tls.cert_file` and `tls.key_file`
 * are resolved against the file's directory; the private key is read into `oauth2.privateKey`
 * (a `Secret`) and the TLS files are checked readable (their absolute paths are kept).
 *
 * Every problem is thrown at once as a `ConfigError` whose `file` is the path and whose
 * `issues` name the path inside it (`mcp_servers.crm.auth.oauth2.client_id`).
 *
 * @example
 * ```ts
 * import { loadConfigFile } from '@mcp-oauth2/auth-core/node'
 * const config = await loadConfigFile('config.yaml', { env: process.env })
 * ```
 */
export async function loadConfigFile(path: string, options: LoadConfigFileOptions = {}): Promise<McpConfig> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code
    throw configError(
      [{ path: '(file)', message: `cannot read ${file}${typeof code === 'string' ? ` (${code})` : ''}` }],
      path,
    )
  }
  const dir = dirname(file)
  // Key and TLS files are small and read once at startup; sync reads keep the normaliser simple.
  const cache = new Map<string, string>()
  return parseConfigInput(text, options.env ?? process.env, path, {
    resolve: (p) => resolve(dir, p),
    read: (p) => {
      let content = cache.get(p)
      if (content === undefined) {
        content = readFileSync(p, 'utf8')
        cache.set(p, content)
      }
      return content
    },
  })
}
