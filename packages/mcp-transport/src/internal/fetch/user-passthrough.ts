import type { CookieFilter, HeaderFilter } from '@mcp-oauth2/auth-core'
import { currentUserContext, type StoredUserContext } from '../user-context-store.js'
import { type ServerMiddleware, USER_AUTHORIZATION } from './request.js'
import type { RequestHeaders } from './request-headers.js'

/** Puts the user's allowed cookies on one MCP request's headers (and no other `Cookie`). */
function setUserCookies(
  headers: RequestHeaders,
  cookieFilter: CookieFilter,
  context: StoredUserContext,
): void {
  const cookie = cookieFilter(context.cookie)
  if (cookie === undefined) headers.delete('cookie')
  else headers.put('cookie', cookie)
}

/** Options of {@link userPassthrough}. */
export interface UserPassthroughOptions {
  readonly cookieFilter: CookieFilter | undefined
  readonly headerFilter: HeaderFilter | undefined
}

/**
 * Inside `withUserContext`, adds the user's allowed cookies and headers to MCP requests.
 * Outside it, adds nothing. The transport's own headers (content-type, accept, mcp-session-id, …)
 * win: a user header must never steer the protocol, e.g. into another user's session.
 */
export function userPassthrough({ cookieFilter, headerFilter }: UserPassthroughOptions): ServerMiddleware {
  return function addUserData(next) {
    return function withUserData(url, init) {
      const context = currentUserContext()
      if (context === undefined) return next(url, init)
      const headers = init.headers
      if (cookieFilter) setUserCookies(headers, cookieFilter, context)
      let userAuthorization = false
      if (headerFilter) {
        for (const [name, value] of headerFilter(context.headers)) {
          if (headers.has(name)) continue
          headers.set(name, value)
          // Only an explicit rename to `authorization` gets here (the filter refuses it otherwise).
          if (name === 'authorization') userAuthorization = true
        }
      }
      return next(url, userAuthorization ? { ...init, [USER_AUTHORIZATION]: true } : init)
    }
  }
}
