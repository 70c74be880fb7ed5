import { isScopeToken, parseScope } from './scope.js'

/** Options of {@link createToolScopePolicy}. */
export interface ToolScopePolicyOptions {
  /**
   * What to do with a tool the map does not name: `'deny'` (no scopes can authorize it) or
   * `'allow'` (it requires `defaultScopes`).
   * @default 'deny'
   */
  unknownTool?: 'deny' | 'allow'
  /**
   * Scopes an unknown tool requires when `unknownTool` is `'allow'`. Setting it with
   * `unknownTool: 'deny'` is a `TypeError` (the two contradict each other).
   * @default []
   */
  defaultScopes?: readonly string[]
}

/** The outcome of {@link ToolScopePolicy.check}. */
export type ToolScopeDecision =
  | { readonly allowed: true; readonly tool: string; readonly requiredScopes: readonly string[] }
  | {
      readonly allowed: false
      readonly tool: string
      /** `unknown_tool`: the map does not name it and unknown tools are denied. */
      readonly reason: 'unknown_tool' | 'insufficient_scope'
      /** `null` for a denied unknown tool. */
      readonly requiredScopes: readonly string[] | null
      readonly missingScopes: readonly string[]
    }

/** Which scopes each MCP tool requires. */
export interface ToolScopePolicy {
  /**
   * The scopes `tool` requires (all of them), or `null` when no scopes can authorize it (an unknown
   * tool under `unknownTool: 'deny'`). `null` rather than `undefined`: passed on as
   * `verify(token, { requiredScopes })`, `undefined` would mean "the verifier's default scopes" and
   * silently let the call through; `null` does not type-check there, and `verify` rejects it.
   */
  requiredScopesFor(tool: string): readonly string[] | null
  /** Whether `scopes` (the token's) authorize `tool`, with what is missing when they do not. */
  check(tool: string, scopes: readonly string[]): ToolScopeDecision
  /** The tools the map names. */
  readonly tools: readonly string[]
}

function scopeTokens(value: unknown, name: string): readonly string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && isScopeToken(s))) {
    throw new TypeError(
      `"${name}" must be an array of scope tokens (RFC 6749 §3.3: visible ASCII, no spaces)`,
    )
  }
  return Object.freeze(parseScope(value as string[]))
}

/**
 * A policy mapping MCP tool names to the scopes they require (all of them). Tools the map does not
 * name are denied unless `unknownTool: 'allow'`.
 *
 * @example
 * ```ts
 * const policy = createToolScopePolicy({
 *   get_customer_info: ['customer:read'],
 *   create_support_ticket: ['ticket:create'],
 * })
 * policy.requiredScopesFor('get_customer_info') // ['customer:read']
 * policy.requiredScopesFor('drop_tables')       // null: denied
 * declare const token: AccessToken
 * policy.check('create_support_ticket', token.scopes).allowed
 * ```
 * @see RFC 6750 §3.1 (insufficient_scope)
 */
export function createToolScopePolicy(
  map: Readonly<Record<string, readonly string[]>>,
  options: ToolScopePolicyOptions = {},
): ToolScopePolicy {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new TypeError('"map" must be an object of tool name → scopes')
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object')
  const unknownTool = options.unknownTool ?? 'deny'
  if (unknownTool !== 'deny' && unknownTool !== 'allow')
    throw new TypeError(`"unknownTool" must be 'deny' or 'allow'`)
  if (unknownTool === 'deny' && options.defaultScopes !== undefined) {
    throw new TypeError(`"defaultScopes" applies to unknown tools only with unknownTool: 'allow'`)
  }
  const defaultScopes = scopeTokens(options.defaultScopes ?? [], 'defaultScopes')
  // A Map, not the object: a lookup of "constructor" or "__proto__" must not find Object.prototype.
  const scopes = new Map<string, readonly string[]>()
  for (const tool of Object.keys(map)) {
    scopes.set(tool, scopeTokens(map[tool], `map["${tool}"]`))
  }
  const tools = Object.freeze([...scopes.keys()])

  function requiredScopesFor(tool: string): readonly string[] | null {
    const known = scopes.get(tool)
    if (known !== undefined) return known
    return unknownTool === 'allow' ? defaultScopes : null
  }

  return {
    tools,
    requiredScopesFor,
    check: function checkToolScopes(tool: string, held: readonly string[]): ToolScopeDecision {
      const required = requiredScopesFor(tool)
      if (required === null) {
        return { allowed: false, tool, reason: 'unknown_tool', requiredScopes: null, missingScopes: [] }
      }
      const missing = required.filter((s) => !held.includes(s))
      if (missing.length === 0) return { allowed: true, tool, requiredScopes: required }
      return {
        allowed: false,
        tool,
        reason: 'insufficient_scope',
        requiredScopes: required,
        missingScopes: missing,
      }
    },
  }
}
