/**
 * The configuration's side of "no credential over plain http" (issue #13): the same rule as
 * `createAuthFetch` and the token providers (`ERR_INSECURE_HTTP`), checked when a file or the
 * environment is read, so a configuration that loads is one the transport accepts.
 */
import { ErrorCode } from '../errors.js'
import { isHttpUrl } from './config-file-schema.js'
import type { ConfigPath, IssueList } from './config-issues.js'
import { isLoopbackHostname } from './url.js'

/**
 * Whether `value` is a plain `http:` URL to a host that is not loopback (`localhost`,
 * 127.0.0.0/8, `::1`: the rule of the public `isLoopbackHost`, whose implementation this is).
 */
export function isInsecureHttpUrl(value: string): boolean {
  if (!isHttpUrl(value)) return false
  const url = new URL(value)
  return url.protocol === 'http:' && !isLoopbackHostname(url.hostname)
}

/**
 * Add an `ERR_INSECURE_HTTP` issue at `path` when `value` is plain http to a host that is not
 * loopback and `allowInsecure` is not set. `what` names the credentials (never their values):
 * `"a client credential"`, `"user cookies, static headers"`.
 */
export function checkInsecureUrl(
  value: string,
  allowInsecure: boolean,
  path: ConfigPath,
  issues: IssueList,
  what = 'credentials',
): void {
  if (allowInsecure || !isInsecureHttpUrl(value)) return
  issues.add(
    path,
    `plain http to a non-loopback host would expose ${what}: use https, or allow_insecure_http: true (${ErrorCode.InsecureHttp})`,
    ErrorCode.InsecureHttp,
  )
}

/** What a server's credentials are, for {@link serverCredentials}. */
export interface ServerCredentialKinds {
  readonly bearer: boolean
  readonly userToken: boolean
  readonly cookies: boolean
  readonly headers: boolean
  /** Whether a passthrough rename makes a user header `authorization`. */
  readonly renamedToAuthorization: boolean
  readonly staticHeaders: boolean
}

/**
 * The credentials a server's URL receives, in words for an issue (empty: none). Every kind
 * counts, as in `createAuthFetch`: plain http exposes cookies, user headers (one renamed to
 * `authorization` above all) and static headers (API keys) as well as a bearer token.
 */
export function serverCredentials(kinds: ServerCredentialKinds): string {
  return [
    kinds.bearer && 'a bearer token',
    kinds.userToken && "users' tokens",
    kinds.cookies && 'user cookies',
    kinds.headers && (kinds.renamedToAuthorization ? 'user headers (one as authorization)' : 'user headers'),
    kinds.staticHeaders && 'static headers',
  ]
    .filter((c): c is string => c !== false)
    .join(', ')
}
