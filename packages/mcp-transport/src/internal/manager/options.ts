import { createToolScopePolicy, type ToolScopePolicy } from '@mcp-oauth2/auth-core'
import type { Implementation } from '@modelcontextprotocol/sdk/types.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import { createEmitter, type Emit, type McpManagerEvent } from './events.js'
import type { McpSdk, McpVersionNegotiation } from './mcp-client.js'
import { positiveOption, type ReconnectOptions, type ReconnectPolicy, reconnectPolicy } from './reconnect.js'

/** What of `McpServerManagerBaseOptions` {@link resolveManagerOptions} checks and resolves. */
export interface ManagerOptionsInput {
  readonly now?: (() => number) | undefined
  readonly toolScopes?: ToolScopePolicy | Readonly<Record<string, readonly string[]>> | undefined
  readonly retry?: ReconnectOptions | false | undefined
  readonly clientInfo?: Implementation | undefined
  readonly connectTimeoutMs?: number | undefined
  readonly sdk?: McpSdk | undefined
  readonly versionNegotiation?: McpVersionNegotiation | undefined
}

/** The manager's options, checked, with their defaults. */
export interface ResolvedManagerOptions {
  readonly now: () => number
  readonly policy: ToolScopePolicy | undefined
  readonly reconnect: ReconnectPolicy | undefined
  readonly clientInfo: Implementation
  readonly connectTimeoutMs: number
  readonly sdk: McpSdk
  readonly negotiation: McpVersionNegotiation
}

const DEFAULT_CLIENT_INFO: Implementation = { name: 'mcp-oauth2-kit', version: '0.1.0' }

/** `toolScopes` as a policy: a policy as it is, a map through `createToolScopePolicy`. */
export function toPolicy(scopes: ManagerOptionsInput['toolScopes']): ToolScopePolicy | undefined {
  if (scopes === undefined) return undefined
  return typeof (scopes as ToolScopePolicy).requiredScopesFor === 'function'
    ? (scopes as ToolScopePolicy)
    : createToolScopePolicy(scopes as Readonly<Record<string, readonly string[]>>)
}

/**
 * The manager's options resolved once, in one place; a bad value throws a `TypeError` naming
 * the option. The caller's object is not changed.
 */
export function resolveManagerOptions(options: ManagerOptionsInput): ResolvedManagerOptions {
  const now = options.now ?? Date.now
  if (typeof now !== 'function') throw new TypeError('"now" must be a function')
  const policy = toPolicy(options.toolScopes)
  const reconnect = reconnectPolicy(options.retry)
  const clientInfo = options.clientInfo ?? DEFAULT_CLIENT_INFO
  const sdk = options.sdk ?? 'v1'
  if (sdk !== 'v1' && sdk !== 'v2') throw new TypeError("\"sdk\" must be 'v1' or 'v2'")
  const negotiation = options.versionNegotiation ?? 'auto'
  if (
    negotiation !== 'auto' &&
    negotiation !== 'legacy' &&
    !(typeof negotiation === 'object' && negotiation !== null && typeof negotiation.pin === 'string')
  )
    throw new TypeError("\"versionNegotiation\" must be 'auto', 'legacy' or { pin }")
  const connectTimeoutMs = positiveOption(options.connectTimeoutMs, 10_000, 'connectTimeoutMs')
  return { now, policy, reconnect, clientInfo, connectTimeoutMs, sdk, negotiation }
}

/** The servers' configs, checked for a name used twice (a `TypeError` naming it). */
export function uniqueNames<T extends { readonly name: string }>(configs: readonly T[]): readonly T[] {
  const names = new Set<string>()
  for (const config of configs) {
    if (names.has(config.name)) throw new TypeError(`server name "${config.name}" is used twice`)
    names.add(config.name)
  }
  return configs
}

/**
 * The manager's emitter: events go to the telemetry (metrics of denials, refusals and outages
 * come from them) and to `onEvent`; without either, events cost nothing.
 */
export function managerEmitter(
  telemetry: Telemetry | undefined,
  onEvent: ((event: McpManagerEvent) => void) | undefined,
): Emit | undefined {
  return createEmitter(
    telemetry
      ? (event) => {
          telemetry.observe(event)
          onEvent?.(event)
        }
      : onEvent,
  )
}
