import type { AccessToken, GetTokenOptions, TokenProvider } from '@mcp-oauth2/auth-core'
import type { McpCauseCode, RateLimitScope, ScopeDeniedReason } from '../../errors.js'
import { failureCode } from './failure-code.js'

interface EventBase {
  /** When it happened, epoch ms (the manager's `now`). */
  readonly at: number
  readonly server: string
  readonly durationMs: number
}

/**
 * Who a call was for, on the events of calls: `userId` of `withUserContext`, or `sha256:<hex>` of
 * the cookie or header `rateLimits.identify` names; `undefined` for the service or a user the
 * manager cannot tell apart.
 */
interface CallerBase {
  /** Whether the call ran inside `withUserContext`. */
  readonly user: boolean
  readonly userId: string | undefined
}

/** An audit event of the manager. No token, secret or cookie value is ever part of one. */
export type McpManagerEvent =
  /** A token provider handed out a token it had not handed out before (a fetch or a refresh). */
  | (EventBase & {
      readonly type: 'token'
      readonly tool: undefined
      readonly expiresAt: number
      readonly scopes: readonly string[]
    })
  /** A tool call reached the server (`isError`: the call threw or the result is an error). */
  | (EventBase &
      CallerBase & {
        readonly type: 'tool_call'
        readonly tool: string
        readonly qualifiedName: string
        readonly isError: boolean
        /** What the tool scope policy requires (`[]` without one). */
        readonly requiredScopes: readonly string[] | null
        /** Whether the session had expired and the call was retried on a new one. */
        readonly reconnected: boolean
        /** The failure's code, when the call threw. */
        readonly code?: McpCauseCode
      })
  /** The pre-flight scope check refused a call; nothing was sent to the server. */
  | (EventBase &
      CallerBase & {
        readonly type: 'denied'
        readonly tool: string
        readonly qualifiedName: string
        readonly reason: ScopeDeniedReason
        readonly requiredScopes: readonly string[] | null
        readonly missingScopes: readonly string[]
      })
  /** A rate limit refused a call; nothing was sent (no token request, no MCP request). */
  | (EventBase &
      CallerBase & {
        readonly type: 'rate_limited'
        readonly tool: string
        readonly qualifiedName: string
        /** Which limit: each user's, the tool's, the server's or the global one. */
        readonly scope: RateLimitScope
        readonly limit: number
        readonly windowMs: number
        readonly retryAfterMs: number
      })
  /**
   * The MCP server challenged a request and the auth fetch retried it once: a 401
   * (`invalid_token`: the token was dropped and a new one sent) or a 403 `insufficient_scope`
   * (step-up: a token for more scopes). Many in a short time are a 401 storm.
   */
  | (EventBase & {
      readonly type: 'auth_retry'
      readonly tool: undefined
      readonly status: 401 | 403
      readonly reason: 'invalid_token' | 'insufficient_scope'
      /** For a step-up: the scopes the new token was requested for. */
      readonly scopes?: readonly string[]
    })
  /** Something failed: connecting, refreshing the tool list, or getting a token. */
  | (EventBase & {
      readonly type: 'error'
      readonly tool: undefined
      readonly phase: 'connect' | 'refresh' | 'token'
      readonly code: McpCauseCode
      /** For `connect`: consecutive failed attempts. */
      readonly attempt?: number
      /** For `connect`: delay before the next background attempt, when one is scheduled. */
      readonly retryInMs?: number
    })
  /** A server connected (again) and its tools were listed. */
  | (EventBase & {
      readonly type: 'connected'
      readonly tool: undefined
      readonly toolCount: number
      readonly reconnect: boolean
    })
  /** A server announced `notifications/tools/list_changed` and its tools were listed again. */
  | (EventBase & { readonly type: 'tools_changed'; readonly tool: undefined; readonly toolCount: number })
  /**
   * A shared store (the rate limits' or the token store's Redis) failed (`unavailable`, once per
   * outage: calls go on, counted or cached in this process) or answers again (`available`).
   */
  | {
      readonly type: 'store'
      readonly at: number
      readonly server: undefined
      readonly tool: undefined
      readonly durationMs: number
      readonly store: 'rate_limits' | 'tokens'
      readonly state: 'unavailable' | 'available'
      /** For `unavailable`: the failure's code. */
      readonly code?: McpCauseCode
    }

/** Emits events to a listener; a listener that throws is ignored (an audit log must not break calls). */
export type Emit = (event: McpManagerEvent) => void

/** An {@link Emit} for `onEvent`; without a listener, events cost nothing. */
export function createEmitter(onEvent: ((event: McpManagerEvent) => void) | undefined): Emit | undefined {
  if (!onEvent) return undefined
  return function emit(event: McpManagerEvent): void {
    try {
      onEvent(event)
    } catch {
      // An audit listener must not break tool calls.
    }
  }
}

/**
 * Wraps a token provider to emit `token` events (a token not handed out before: a fetch or a
 * refresh) and `error` events (phase `token`). `seen` is shared by every wrapper of one provider,
 * so servers that share a provider emit one `token` event per token.
 */
export function observeTokenProvider(
  provider: TokenProvider,
  server: string,
  emit: Emit,
  now: () => number,
  seen: { value: string | undefined },
): TokenProvider {
  /** Emits a `token` event for a token not handed out before. */
  function handedOut(token: AccessToken, start: number): AccessToken {
    if (token.value !== seen.value) {
      seen.value = token.value
      const at = now()
      emit({
        type: 'token',
        at,
        server,
        tool: undefined,
        durationMs: at - start,
        expiresAt: token.expiresAt,
        scopes: [...token.scopes],
      })
    }
    return token
  }
  const observed: TokenProvider = {
    async getToken(options?: GetTokenOptions): Promise<AccessToken> {
      const start = now()
      let token: AccessToken
      try {
        token = await provider.getToken(options)
      } catch (err) {
        const at = now()
        emit({
          type: 'error',
          at,
          server,
          tool: undefined,
          durationMs: at - start,
          phase: 'token',
          code: failureCode(err),
        })
        throw err
      }
      return handedOut(token, start)
    },
    invalidate(rejected?: string): void {
      provider.invalidate(rejected)
    },
  }
  if (typeof provider.cachedToken === 'function') {
    observed.cachedToken = (options?: GetTokenOptions): AccessToken | undefined => {
      const start = now()
      const token = provider.cachedToken?.(options)
      return token === undefined ? undefined : handedOut(token, start)
    }
  }
  return observed
}

/**
 * Observes the service's token providers for `token` and `error` events: a provider shared by
 * several servers emits one `token` event per new token (the last value seen is kept per
 * underlying provider).
 */
export function tokenObserver(
  emit: Emit,
  now: () => number,
): (provider: TokenProvider, server: string) => TokenProvider {
  const seen = new WeakMap<TokenProvider, { value: string | undefined }>()
  return function observe(provider, server) {
    const last = seen.get(provider) ?? { value: undefined }
    seen.set(provider, last)
    return observeTokenProvider(provider, server, emit, now, last)
  }
}

/** A server's auth fetch's retries (a 401/403 answered once) as `auth_retry` events. */
export function authRetryListener(
  emit: Emit,
  server: string,
): (
  retry: Pick<Extract<McpManagerEvent, { type: 'auth_retry' }>, 'at' | 'status' | 'reason' | 'scopes'>,
) => void {
  return function onAuthRetry(retry) {
    emit({
      type: 'auth_retry',
      at: retry.at,
      server,
      tool: undefined,
      durationMs: 0,
      status: retry.status,
      reason: retry.reason,
      ...(retry.scopes ? { scopes: retry.scopes } : {}),
    })
  }
}
