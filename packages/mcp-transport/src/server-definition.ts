import type { McpTransportKind, ServerConfig, TokenProvider } from '@mcp-oauth2/auth-core'
import { SEPARATOR } from './internal/manager/tool-index.js'

/** A server defined in code (the same settings as a configured `ServerConfig`). */
export interface McpServerDefinition {
  /** Unique name; it prefixes the server's tools when their names collide. No `__` in it. */
  name: string
  /** The MCP endpoint URL. */
  url: string
  /**
   * Transport to use.
   * @default 'streamable-http'
   */
  transport?: McpTransportKind | undefined
  /** The service's token source for this server; none: no bearer token. */
  tokenProvider?: TokenProvider | undefined
  /**
   * The users' token source (`TokenExchangeTokenProvider`, `IdJagTokenProvider`): inside
   * `withUserContext({ subjectToken })` (or `{ idToken }`), the user's token replaces the
   * service token on this server's requests. `fromConfig` takes it from `auth.user_token`.
   * @default none
   */
  userTokenProvider?: TokenProvider | undefined
  /** Which of the user's cookies to forward (inside `withUserContext`). */
  cookiePassthrough?: ServerConfig['cookiePassthrough']
  /** Which of the user's headers to forward (inside `withUserContext`). */
  headerPassthrough?: ServerConfig['headerPassthrough']
  /**
   * Static headers for every request to this server.
   * @default {}
   */
  headers?: Readonly<Record<string, string>> | undefined
  /** TLS settings (custom CA, client certificate), for this server's origin only. */
  tls?: ServerConfig['tls']
  /**
   * Allow credentials (bearer token, cookies, user headers, static headers) over plain `http:`
   * to a host that is not loopback. `fromConfig` takes it from `oauth2.allowInsecureHttp`.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined
}

/**
 * A definition checked and normalised to the config's `ServerConfig` shape (not public API).
 * Throws a `TypeError` naming what is wrong.
 */
export function toServerConfig(def: McpServerDefinition): ServerConfig {
  if (typeof def !== 'object' || def === null) throw new TypeError('"servers" entries must be objects')
  const name = def.name
  if (typeof name !== 'string' || name === '')
    throw new TypeError('"servers[].name" must be a non-empty string')
  if (name.includes(SEPARATOR)) throw new TypeError(`server name "${name}" must not contain "${SEPARATOR}"`)
  if (typeof def.url !== 'string') throw new TypeError(`"servers.${name}.url" must be a string`)
  try {
    new URL(def.url)
  } catch {
    throw new TypeError(`"servers.${name}.url" must be an absolute URL`)
  }
  return {
    name,
    url: def.url,
    transport: def.transport ?? 'streamable-http',
    cookiePassthrough: def.cookiePassthrough,
    headerPassthrough: def.headerPassthrough,
    headers: { ...(def.headers ?? {}) },
    tls: def.tls,
  }
}
