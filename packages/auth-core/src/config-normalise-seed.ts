/** One server in the seed's shape (`url`, `auth`, `headers`, `tls`) → its normalised `ServerConfig`. */
import { toOAuth2Config, toUserTokenConfig } from './config-normalise-clients.js'
import { checkServerUrl, cookies, passHeaders, staticHeaders } from './config-normalise-server.js'
import type {
  CookiePassthroughConfig,
  HeaderPassthroughConfig,
  ServerConfig,
  TlsConfig,
} from './config-schema.js'
import { checkOAuth2, checkUserToken, checkUserTokenUrls } from './internal/config-client-rules.js'
import { type ConfigFileAccess, tlsFile } from './internal/config-file-access.js'
import {
  LITELLM_ONLY_KEYS,
  type RawOAuth2,
  type RawServer,
  rawServerSchema,
} from './internal/config-file-schema.js'
import { isPlainObject } from './internal/config-interpolate.js'
import { addZodIssues, type ConfigPath, type IssueList } from './internal/config-issues.js'
import { compact } from './internal/config-values.js'

/** A seed-shaped `mcp_servers.<name>` entry → its `ServerConfig`; `undefined` when zod refused it. */
export function seedServer(
  name: string,
  raw: Record<string, unknown>,
  path: ConfigPath,
  defaultOAuth2: RawOAuth2 | undefined,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): ServerConfig | undefined {
  const auth = raw['auth']
  if (isPlainObject(auth) && isPlainObject(auth['oauth2'])) {
    checkOAuth2(auth['oauth2'], [...path, 'auth', 'oauth2'], issues)
  }
  if (isPlainObject(auth) && isPlainObject(auth['user_token'])) {
    checkUserToken(auth['user_token'], [...path, 'auth', 'user_token'], issues)
    checkUserTokenUrls(auth['user_token'], [...path, 'auth', 'user_token'], issues)
  }
  for (const key of LITELLM_ONLY_KEYS) {
    if (key in raw) issues.add([...path, key], `is LiteLLM's shape; with auth, use auth.oauth2 instead`)
  }
  const parsed = rawServerSchema.safeParse(raw)
  if (!parsed.success) {
    addZodIssues(issues, path, parsed.error.issues)
    return undefined
  }
  const data: RawServer = parsed.data

  let oauth2Raw: RawOAuth2 | undefined
  let oauth2Path: ConfigPath = [...path, 'auth', 'oauth2']
  let cookiePassthrough: CookiePassthroughConfig | undefined
  let headerPassthrough: HeaderPassthroughConfig | undefined
  if (data.auth !== 'none') {
    const own = data.auth?.oauth2
    if (own === undefined) {
      oauth2Raw = defaultOAuth2
      oauth2Path = ['mcp_config', 'default_oauth2']
    } else if (own !== 'none') {
      oauth2Raw = own
    }
    cookiePassthrough = cookies(
      data.auth?.cookie_passthrough,
      [...path, 'auth', 'cookie_passthrough'],
      issues,
    )
    headerPassthrough = passHeaders(
      data.auth?.header_passthrough,
      [...path, 'auth', 'header_passthrough'],
      issues,
    )
  }
  const oauth2 = oauth2Raw && toOAuth2Config(oauth2Raw, data.url, oauth2Path, issues, files)
  const rawUser = data.auth !== 'none' ? data.auth?.user_token : undefined
  const userPath = [...path, 'auth', 'user_token']
  const userToken = rawUser && toUserTokenConfig(rawUser, data.url)
  const headers = staticHeaders(data.headers ?? {}, oauth2, [...path, 'headers'], issues)
  checkServerUrl(
    data.url,
    { oauth2, userToken, cookiePassthrough, headerPassthrough, headers },
    data.allow_insecure_http === true,
    [...path, 'url'],
    issues,
  )
  if (userToken?.actor === 'service' && oauth2 === undefined)
    issues.add([...userPath, 'actor'], 'service needs the server to have a service token (auth.oauth2)')

  let tls: TlsConfig | undefined
  if (data.tls) {
    if ((data.tls.cert_file === undefined) !== (data.tls.key_file === undefined)) {
      issues.add([...path, 'tls'], 'cert_file and key_file go together (mutual TLS)')
    }
    const tlsPath = [...path, 'tls']
    tls = compact({
      caFile: tlsFile(data.tls.ca_file, [...tlsPath, 'ca_file'], issues, files),
      certFile: tlsFile(data.tls.cert_file, [...tlsPath, 'cert_file'], issues, files),
      keyFile: tlsFile(data.tls.key_file, [...tlsPath, 'key_file'], issues, files),
      rejectUnauthorized: data.tls.reject_unauthorized,
    })
  }

  return compact({
    name,
    url: data.url,
    transport: data.transport === 'sse' ? ('sse' as const) : ('streamable-http' as const),
    oauth2,
    userToken,
    cookiePassthrough,
    headerPassthrough,
    headers,
    tls,
    allowInsecureHttp: data.allow_insecure_http,
  })
}
