import type { ToolScopePolicy } from '@mcp-oauth2/auth-core'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { currentUserContext } from '../user-context-store.js'
import type { Identify, UserIdentity } from '../user-identity.js'
import type { Emit } from './events.js'
import { failureCode } from './failure-code.js'
import type { ManagedServer } from './managed-server.js'
import { preflight, type ScopeVerifier } from './preflight.js'
import type { RateLimiter } from './rate-limiter.js'
import type { CallToolOptions } from './server-status.js'
import type { ManagedTool } from './tool-index.js'

/** What a tool call goes through besides its server: the limits, the scope check, the events. */
export interface ToolCallSettings {
  readonly limiter: RateLimiter | undefined
  readonly policy: ToolScopePolicy | undefined
  readonly verifier: ScopeVerifier | ((server: string) => ScopeVerifier | undefined) | undefined
  readonly emit: Emit | undefined
  readonly now: () => number
  readonly identify: Identify
}

/**
 * One tool call, in the caller's context: the rate limits first (a refused call does not even ask
 * for a token), then the pre-flight scope check (with a policy and a service token), then the
 * call on its server; a `tool_call` event either way (with the failure's code when it threw).
 * `start` is when `callTool` was entered (the manager's `now`).
 */
export async function callManagedTool(
  settings: ToolCallSettings,
  server: ManagedServer,
  tool: ManagedTool,
  args: Record<string, unknown>,
  options: CallToolOptions,
  start: number,
): Promise<CallToolResult> {
  const { now, emit } = settings
  const context = currentUserContext()
  const user = context !== undefined
  const identity: UserIdentity = settings.identify(context)
  await settings.limiter?.check({
    server: tool.server,
    tool: tool.name,
    qualifiedName: tool.qualifiedName,
    identity,
    user,
  })
  if (settings.policy && server.provider) {
    const verifier =
      typeof settings.verifier === 'function' ? settings.verifier(tool.server) : settings.verifier
    await preflight({
      provider: server.provider,
      tool,
      verifier,
      emit,
      now,
      start,
      user,
      userId: identity.id,
    })
  }
  let reconnected = false
  const emitCall = (isError: boolean, code?: string) =>
    emit?.({
      type: 'tool_call',
      at: now(),
      server: tool.server,
      tool: tool.name,
      qualifiedName: tool.qualifiedName,
      durationMs: now() - start,
      isError,
      requiredScopes: tool.requiredScopes,
      user,
      userId: identity.id,
      reconnected,
      ...(code === undefined ? {} : { code }),
    })
  try {
    const result = await server.callTool(tool.name, args, options, () => {
      reconnected = true
    })
    emitCall(result.isError === true)
    return result
  } catch (err) {
    emitCall(true, failureCode(err))
    throw err
  }
}
