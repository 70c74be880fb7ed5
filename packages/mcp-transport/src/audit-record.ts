/**
 * The audit trail's schema: every manager event as one flat, versioned record (who, what,
 * outcome, latency), for log pipelines and security monitors. See the sinks in audit-sinks.ts.
 */
import type { McpManagerEvent } from './internal/manager/events.js'

/** The schema name and version every record carries; a breaking change gets a new version. */
export const AUDIT_SCHEMA = 'mcp-oauth2.audit/v1'

/** How loud a record is: `warn` for refusals, retries and outages, `error` for failures. */
export type AuditSeverity = 'info' | 'warn' | 'error'

/** One audit record (JSON-safe: strings, numbers, booleans, arrays, plain objects). */
export interface AuditRecord {
  readonly schema: typeof AUDIT_SCHEMA
  /** When it happened, ISO 8601 (from the event's `at`). */
  readonly timestamp: string
  /** The event's `type`. */
  readonly event: McpManagerEvent['type']
  readonly severity: AuditSeverity
  /**
   * Who: a user (`id`: the `userId` of `withUserContext`, or `sha256:…` of the identifying cookie
   * or header; absent when the manager cannot tell users apart), the service (a call outside any
   * user context), or the manager itself (`system`: connecting, tokens, stores).
   */
  readonly who: { readonly kind: 'user' | 'service' | 'system'; readonly id?: string }
  /** What: the server, tool and store concerned; the decision on a call; the scopes involved. */
  readonly what: {
    readonly server?: string
    readonly tool?: string
    readonly qualifiedName?: string
    readonly store?: 'rate_limits' | 'tokens'
    /** For calls: `allowed` (it reached the server), `denied` (scopes) or `rate_limited`. */
    readonly decision?: 'allowed' | 'denied' | 'rate_limited'
    readonly scopes?: {
      /** What the tool scope policy requires (`null`: no scope can authorize it). */
      readonly required?: readonly string[] | null
      /** What the service token lacked. */
      readonly missing?: readonly string[]
      /** What a new token was granted (`token`) or requested for (step-up). */
      readonly granted?: readonly string[]
      readonly requested?: readonly string[]
    }
  }
  /** How it ended: `result`, and our code and reason when there is one. */
  readonly outcome: {
    readonly result:
      | 'ok'
      | 'tool_error'
      | 'error'
      | 'denied'
      | 'rate_limited'
      | 'retried'
      | 'connected'
      | 'tools_changed'
      | 'unavailable'
      | 'available'
    readonly code?: string
    readonly reason?: string
  }
  /** How long it took, in milliseconds. */
  readonly latencyMs: number
  /** Fields of this event type only (limit and retry time, attempts, tool counts, …). */
  readonly details?: Readonly<Record<string, string | number | boolean>>
}

function who(user: boolean, userId: string | undefined): AuditRecord['who'] {
  if (!user) return { kind: 'service' }
  return userId === undefined ? { kind: 'user' } : { kind: 'user', id: userId }
}

const SYSTEM = { kind: 'system' } as const

/**
 * The audit record of a manager event. It holds what the event holds, and events never hold a
 * token, secret or cookie value.
 *
 * @example
 * ```ts
 * import type { McpConfig } from '@mcp-oauth2/auth-core'
 * declare const config: McpConfig // from parseConfig or loadConfigFile
 * declare const siem: { send(record: AuditRecord): void } // your SIEM's client
 * const manager = McpServerManager.fromConfig(config, { onEvent: (e) => siem.send(toAuditRecord(e)) })
 * ```
 */
export function toAuditRecord(event: McpManagerEvent): AuditRecord {
  const base = {
    schema: AUDIT_SCHEMA,
    timestamp: new Date(event.at).toISOString(),
    event: event.type,
    latencyMs: event.durationMs,
  } as const
  switch (event.type) {
    case 'tool_call': {
      const result = !event.isError ? 'ok' : event.code === undefined ? 'tool_error' : 'error'
      return {
        ...base,
        severity: result === 'error' ? 'error' : 'info',
        who: who(event.user, event.userId),
        what: {
          server: event.server,
          tool: event.tool,
          qualifiedName: event.qualifiedName,
          decision: 'allowed',
          scopes: { required: event.requiredScopes },
        },
        outcome: event.code === undefined ? { result } : { result, code: event.code },
        details: { reconnected: event.reconnected },
      }
    }
    case 'denied':
      return {
        ...base,
        severity: 'warn',
        who: who(event.user, event.userId),
        what: {
          server: event.server,
          tool: event.tool,
          qualifiedName: event.qualifiedName,
          decision: 'denied',
          scopes: { required: event.requiredScopes, missing: event.missingScopes },
        },
        outcome: { result: 'denied', code: 'ERR_SCOPE_DENIED', reason: event.reason },
      }
    case 'rate_limited':
      return {
        ...base,
        severity: 'warn',
        who: who(event.user, event.userId),
        what: {
          server: event.server,
          tool: event.tool,
          qualifiedName: event.qualifiedName,
          decision: 'rate_limited',
        },
        outcome: { result: 'rate_limited', code: 'ERR_RATE_LIMITED', reason: event.scope },
        details: { limit: event.limit, windowMs: event.windowMs, retryAfterMs: event.retryAfterMs },
      }
    case 'auth_retry':
      return {
        ...base,
        severity: 'warn',
        who: SYSTEM,
        what: { server: event.server, ...(event.scopes ? { scopes: { requested: event.scopes } } : {}) },
        outcome: { result: 'retried', reason: event.reason },
        details: { status: event.status },
      }
    case 'token':
      return {
        ...base,
        severity: 'info',
        who: SYSTEM,
        what: { server: event.server, scopes: { granted: event.scopes } },
        outcome: { result: 'ok' },
        details: { expiresAt: new Date(event.expiresAt).toISOString() },
      }
    case 'error':
      return {
        ...base,
        severity: 'error',
        who: SYSTEM,
        what: { server: event.server },
        outcome: { result: 'error', code: event.code, reason: event.phase },
        details: {
          ...(event.attempt === undefined ? {} : { attempt: event.attempt }),
          ...(event.retryInMs === undefined ? {} : { retryInMs: event.retryInMs }),
        },
      }
    case 'connected':
      return {
        ...base,
        severity: 'info',
        who: SYSTEM,
        what: { server: event.server },
        outcome: { result: 'connected' },
        details: { toolCount: event.toolCount, reconnect: event.reconnect },
      }
    case 'tools_changed':
      return {
        ...base,
        severity: 'info',
        who: SYSTEM,
        what: { server: event.server },
        outcome: { result: 'tools_changed' },
        details: { toolCount: event.toolCount },
      }
    case 'store':
      return {
        ...base,
        severity: event.state === 'unavailable' ? 'warn' : 'info',
        who: SYSTEM,
        what: { store: event.store },
        outcome:
          event.code === undefined ? { result: event.state } : { result: event.state, code: event.code },
      }
  }
}
