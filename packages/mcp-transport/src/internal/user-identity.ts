import { createHash } from 'node:crypto'
import { createCookieFilter } from '@mcp-oauth2/auth-core'
import type { StoredUserContext } from './user-context-store.js'

/** Where the user's identity comes from when `withUserContext` has no `userId`. */
export interface IdentifyBy {
  /** A cookie whose value identifies the user (a session cookie). */
  readonly cookie?: string | undefined
  /** A header whose value identifies the user (lower-case name). */
  readonly header?: string | undefined
}

/** Who a call is for: `user` (a `userId`, or `sha256:…` of the identifying value) or the service. */
export interface UserIdentity {
  readonly kind: 'user' | 'service'
  /** The `userId`, `sha256:<32 hex>` of the cookie or header value, or `undefined`. */
  readonly id: string | undefined
}

export const SERVICE_IDENTITY: UserIdentity = Object.freeze({ kind: 'service', id: undefined })

/**
 * A stable, non-reversible name for a cookie or header value: the same on every replica (so a
 * limit shared on Redis counts one user once), never the value itself.
 */
export function hashIdentity(kind: 'cookie' | 'header', name: string, value: string): string {
  const digest = createHash('sha256').update(`mcp-oauth2:user:${kind}:${name}\n${value}`).digest('hex')
  return `sha256:${digest.slice(0, 32)}`
}

function headerValue(headers: StoredUserContext['headers'], name: string): string | undefined {
  if (!headers) return undefined
  if (Array.isArray(headers)) {
    for (const [key, value] of headers as ReadonlyArray<readonly [string, string]>) {
      if (key.toLowerCase() === name) return value
    }
    return undefined
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue
    if (typeof value === 'string') return value
    if (Array.isArray(value)) return value.join(', ')
  }
  return undefined
}

/** Resolves who a call is for; see {@link createIdentify}. */
export type Identify = (context: StoredUserContext | undefined) => UserIdentity

/**
 * The identity of a call: the context's `userId`; else the hash of the identifying cookie or
 * header when it is there; else, inside a user context, an unidentified user (`id: undefined`);
 * outside any, the service.
 */
export function createIdentify(by: IdentifyBy | undefined): Identify {
  const cookieName = by?.cookie
  // The cookie filter parses the header as the passthrough does: the same name, the same value.
  const cookieFilter = cookieName ? createCookieFilter({ allow: [cookieName] }) : undefined
  const headerName = by?.header?.toLowerCase()
  return function identifyUser(context) {
    if (context === undefined) return SERVICE_IDENTITY
    if (context.userId !== undefined) return { kind: 'user', id: context.userId }
    if (cookieFilter && cookieName && context.cookie) {
      const pair = cookieFilter(context.cookie)
      if (pair) return { kind: 'user', id: hashIdentity('cookie', cookieName, pair) }
    }
    if (headerName) {
      const value = headerValue(context.headers, headerName)
      if (value) return { kind: 'user', id: hashIdentity('header', headerName, value) }
    }
    return { kind: 'user', id: undefined }
  }
}
