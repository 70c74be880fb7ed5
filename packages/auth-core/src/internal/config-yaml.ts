/**
 * A configuration's text → its document: YAML (JSON is YAML 1.2) parsed without echoing the
 * text, aliases capped, and only our own top-level keys kept.
 */
import { parseDocument } from 'yaml'
import { isPlainObject } from './config-interpolate.js'
import type { IssueList } from './config-issues.js'

/** Aliases a document may expand; more is a "billion laughs" bomb, not a configuration. */
const MAX_YAML_ALIASES = 100

/** Parse YAML (JSON is YAML 1.2) without echoing the text: `yaml`'s own messages quote the line. */
export function parseText(text: string, issues: IssueList): unknown {
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
export function ownPart(document: unknown): unknown {
  if (!isPlainObject(document)) return document
  const own: Record<string, unknown> = {}
  for (const key of ['mcp_config', 'mcp_servers', 'rate_limits'])
    if (key in document) own[key] = document[key]
  return own
}
