import {
  type AccessToken,
  isScopeToken,
  parseScope,
  scopeKey,
  type TokenProvider,
  type ToolScopePolicy,
} from '@mcp-oauth2/auth-core'
import { bearerChallenge } from '../www-authenticate.js'
import {
  discard,
  isReplayable,
  type ServerInit,
  type ServerMiddleware,
  USER_AUTHORIZATION,
} from './request.js'

/** How long a scope set the authorization server refused is not requested again, ms. */
export const STEP_UP_REFUSED_MS = 30_000
/** At most this many step-up scopes are kept and sent with later token requests. */
export const MAX_STEP_UP_SCOPES = 32
/** A challenged scope longer than this (characters) is not stepped up to. */
export const MAX_SCOPE_LENGTH = 256
/** Refused scope sets remembered at most (then forgotten all at once). */
const MAX_REFUSED = 256
/** Tools whose step-up scopes are remembered at most (then forgotten all at once). */
const MAX_TOOLS = 256

/**
 * The tool a request calls, from the `Mcp-Method` and `Mcp-Name` headers MCP 2026-07-28 clients
 * send (SEP-2243; a value that is not plain ASCII comes as `=?base64?…?=`). The body is never read.
 */
export function toolOfRequest(headers: Headers): string | undefined {
  if (headers.get('mcp-method') !== 'tools/call') return undefined
  const name = headers.get('mcp-name')?.trim()
  if (!name) return undefined
  const wrapped = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(name)
  if (!wrapped) return name.length <= 256 ? name : undefined
  try {
    const decoded = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(atob(wrapped[1] as string), (c) => c.charCodeAt(0)),
    )
    return decoded.length > 0 && decoded.length <= 256 ? decoded : undefined
  } catch {
    return undefined
  }
}

/** A challenge the bearer step answers with one retry. */
export interface AuthRetry {
  readonly status: 401 | 403
  /** `invalid_token`: a new token; `insufficient_scope`: a token for more scopes (step-up). */
  readonly reason: 'invalid_token' | 'insufficient_scope'
  /** For a step-up: the scopes the new token is requested for. */
  readonly scopes?: readonly string[]
}

/** Options of {@link bearer}. */
export interface BearerOptions {
  readonly tokenProvider: TokenProvider
  /** Scopes a 403 may make us request: a set, any (`'any'`), or none (`false`). */
  readonly stepUp: ReadonlySet<string> | 'any' | false
  /** Clock for the step-up pause, epoch ms. */
  readonly now: () => number
  /** Told of each retry, before it is sent (events, metrics). Must not throw. */
  readonly onRetry?: ((retry: AuthRetry) => void) | undefined
  /**
   * Scopes per tool: a request whose `Mcp-Name` names a tool gets a token with the scopes the
   * policy requires for it, up front (no 403 round trip).
   */
  readonly toolScopes?: ToolScopePolicy | undefined
}

/**
 * Adds the service's bearer token (RFC 6750 §2.1) and answers the server's challenges once:
 * a 401 `invalid_token` (or a 401 without `error`) drops exactly the token that was sent and
 * retries with a new one; a 403 `insufficient_scope` retries with a token for the held and the
 * challenged scopes (step-up), which later requests keep using. Never a loop: the retry's answer
 * is the answer. A request that carries the user's own credential is left alone.
 *
 * The step-up set is bounded ({@link MAX_STEP_UP_SCOPES} scopes, each at most
 * {@link MAX_SCOPE_LENGTH} characters and a valid scope token), so a server cannot make every
 * later token request carry what it asked for; a scope set the authorization server refused is
 * not asked for again for {@link STEP_UP_REFUSED_MS}.
 *
 * @see RFC 6750 §3.1
 */
export function bearer({ tokenProvider, stepUp, now, onRetry, toolScopes }: BearerOptions): ServerMiddleware {
  return function addBearer(next) {
    // Step-up scopes that worked, oldest first, sent with every later token request (of requests
    // that name no tool; a request naming its tool uses that tool's own, below).
    let kept: readonly string[] | undefined
    // Per tool (from Mcp-Name): the step-up scopes that worked for it.
    const keptByTool = new Map<string, readonly string[]>()

    // The merged list per tool, the same array while its parts do not change (providers treat
    // the list as immutable and may memoise on it).
    const merged = new Map<string, { own: readonly string[] | undefined; scopes: readonly string[] }>()

    /** The scopes to ask for: the tool's (policy and step-ups) when the request names it, else the kept ones. */
    function scopesFor(tool: string | undefined): readonly string[] | undefined {
      if (tool === undefined) return kept
      const own = keptByTool.get(tool) ?? kept
      const required = toolScopes?.requiredScopesFor(tool)
      if (!required || required.length === 0) return own
      const memo = merged.get(tool)
      if (memo && memo.own === own) return memo.scopes
      const scopes = [...(own ?? []).filter((s) => !required.includes(s)), ...required].slice(
        -MAX_STEP_UP_SCOPES,
      )
      if (merged.size >= MAX_TOOLS) merged.clear()
      merged.set(tool, { own, scopes })
      return scopes
    }
    // Scope sets the authorization server refused (scopeKey), with when we may ask again.
    const refused = new Map<string, number>()

    function send(
      url: string,
      init: ServerInit,
      scopes: readonly string[] | undefined,
    ): Promise<{ response: Response; token: AccessToken }> {
      return tokenProvider.getToken({ signal: init.signal ?? undefined, scopes }).then((token) => {
        init.headers.set('authorization', `Bearer ${token.value}`)
        return next(url, init).then((response) => ({ response, token }))
      })
    }

    /** The scopes a 403 asks for beyond the held ones; `undefined`: do not step up. */
    function stepUpScopes(
      challenged: string | undefined,
      held: readonly string[],
      base: readonly string[] | undefined,
    ): string[] | undefined {
      if (stepUp === false) return undefined
      const needed = parseScope(challenged ?? '').filter((s) => !held.includes(s))
      if (needed.length === 0 || needed.length > MAX_STEP_UP_SCOPES) return undefined
      for (const scope of needed) {
        if (scope.length > MAX_SCOPE_LENGTH || !isScopeToken(scope)) return undefined
        if (stepUp !== 'any' && !stepUp.has(scope)) return undefined
      }
      // Newest last; the oldest are dropped beyond the bound.
      const merged = [...(base ?? []).filter((s) => !needed.includes(s)), ...needed]
      return merged.slice(-MAX_STEP_UP_SCOPES)
    }

    async function challenged(
      url: string,
      init: ServerInit,
      response: Response,
      token: AccessToken,
      tool: string | undefined,
    ): Promise<Response> {
      if (!isReplayable(init.body)) return response
      const challenge = bearerChallenge(response.headers.get('www-authenticate'))
      const base = scopesFor(tool)
      let scopes = base
      let key: string | undefined
      if (response.status === 401) {
        // RFC 6750 §3.1: invalid_token, or no error at all → drop exactly the token we sent, once.
        if (challenge?.error !== undefined && challenge.error !== 'invalid_token') return response
        tokenProvider.invalidate(token.value)
        onRetry?.({ status: 401, reason: 'invalid_token' })
      } else {
        if (challenge?.error !== 'insufficient_scope') return response
        scopes = stepUpScopes(challenge.scope, token.scopes, base)
        if (scopes === undefined) return response
        key = scopeKey(scopes)
        if ((refused.get(key) ?? 0) > now()) return response
        onRetry?.({ status: 403, reason: 'insufficient_scope', scopes: [...scopes] })
      }
      let retry: { response: Response; token: AccessToken }
      try {
        retry = await send(url, { ...init, headers: new Headers(init.headers) }, scopes)
      } catch (error) {
        // The authorization server refused the step-up (or is down): the server's answer stands,
        // and the same scope set is not requested again for a while.
        if (key === undefined) throw error
        if (refused.size >= MAX_REFUSED) refused.clear()
        refused.set(key, now() + STEP_UP_REFUSED_MS)
        return response
      }
      discard(response)
      // Keep the step-up for later calls once it worked (for this tool only when the request named
      // it); merge, as concurrent 403s may have added others.
      if (key !== undefined && retry.response.ok && scopes !== undefined) {
        const before = tool === undefined ? kept : (keptByTool.get(tool) ?? kept)
        const added = scopes.filter((s) => !(before ?? []).includes(s))
        const merged = [...(before ?? []).filter((s) => !added.includes(s)), ...added].slice(
          -MAX_STEP_UP_SCOPES,
        )
        if (tool === undefined) kept = merged
        else {
          if (keptByTool.size >= MAX_TOOLS && !keptByTool.has(tool)) keptByTool.clear()
          keptByTool.set(tool, merged)
        }
      }
      return retry.response
    }

    return async function withBearer(url: string, init: ServerInit): Promise<Response> {
      if (init[USER_AUTHORIZATION] === true) return next(url, init)
      const tool = toolOfRequest(init.headers)
      const token = await tokenProvider.getToken({
        signal: init.signal ?? undefined,
        scopes: scopesFor(tool),
      })
      init.headers.set('authorization', `Bearer ${token.value}`)
      const response = await next(url, init)
      return response.status === 401 || response.status === 403
        ? challenged(url, init, response, token, tool)
        : response
    }
  }
}
