import { parseDocument } from 'yaml'
import type { McpConfig } from '../config.js'
import { type EnvLike, interpolateEnv, isPlainObject } from './config-interpolate.js'
import { IssueList } from './config-issues.js'
import { type ConfigFileAccess, normaliseConfig } from './config-normalise.js'

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
  // Warnings (e.g. unknown tags) are not fatal; values are plain data either way.
  return doc.toJS({ maxAliasCount: 100 })
}

/**
 * Only `mcp_config` and `mcp_servers` are ours: the rest of a LiteLLM `config.yaml` (`model_list`,
 * `general_settings`, …) is neither validated nor interpolated, so its `os.environ/…` references
 * need not be set for us.
 */
function ownPart(document: unknown): unknown {
  if (!isPlainObject(document)) return document
  const own: Record<string, unknown> = {}
  for (const key of ['mcp_config', 'mcp_servers']) if (key in document) own[key] = document[key]
  return own
}
