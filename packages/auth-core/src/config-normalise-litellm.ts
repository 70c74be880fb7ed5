/**
 * One server in LiteLLM's `mcp_servers` shape (`auth_type`, `client_id`, `static_headers`, …) →
 * its normalised `ServerConfig`, the LiteLLM keys mapped onto our `oauth2` and `user_token`.
 */
import { toOAuth2Config, toUserTokenConfig } from './config-normalise-clients.js'
import { checkServerUrl, passHeaders, staticHeaders } from './config-normalise-server.js'
import type { ServerConfig } from './config-schema.js'
import { checkUserToken } from './internal/config-client-rules.js'
import type { ConfigFileAccess } from './internal/config-file-access.js'
import {
  LITELLM_UNSUPPORTED_KEYS,
  type RawLiteLLMServer,
  type RawOAuth2,
  type RawUserToken,
  rawLiteLLMServerSchema,
} from './internal/config-file-schema.js'
import { checkInsecureUrl } from './internal/config-insecure.js'
import { addZodIssues, type ConfigPath, type IssueList } from './internal/config-issues.js'
import { compact } from './internal/config-values.js'

/** A LiteLLM-shaped `mcp_servers.<name>` entry → its `ServerConfig`; `undefined` on any issue. */
export function liteLLMServer(
  name: string,
  raw: Record<string, unknown>,
  path: ConfigPath,
  defaultOAuth2: RawOAuth2 | undefined,
  issues: IssueList,
  files: ConfigFileAccess | undefined,
): ServerConfig | undefined {
  const rest: Record<string, unknown> = { ...raw }
  for (const [key, message] of Object.entries(LITELLM_UNSUPPORTED_KEYS)) {
    if (key in rest) {
      issues.add([...path, key], `is not supported: ${message}`)
      delete rest[key]
    }
  }
  const parsed = rawLiteLLMServerSchema.safeParse(rest)
  if (!parsed.success) {
    addZodIssues(issues, path, parsed.error.issues)
    return undefined
  }
  const data: RawLiteLLMServer = parsed.data
  const before = issues.size

  let transport: ServerConfig['transport']
  const t = data.transport?.toLowerCase()
  if (t === undefined) {
    // LiteLLM servers often omit it; an endpoint path ending in /sse is the legacy transport.
    transport = new URL(data.url).pathname.replace(/\/+$/, '').endsWith('/sse') ? 'sse' : 'streamable-http'
  } else if (t === 'http' || t === 'streamable-http' || t === 'streamable_http') {
    transport = 'streamable-http'
  } else if (t === 'sse') {
    transport = 'sse'
  } else if (t === 'stdio') {
    issues.add([...path, 'transport'], 'stdio servers are not supported (remote http/sse servers only)')
    return undefined
  } else {
    issues.add([...path, 'transport'], 'must be one of http, sse')
    return undefined
  }

  const authType = data.auth_type?.toLowerCase()
  let oauth2Raw: RawOAuth2 | undefined
  let userRaw: RawUserToken | undefined
  const oauthKeys = ['client_id', 'client_secret', 'token_url', 'scopes', 'oauth2_flow'] as const
  const assertionKeys = ['assertion', 'assertion_file'] as const
  const exchangeKeys = [
    'token_exchange_endpoint',
    'id_jag_resource_token_endpoint',
    'id_jag_client_id',
    'id_jag_client_secret',
    'audience',
    'resource',
    'subject_token_type',
    'requested_token_type',
  ] as const
  const onlyWith = (keys: readonly (keyof RawLiteLLMServer)[], what: string) => {
    for (const key of keys)
      if (data[key] !== undefined) issues.add([...path, key], `is only used with ${what}`)
  }
  if (authType === 'oauth2') {
    const flow = data.oauth2_flow?.toLowerCase()
    const jwtBearer = flow === 'jwt_bearer'
    if (flow !== undefined && flow !== 'client_credentials' && !jwtBearer) {
      issues.add(
        [...path, 'oauth2_flow'],
        flow === 'authorization_code'
          ? 'authorization_code (interactive) is not supported: only client_credentials and jwt_bearer'
          : 'must be client_credentials or jwt_bearer',
      )
    }
    onlyWith(exchangeKeys, 'auth_type: oauth2_token_exchange or oauth2_id_jag')
    if (!jwtBearer) onlyWith(assertionKeys, 'oauth2_flow: jwt_bearer')
    if (data.token_url === undefined) {
      issues.add(
        [...path, 'token_url'],
        'is required: LiteLLM oauth2 without token_url is the interactive flow, which is not supported',
      )
    }
    if (data.client_id === undefined) issues.add([...path, 'client_id'], 'is required with auth_type: oauth2')
    if (data.client_secret === undefined && !jwtBearer)
      issues.add([...path, 'client_secret'], 'is required with auth_type: oauth2')
    if (jwtBearer && (data.assertion === undefined) === (data.assertion_file === undefined))
      issues.add(path, 'oauth2_flow: jwt_bearer needs one of assertion or assertion_file')
    if (data.token_url && data.client_id && (data.client_secret || jwtBearer)) {
      oauth2Raw = {
        allow_insecure_http: data.allow_insecure_http,
        token_url: data.token_url,
        client_id: data.client_id,
        client_secret: data.client_secret,
        scope: data.scopes,
        ...(jwtBearer
          ? {
              grant_type: 'jwt_bearer' as const,
              assertion: data.assertion,
              assertion_file: data.assertion_file,
            }
          : {}),
      }
      checkInsecureUrl(
        data.token_url,
        data.allow_insecure_http === true,
        [...path, 'token_url'],
        issues,
        'a client credential',
      )
    }
  } else if (authType === 'oauth2_token_exchange' || authType === 'oauth2_id_jag') {
    const idJag = authType === 'oauth2_id_jag'
    onlyWith(['token_url', 'oauth2_flow', ...assertionKeys], 'auth_type: oauth2')
    if (!idJag)
      onlyWith(
        ['id_jag_resource_token_endpoint', 'id_jag_client_id', 'id_jag_client_secret'],
        'auth_type: oauth2_id_jag',
      )
    if (data.token_exchange_endpoint === undefined)
      issues.add([...path, 'token_exchange_endpoint'], `is required with auth_type: ${authType}`)
    if (data.client_id === undefined)
      issues.add([...path, 'client_id'], `is required with auth_type: ${authType}`)
    if (idJag) {
      onlyWith(['subject_token_type', 'requested_token_type'], 'auth_type: oauth2_token_exchange')
      for (const key of [
        'id_jag_resource_token_endpoint',
        'id_jag_client_id',
        'id_jag_client_secret',
      ] as const)
        if (data[key] === undefined) issues.add([...path, key], 'is required with auth_type: oauth2_id_jag')
    }
    if (issues.size === before && data.token_exchange_endpoint && data.client_id) {
      // LiteLLM's names: for ID-JAG the IdP client is client_id/client_secret and the MCP
      // authorization server's is id_jag_client_id/id_jag_client_secret.
      const allowInsecure =
        data.allow_insecure_http === undefined ? {} : { allow_insecure_http: data.allow_insecure_http }
      userRaw = idJag
        ? {
            ...allowInsecure,
            grant_type: 'id_jag',
            token_url: data.id_jag_resource_token_endpoint,
            client_id: data.id_jag_client_id!,
            client_secret: data.id_jag_client_secret,
            scope: data.scopes,
            resource: data.resource,
            audience: data.audience,
            idp: {
              token_url: data.token_exchange_endpoint,
              client_id: data.client_id,
              client_secret: data.client_secret,
              ...(data.client_secret === undefined ? { token_endpoint_auth_method: 'none' as const } : {}),
            },
          }
        : {
            ...allowInsecure,
            grant_type: 'token_exchange',
            token_url: data.token_exchange_endpoint,
            client_id: data.client_id,
            client_secret: data.client_secret,
            ...(data.client_secret === undefined ? { token_endpoint_auth_method: 'none' as const } : {}),
            scope: data.scopes,
            resource: data.resource,
            audience: data.audience,
            subject_token_type: data.subject_token_type,
            requested_token_type: data.requested_token_type,
          }
      checkUserToken(userRaw as Record<string, unknown>, path, issues)
      // The same rule as checkUserTokenUrls, at LiteLLM's keys: every endpoint gets a user's token.
      const endpoints = idJag
        ? (['token_exchange_endpoint', 'id_jag_resource_token_endpoint'] as const)
        : (['token_exchange_endpoint'] as const)
      for (const key of endpoints) {
        const value = data[key]
        if (value !== undefined)
          checkInsecureUrl(value, data.allow_insecure_http === true, [...path, key], issues, "users' tokens")
      }
    }
  } else if (authType === undefined || authType === 'none') {
    for (const key of [...oauthKeys, ...assertionKeys, ...exchangeKeys]) {
      if (data[key] !== undefined) issues.add([...path, key], 'is only used with an oauth2 auth_type')
    }
    if (authType === undefined) oauth2Raw = defaultOAuth2
  } else {
    issues.add(
      [...path, 'auth_type'],
      `${authType} is not supported (oauth2, oauth2_token_exchange, oauth2_id_jag and none are); send fixed credentials with static_headers`,
    )
  }
  if (issues.size > before) return undefined

  const oauth2Path = authType === 'oauth2' ? path : ['mcp_config', 'default_oauth2']
  const oauth2 = oauth2Raw && toOAuth2Config(oauth2Raw, data.url, oauth2Path, issues, files)
  const userToken = userRaw && toUserTokenConfig(userRaw, data.url)
  const headers = staticHeaders(data.static_headers ?? {}, oauth2, [...path, 'static_headers'], issues)
  const passthrough = data.extra_headers
    ? passHeaders({ header_names: data.extra_headers }, [...path, 'extra_headers'], issues)
    : undefined
  checkServerUrl(
    data.url,
    { oauth2, userToken, headerPassthrough: passthrough, headers },
    data.allow_insecure_http === true,
    [...path, 'url'],
    issues,
  )
  return compact({
    name,
    url: data.url,
    transport,
    oauth2,
    userToken,
    headerPassthrough: passthrough,
    headers,
    allowInsecureHttp: data.allow_insecure_http,
  })
}
