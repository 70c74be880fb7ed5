import { createHash } from 'node:crypto'
import {
  type AccessToken,
  type GetTokenOptions,
  isScopeToken,
  parseScope,
  scopeKey,
  type TokenProvider,
  type ToolScopePolicy,
} from '@mcp-oauth2/auth-core'
import { McpTransportError, McpTransportErrorCode } from '../../errors.js'
import { currentUserContext, type StoredUserContext } from '../user-context-store.js'
import { parseWwwAuthenticate } from '../www-authenticate.js'
import { authorize, sentAsBearer } from './authorize.js'
import {
  DPOP_TOKEN,
  discard,
  type HeaderReader,
  isReplayable,
  type ServerFetch,
  type ServerInit,
  type ServerMiddleware,
  USER_AUTHORIZATION,
} from './request.js'
import { RequestHeaders } from './request-headers.js'
import { toolOfRequest } from './tool-of-request.js'

/** How long a scope set the authorization server refused is not requested again, ms. */
export const STEP_UP_REFUSED_MS = 30_000
/** At most this many step-up scopes are kept and sent with later token requests. */
export const MAX_STEP_UP_SCOPES = 32
/** A challenged scope longer than this (characters) is not stepped up to. */
export const MAX_SCOPE_LENGTH = 256
/** Refused scope sets remembered at most, per principal (then forgotten all at once). */
const MAX_REFUSED = 256
/** Users whose step-up state (kept and refused scopes) is remembered at most; the oldest go first. */
export const MAX_USER_STEP_UPS = 1024
/** Tools whose step-up scopes are remembered at most, per principal (then forgotten all at once). */
const MAX_TOOLS = 256

/** The options of a service token request with no signal and no scopes beyond the configured ones. */
const NO_OPTIONS: GetTokenOptions = Object.freeze({})

/** A challenge the bearer step answers with one retry. */
export interface AuthRetry {
  readonly status: 401 | 403
  /** `invalid_token`: a new token; `insufficient_scope`: a token for more scopes (step-up). */
  readonly reason: 'invalid_token' | 'insufficient_scope'
  /** For a step-up: the scopes the new token is requested for. */
  readonly scopes?: readonly string[]
}

/**
 * What the bearer step lends the fast lane for the service's own requests (see `fast-lane.ts`):
 * the token it would send from memory, and its answer to a 401 or 403, both with the step's own
 * state (kept and refused step-up scopes), so the lane and the step never disagree.
 */
export interface ServiceBearer {
  /**
   * The service's token for a request with these headers (the tool it names, if any), from
   * memory, when it goes as a bearer token; `undefined` (none in memory, or DPoP-bound): let the
   * step send the request. The lane's copy of the headers (a record or a `Headers`) is read, as
   * {@link RequestHeaders} reads it, only when the token depends on the tool: a tool policy, or
   * step-up scopes kept for a tool.
   */
  cachedToken(
    headers: Readonly<Record<string, string>> | Headers,
    signal: AbortSignal | null | undefined,
  ): AccessToken | undefined
  /** The step's answer to a 401/403 for a request it would have sent with `token` (one retry at most). */
  answer(url: string, sent: ServerInit, response: Response, token: AccessToken): Promise<Response>
}

/** Where a composed bearer step keeps its {@link ServiceBearer}, when it has a service token provider. */
export const SERVICE_BEARER: unique symbol = Symbol('mcp-oauth2.serviceBearer')

/** A composed bearer step. */
export type BearerFetch = ServerFetch & { readonly [SERVICE_BEARER]?: ServiceBearer }

/** Options of {@link bearer}. */
export interface BearerOptions {
  /** The service's tokens: outside a user context, and inside one without a user token. */
  readonly tokenProvider: TokenProvider | undefined
  /** The users' tokens: inside a user context with a `subjectToken` or an `idToken`. */
  readonly userTokenProvider?: TokenProvider | undefined
  /** Scopes a 403 may make us request: a set, any (`'any'`), or none (`false`). */
  readonly stepUp: ReadonlySet<string> | 'any' | false
  /** Clock for the step-up pause, epoch ms. */
  readonly now: () => number
  /** The MCP server's origin, for error messages. */
  readonly origin?: string | undefined
  /** Told of each retry, before it is sent (events, metrics). Must not throw. */
  readonly onRetry?: ((retry: AuthRetry) => void) | undefined
  /**
   * Scopes per tool: a request whose `Mcp-Name` names a tool gets a token with the scopes the
   * policy requires for it, up front (no 403 round trip).
   */
  readonly toolScopes?: ToolScopePolicy | undefined
}

/** Who a request is for, and the step-up scopes that worked (and were refused) for them. */
interface StepUpState {
  /**
   * Step-up scopes that worked, oldest first, sent with every later token request (of requests
   * that name no tool; a request naming its tool uses that tool's own, {@link keptByTool}).
   */
  kept: readonly string[] | undefined
  /** Per tool (from `Mcp-Name`): the step-up scopes that worked for it. */
  readonly keptByTool: Map<string, readonly string[]>
  /** Scope sets the authorization server refused (scopeKey), with when we may ask again. */
  readonly refused: Map<string, number>
}

/** One party tokens are requested for: the service, or one user (by their token). */
interface Principal {
  readonly provider: TokenProvider
  /** The user's `subjectToken` / `idToken` for `getToken`; `undefined` for the service. */
  readonly user: Pick<GetTokenOptions, 'subjectToken' | 'idToken'> | undefined
  /** The step-up state; for a user made on first need. */
  state: StepUpState | undefined
  /** For a user: where the state is kept (a digest of their token). */
  readonly key: (() => string) | undefined
}

/** The user's token(s) of a context, when it has any: the auth fetch then acts for that user. */
export function userCredential(context: StoredUserContext | undefined): StoredUserContext | undefined {
  return context !== undefined && (context.subjectToken !== undefined || context.idToken !== undefined)
    ? context
    : undefined
}

/** A digest naming a user's step-up state: never the token itself. */
function userKey(context: StoredUserContext): string {
  return createHash('sha256')
    .update(context.subjectToken ?? '')
    .update('\0')
    .update(context.idToken ?? '')
    .digest('base64url')
}

/**
 * Adds the bearer token (RFC 6750 §2.1) and answers the server's challenges once: a 401
 * `invalid_token` (or a 401 without `error`) drops exactly the token that was sent and retries
 * with a new one; a 403 `insufficient_scope` retries with a token for the held and the
 * challenged scopes (step-up), which later requests keep using. Never a loop: the retry's answer
 * is the answer. A request that carries the user's own credential (a header renamed to
 * `authorization`) is left alone. A DPoP-bound token goes as `Authorization: DPoP` (the DPoP step
 * below adds its proofs); a `401` whose DPoP challenge says `use_dpop_nonce` or
 * `invalid_dpop_proof` is about the proof, not the token: it is not retried with a new token.
 *
 * Inside a user context with a `subjectToken` or `idToken`, the token is the user's, from
 * `userTokenProvider` (e.g. an RFC 8693 exchange of the user's token): a 401 drops that user's
 * token only, and step-up scopes are kept per user (a scope one user was granted says nothing
 * about another). Without a `userTokenProvider` such a request fails with
 * `ERR_USER_TOKEN_PROVIDER_REQUIRED` before anything is sent: never the service token instead,
 * and never the user's token itself (the MCP spec forbids token passthrough).
 *
 * The step-up set is bounded ({@link MAX_STEP_UP_SCOPES} scopes, each at most
 * {@link MAX_SCOPE_LENGTH} characters and a valid scope token), so a server cannot make every
 * later token request carry what it asked for; a scope set the authorization server refused is
 * not asked for again for {@link STEP_UP_REFUSED_MS}. At most {@link MAX_USER_STEP_UPS} users'
 * step-up states are kept.
 *
 * @see RFC 6750 §3.1, RFC 8693 §2.1
 */
export function bearer({
  tokenProvider,
  userTokenProvider,
  stepUp,
  now,
  origin,
  onRetry,
  toolScopes,
}: BearerOptions): ServerMiddleware {
  return function addBearer(next) {
    const service: Principal | undefined = tokenProvider && {
      provider: tokenProvider,
      user: undefined,
      state: { kept: undefined, keptByTool: new Map(), refused: new Map() },
      key: undefined,
    }
    // The merged list per tool, the same array while its parts do not change (providers treat
    // the list as immutable and may memoise on it).
    const merged = new Map<string, { own: readonly string[] | undefined; scopes: readonly string[] }>()

    /**
     * The scopes a request with these headers asks for. Its tool (`Mcp-Name`) is read only when
     * it can matter: with a tool policy, or with step-up scopes kept for some tool.
     */
    function requestScopes(
      principal: Principal,
      headers: HeaderReader | Readonly<Record<string, string>> | Headers,
    ): readonly string[] | undefined {
      const state = principal.state
      if (toolScopes === undefined && (state?.keptByTool.size ?? 0) === 0) return state?.kept
      // The pipeline's headers, or the lane's copy of them (read as the pipeline reads its own).
      const reader = headers instanceof RequestHeaders ? headers : RequestHeaders.from(headers as HeadersInit)
      return scopesFor(state, toolOfRequest(reader))
    }

    /** The scopes to ask for: the tool's (policy and step-ups) when the request names it, else the kept ones. */
    function scopesFor(
      state: StepUpState | undefined,
      tool: string | undefined,
    ): readonly string[] | undefined {
      if (tool === undefined) return state?.kept
      const own = state?.keptByTool.get(tool) ?? state?.kept
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
    // Users' step-up states, by a digest of their token; least recently used first.
    const users = new Map<string, StepUpState>()

    function userPrincipal(context: StoredUserContext): Principal {
      if (userTokenProvider === undefined) {
        const what = context.subjectToken !== undefined ? 'a subject token' : 'an ID token'
        throw new McpTransportError(
          McpTransportErrorCode.UserTokenProviderRequired,
          `the user context has ${what}, but the auth fetch for ${origin ?? 'the MCP server'} has no userTokenProvider: nothing was sent (neither the service token nor the user's token is sent instead)`,
        )
      }
      const user = { subjectToken: context.subjectToken, idToken: context.idToken }
      let key: string | undefined
      const keyOf = () => {
        key ??= userKey(context)
        return key
      }
      // No digest on the common path: only once some user stepped up.
      let state: StepUpState | undefined
      if (users.size > 0) {
        state = users.get(keyOf())
        if (state !== undefined) {
          users.delete(keyOf())
          users.set(keyOf(), state)
        }
      }
      return { provider: userTokenProvider, user, state, key: keyOf }
    }

    /** The principal's step-up state, made (and for a user, remembered) when first needed. */
    function stateOf(principal: Principal): StepUpState {
      if (principal.state !== undefined) return principal.state
      const state: StepUpState = { kept: undefined, keptByTool: new Map(), refused: new Map() }
      principal.state = state
      const key = principal.key?.()
      if (key !== undefined) {
        if (users.size >= MAX_USER_STEP_UPS) users.delete(users.keys().next().value as string)
        users.set(key, state)
      }
      return state
    }

    function tokenOptions(
      principal: Principal,
      signal: AbortSignal | null | undefined,
      scopes: readonly string[] | undefined,
    ): GetTokenOptions {
      if (principal.user) return { signal: signal ?? undefined, scopes, ...principal.user }
      return signal == null && scopes === undefined ? NO_OPTIONS : { signal: signal ?? undefined, scopes }
    }

    function getToken(
      principal: Principal,
      init: ServerInit,
      scopes: readonly string[] | undefined,
    ): Promise<AccessToken> {
      return principal.provider.getToken(tokenOptions(principal, init.signal, scopes))
    }

    function send(
      url: string,
      init: ServerInit,
      principal: Principal,
      scopes: readonly string[] | undefined,
    ): Promise<{ response: Response; token: AccessToken }> {
      return getToken(principal, init, scopes).then((token) =>
        next(url, authorize(init, token, origin)).then((response) => ({ response, token })),
      )
    }

    /** The scopes a 403 asks for beyond the held ones; `undefined`: do not step up. */
    function stepUpScopes(
      challenged: string | undefined,
      held: readonly string[],
      kept: readonly string[] | undefined,
    ): string[] | undefined {
      if (stepUp === false) return undefined
      const needed = parseScope(challenged ?? '').filter((s) => !held.includes(s))
      if (needed.length === 0 || needed.length > MAX_STEP_UP_SCOPES) return undefined
      for (const scope of needed) {
        if (scope.length > MAX_SCOPE_LENGTH || !isScopeToken(scope)) return undefined
        if (stepUp !== 'any' && !stepUp.has(scope)) return undefined
      }
      // Newest last; the oldest are dropped beyond the bound.
      const merged = [...(kept ?? []).filter((s) => !needed.includes(s)), ...needed]
      return merged.slice(-MAX_STEP_UP_SCOPES)
    }

    async function challenged(
      url: string,
      init: ServerInit,
      response: Response,
      token: AccessToken,
      principal: Principal,
    ): Promise<Response> {
      if (!isReplayable(init.body)) return response
      // The step-up that works is kept for the tool the request names, if it names one.
      const tool = toolOfRequest(init.headers)
      const challenges = parseWwwAuthenticate(response.headers.get('www-authenticate'))
      // The challenge of the scheme we sent (RFC 9449 §7.1), else the Bearer one.
      const challenge = (
        (init[DPOP_TOKEN] !== undefined ? challenges.find((c) => c.scheme === 'dpop') : undefined) ??
        challenges.find((c) => c.scheme === 'bearer')
      )?.params
      const base = scopesFor(principal.state, tool)
      let scopes = base
      let key: string | undefined
      let state: StepUpState | undefined
      if (response.status === 401) {
        // RFC 6750 §3.1: invalid_token, or no error at all → drop exactly the token we sent, once.
        // A DPoP `use_dpop_nonce` / `invalid_dpop_proof` is about the proof (the DPoP step already
        // answered a nonce challenge once): the token stays.
        if (challenge?.error !== undefined && challenge.error !== 'invalid_token') return response
        principal.provider.invalidate(token.value)
        onRetry?.({ status: 401, reason: 'invalid_token' })
      } else {
        if (challenge?.error !== 'insufficient_scope') return response
        scopes = stepUpScopes(challenge.scope, token.scopes, base)
        if (scopes === undefined) return response
        key = scopeKey(scopes)
        if ((principal.state?.refused.get(key) ?? 0) > now()) return response
        state = stateOf(principal)
        onRetry?.({ status: 403, reason: 'insufficient_scope', scopes: [...scopes] })
      }
      let retry: { response: Response; token: AccessToken }
      try {
        retry = await send(url, { ...init, headers: RequestHeaders.from(init.headers) }, principal, scopes)
      } catch (error) {
        // The authorization server refused the step-up (or is down): the server's answer stands,
        // and the same scope set is not requested again for a while.
        if (key === undefined || state === undefined) throw error
        if (state.refused.size >= MAX_REFUSED) state.refused.clear()
        state.refused.set(key, now() + STEP_UP_REFUSED_MS)
        return response
      }
      discard(response)
      // Keep the step-up for later calls once it worked (for this tool only when the request named
      // it); merge, as concurrent 403s may have added others.
      if (state !== undefined && retry.response.ok && scopes !== undefined) {
        const before = (tool === undefined ? state.kept : (state.keptByTool.get(tool) ?? state.kept)) ?? []
        const added = scopes.filter((s) => !before.includes(s))
        const updated = [...before.filter((s) => !added.includes(s)), ...added].slice(-MAX_STEP_UP_SCOPES)
        if (tool === undefined) state.kept = updated
        else {
          if (state.keptByTool.size >= MAX_TOOLS && !state.keptByTool.has(tool)) state.keptByTool.clear()
          state.keptByTool.set(tool, updated)
        }
      }
      return retry.response
    }

    /** Sends the request with `token`, and answers a 401/403 once. */
    function sendWith(
      url: string,
      init: ServerInit,
      principal: Principal,
      token: AccessToken,
    ): Promise<Response> {
      const sent = authorize(init, token, origin)
      return next(url, sent).then((response) =>
        response.status === 401 || response.status === 403
          ? challenged(url, sent, response, token, principal)
          : response,
      )
    }

    /**
     * The token from memory when the provider has one that needs no refresh (`cachedToken`): the
     * request leaves in this turn, with no promise in between; else the provider's `getToken`.
     */
    function authorized(url: string, init: ServerInit, principal: Principal): Promise<Response> {
      try {
        const options = tokenOptions(principal, init.signal, requestScopes(principal, init.headers))
        const provider = principal.provider
        const cached = provider.cachedToken?.(options)
        if (cached !== undefined) return sendWith(url, init, principal, cached)
        return provider.getToken(options).then((token) => sendWith(url, init, principal, token))
      } catch (error) {
        // As from an async function: a failure is a rejected promise, never a throw.
        return Promise.reject(error)
      }
    }

    async function forUser(url: string, init: ServerInit, context: StoredUserContext): Promise<Response> {
      return authorized(url, init, userPrincipal(context))
    }

    const withBearer: BearerFetch = function withBearer(url: string, init: ServerInit): Promise<Response> {
      const user = userCredential(currentUserContext())
      // The user's token replaces whatever else would authorize the request, the service token
      // and a user header renamed to `authorization` alike.
      if (user !== undefined) return forUser(url, init, user)
      if (init[USER_AUTHORIZATION] === true || service === undefined) return next(url, init)
      return authorized(url, init, service)
    }
    if (service === undefined) return withBearer
    const lent: ServiceBearer = {
      cachedToken(headers, signal) {
        const token = service.provider.cachedToken?.(
          tokenOptions(service, signal, requestScopes(service, headers)),
        )
        return token !== undefined && sentAsBearer(token) ? token : undefined
      },
      answer(url, sent, response, token) {
        return challenged(url, sent, response, token, service)
      },
    }
    return Object.assign(withBearer, { [SERVICE_BEARER]: lent })
  }
}
