/**
 * The parts of a server every shape has: what its url receives over plain http, its static
 * headers and its passthrough settings (checked with the public filters' own rules, which is why
 * this is not in `internal/`).
 */
import type {
  CookiePassthroughConfig,
  HeaderPassthroughConfig,
  OAuth2Config,
  UserTokenConfig,
} from './config-schema.js'
import { createCookieFilter } from './cookie-filter.js'
import { createHeaderFilter, NEVER_FORWARD_HEADER_PREFIXES, NEVER_FORWARD_HEADERS } from './header-filter.js'
import type { RawServer } from './internal/config-file-schema.js'
import { checkInsecureUrl, serverCredentials } from './internal/config-insecure.js'
import type { ConfigPath, IssueList } from './internal/config-issues.js'
import { redactedHeaders } from './internal/config-redacted-headers.js'
import { compact, unique } from './internal/config-values.js'

/**
 * Static headers a configuration may not set: the never-forwarded list, but `cookie` (a static
 * cookie is the operator's own; user cookies go through the cookie filter).
 */
function isForbiddenStaticHeader(name: string): boolean {
  if (name === 'cookie') return false
  return (
    NEVER_FORWARD_HEADERS.includes(name) ||
    NEVER_FORWARD_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))
  )
}

/** What a server's url would receive: its clients, passthrough settings and static headers. */
export interface ServerCredentials {
  oauth2?: OAuth2Config | undefined
  userToken?: UserTokenConfig | undefined
  cookiePassthrough?: CookiePassthroughConfig | undefined
  headerPassthrough?: HeaderPassthroughConfig | undefined
  headers: Readonly<Record<string, string>>
}

/**
 * No credential of any kind over plain http to a host that is not loopback: the bearer token,
 * users' tokens, user cookies, user headers (one renamed to `authorization` above all) and static
 * headers. Allowed by the server's own `allow_insecure_http` or its client's (`auth.oauth2`,
 * `auth.user_token`), as `createAuthFetch` is by `allowInsecureHttp`. Without any credential,
 * plain http is fine.
 */
export function checkServerUrl(
  url: string,
  sent: ServerCredentials,
  serverAllows: boolean,
  path: ConfigPath,
  issues: IssueList,
): void {
  const what = serverCredentials({
    bearer: sent.oauth2 !== undefined,
    userToken: sent.userToken !== undefined,
    cookies: sent.cookiePassthrough !== undefined,
    headers: sent.headerPassthrough !== undefined,
    renamedToAuthorization: Object.values(sent.headerPassthrough?.rename ?? {}).includes('authorization'),
    staticHeaders: Object.keys(sent.headers).length > 0,
  })
  if (what === '') return
  const allowed =
    serverAllows || sent.oauth2?.allowInsecureHttp === true || sent.userToken?.allowInsecureHttp === true
  checkInsecureUrl(url, allowed, path, issues, what)
}

/**
 * A server's static headers, lower-cased and checked (never-forwarded names, `authorization`
 * beside oauth2), into a record whose values print as `[redacted]`.
 */
export function staticHeaders(
  raw: Record<string, string>,
  oauth2: OAuth2Config | undefined,
  path: ConfigPath,
  issues: IssueList,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase()
    if (isForbiddenStaticHeader(lower))
      issues.add(
        [...path, name],
        `${lower} is a hop-by-hop, framing or protocol header that is never configurable`,
      )
    else if (lower === 'authorization' && oauth2) {
      issues.add([...path, name], 'conflicts with oauth2, which sets Authorization')
    }
    out[lower] = value
  }
  return redactedHeaders(out)
}

/** `auth.cookie_passthrough` → the cookie filter's settings, checked by the filter itself. */
export function cookies(
  raw: RawServerAuthObject['cookie_passthrough'],
  path: ConfigPath,
  issues: IssueList,
): CookiePassthroughConfig | undefined {
  if (raw === undefined) return undefined
  const spec = Array.isArray(raw) ? { cookie_names: raw } : raw
  if (spec.enabled === false) return undefined
  const allow = unique(spec.cookie_names ?? [])
  const prefixes = unique(spec.cookie_prefixes ?? [])
  if (allow.length === 0 && prefixes.length === 0) {
    issues.add(path, 'lists no cookie_names: name the cookies to forward, or set enabled: false')
    return undefined
  }
  const config = compact({ allow, allowPrefixes: prefixes.length > 0 ? prefixes : undefined })
  try {
    createCookieFilter(config)
  } catch (err) {
    issues.add(path, err instanceof Error ? err.message : 'rejected by the cookie filter')
    return undefined
  }
  return config
}

/** `auth.header_passthrough` (or LiteLLM's `extra_headers`) → the header filter's settings. */
export function passHeaders(
  raw: RawServerAuthObject['header_passthrough'],
  path: ConfigPath,
  issues: IssueList,
): HeaderPassthroughConfig | undefined {
  if (raw === undefined) return undefined
  const spec = Array.isArray(raw) ? { header_names: raw } : raw
  if (spec.enabled === false) return undefined
  const allow = unique((spec.header_names ?? []).map((n) => n.toLowerCase()))
  const rename = spec.rename
    ? Object.fromEntries(
        Object.entries(spec.rename).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()]),
      )
    : undefined
  if (allow.length === 0 && (rename === undefined || Object.keys(rename).length === 0)) {
    issues.add(path, 'lists no header_names: name the headers to forward, or set enabled: false')
    return undefined
  }
  const config = compact({ allow, rename })
  // The filter's own construction-time rules (hop-by-hop, cookie/authorization, rename
  // conflicts) are the single source of truth; its messages name headers, never values.
  try {
    createHeaderFilter(config)
  } catch (err) {
    issues.add(path, err instanceof Error ? err.message : 'rejected by the header filter')
    return undefined
  }
  return config
}

type RawServerAuthObject = Exclude<NonNullable<RawServer['auth']>, 'none'>
