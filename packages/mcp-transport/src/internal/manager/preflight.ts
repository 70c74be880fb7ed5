import {
  AuthCoreError,
  ErrorCode,
  InsufficientScopeError,
  type TokenProvider,
  type ToolScopePolicy,
} from '@mcp-oauth2/auth-core'
import { ScopeDeniedError, type ScopeDeniedReason } from '../../errors.js'
import type { Emit } from './events.js'
import type { ManagedTool } from './tool-index.js'

/** What the pre-flight check needs of a verifier: `JwtScopeVerifier` fits. */
export interface ScopeVerifier {
  verify(
    token: string,
    options?: { requiredScopes?: readonly string[] },
  ): Promise<{ readonly scopes: readonly string[] }>
}

/** Why the pre-flight check refused a call. */
export interface ScopeDenial {
  readonly reason: ScopeDeniedReason
  readonly missing: readonly string[]
  readonly cause?: unknown
}

const SEPARATOR = '__'

/**
 * The scopes a tool requires under `policy`: a `<server>__<tool>` key wins over the plain name;
 * `[]` without a policy; `null` when the policy allows no scope to call it.
 */
export function requiredScopes(
  policy: ToolScopePolicy | undefined,
  server: string,
  tool: string,
): readonly string[] | null {
  if (!policy) return []
  const qualified = `${server}${SEPARATOR}${tool}`
  return policy.requiredScopesFor(policy.tools.includes(qualified) ? qualified : tool)
}

/**
 * The pre-flight scope check: whether the service token may call a tool that requires
 * `required`, judged by the verifier's verified scopes when there is one, else by the token
 * response's scopes. Resolves the denial, or `undefined` when the call may go. Errors other than
 * a refusal (the verifier's keys are unavailable, no token) are thrown.
 *
 * @see RFC 6750 §3.1 (insufficient_scope)
 */
export async function checkScopes(
  provider: TokenProvider,
  required: readonly string[] | null,
  verifier: ScopeVerifier | undefined,
): Promise<ScopeDenial | undefined> {
  if (required === null) return { reason: 'unknown_tool', missing: [] }
  if (required.length === 0 && !verifier) return undefined
  const token = await provider.getToken()
  if (!verifier) {
    const missing = required.filter((s) => !token.scopes.includes(s))
    return missing.length > 0 ? { reason: 'insufficient_scope', missing } : undefined
  }
  try {
    await verifier.verify(token.value, { requiredScopes: required })
    return undefined
  } catch (err) {
    if (err instanceof InsufficientScopeError) {
      return { reason: 'insufficient_scope', missing: err.missingScopes, cause: err }
    }
    if (err instanceof AuthCoreError && err.code === ErrorCode.InvalidToken) {
      return { reason: 'invalid_token', missing: [], cause: err }
    }
    throw err
  }
}

/** What {@link preflight} checks, and where it reports. */
export interface PreflightCall {
  readonly provider: TokenProvider
  readonly tool: ManagedTool
  readonly verifier: ScopeVerifier | undefined
  readonly emit: Emit | undefined
  readonly now: () => number
  /** When the call started (for the event's duration), epoch ms. */
  readonly start: number
  /** Whether the call runs inside `withUserContext`. */
  readonly user: boolean
  /** Who the call is for (see the events). */
  readonly userId: string | undefined
}

/**
 * The pre-flight check of a tool call: when it refuses, a `denied` event and a
 * `ScopeDeniedError` (`ERR_SCOPE_DENIED`), and nothing is sent to the MCP server.
 */
export async function preflight(call: PreflightCall): Promise<void> {
  const { tool, now } = call
  const required = tool.requiredScopes
  const denial = await checkScopes(call.provider, required, call.verifier)
  if (!denial) return
  call.emit?.({
    type: 'denied',
    at: now(),
    server: tool.server,
    tool: tool.name,
    qualifiedName: tool.qualifiedName,
    durationMs: now() - call.start,
    reason: denial.reason,
    requiredScopes: required,
    missingScopes: [...denial.missing],
    user: call.user,
    userId: call.userId,
  })
  throw new ScopeDeniedError(tool.server, tool.name, {
    reason: denial.reason,
    requiredScopes: required,
    missingScopes: denial.missing,
    cause: denial.cause,
  })
}
