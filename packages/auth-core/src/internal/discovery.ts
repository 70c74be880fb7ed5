import {
  type AuthorizationServer,
  allowInsecureRequests,
  customFetch,
  discoveryRequest,
  OperationProcessingError,
  processDiscoveryResponse,
} from 'oauth4webapi'
import { DiscoveryError, ErrorCode } from '../errors.js'
import type { CustomFetchInit } from './http.js'
import { AttemptTimeoutError, NetworkFailureError } from './http.js'
import { assertSecureUrl, displayUrl } from './url.js'

export type ResilientFetch = (url: string, init: CustomFetchInit) => Promise<Response>

export interface DiscoveryContext {
  fetch: ResilientFetch
  allowInsecureHttp: boolean
  signal?: AbortSignal | undefined
}

/** What discovery yields: the authorization server and, through RFC 9728, the resource. */
export interface DiscoveredServer {
  as: AuthorizationServer
  tokenEndpoint: URL
  /** The protected resource's `resource` identifier, when discovered through RFC 9728. */
  resource?: string | undefined
}

function describeFailure(error: unknown): string {
  if (error instanceof AttemptTimeoutError) return 'timed out'
  if (error instanceof NetworkFailureError) return 'network error'
  if (error instanceof OperationProcessingError) return error.code ?? 'invalid response'
  return 'failed'
}

/**
 * RFC 8414 authorization-server metadata, with OpenID Connect Discovery as the fallback.
 * The metadata's `issuer` must equal the configured issuer (RFC 8414 §3.3).
 */
export async function discoverAuthorizationServer(
  issuer: URL,
  ctx: DiscoveryContext,
): Promise<DiscoveredServer> {
  const tried: string[] = []
  let lastStatus: number | undefined
  let lastError: unknown
  for (const algorithm of ['oauth2', 'oidc'] as const) {
    let response: Response
    try {
      response = await discoveryRequest(issuer, {
        algorithm,
        signal: ctx.signal,
        [allowInsecureRequests]: issuer.protocol === 'http:',
        [customFetch]: (url, init) => {
          tried.push(url)
          return ctx.fetch(url, init as CustomFetchInit)
        },
      })
    } catch (error) {
      if (ctx.signal?.aborted) throw ctx.signal.reason
      lastError = error
      continue
    }
    lastStatus = response.status
    if (response.status !== 200) {
      void response.body?.cancel().catch(() => {})
      continue
    }
    let as: AuthorizationServer
    try {
      as = await processDiscoveryResponse(issuer, response)
    } catch (error) {
      throw new DiscoveryError(
        ErrorCode.DiscoveryInvalidMetadata,
        `authorization server metadata at ${displayUrl(tried.at(-1) ?? issuer)} is invalid: ${describeFailure(error)}`,
        { urls: tried, status: response.status },
      )
    }
    if (typeof as.token_endpoint !== 'string') {
      throw new DiscoveryError(
        ErrorCode.DiscoveryInvalidMetadata,
        `authorization server metadata of ${displayUrl(issuer)} has no token_endpoint`,
        { urls: tried, status: response.status },
      )
    }
    const tokenEndpoint = assertSecureUrl(as.token_endpoint, 'token_endpoint', ctx.allowInsecureHttp)
    return { as, tokenEndpoint }
  }
  throw new DiscoveryError(
    ErrorCode.DiscoveryFailed,
    `no authorization server metadata for ${displayUrl(issuer)} (${lastError ? describeFailure(lastError) : `HTTP ${lastStatus}`})`,
    { urls: tried, status: lastStatus },
  )
}

/** RFC 9728 §3.1 well-known URLs: path-aware first, then the origin's root. */
export function protectedResourceMetadataUrls(resourceServerUrl: URL): string[] {
  const root = `${resourceServerUrl.origin}/.well-known/oauth-protected-resource`
  const path = resourceServerUrl.pathname.replace(/\/+$/, '')
  return path ? [`${root}${path}`, root] : [root]
}

function normalisePath(path: string): string {
  return path.replace(/\/+$/, '') || '/'
}

/** Whether the metadata's `resource` may stand for `serverUrl`: same origin, and a path prefix of it. */
function resourceCovers(resource: URL, serverUrl: URL): boolean {
  if (resource.origin !== serverUrl.origin) return false
  const prefix = normalisePath(resource.pathname)
  const path = normalisePath(serverUrl.pathname)
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`)
}

/**
 * RFC 9728 protected-resource metadata of an MCP server, then RFC 8414 metadata of its first
 * authorization server.
 */
export async function discoverFromResourceServer(
  resourceServerUrl: URL,
  ctx: DiscoveryContext,
): Promise<DiscoveredServer> {
  const urls = protectedResourceMetadataUrls(resourceServerUrl)
  const tried: string[] = []
  let lastStatus: number | undefined
  let lastError: unknown
  for (const url of urls) {
    tried.push(url)
    let response: Response
    try {
      response = await ctx.fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        signal: ctx.signal,
      })
    } catch (error) {
      if (ctx.signal?.aborted) throw ctx.signal.reason
      lastError = error
      continue
    }
    lastStatus = response.status
    if (response.status !== 200) {
      void response.body?.cancel().catch(() => {})
      continue
    }
    const invalid = (what: string) =>
      new DiscoveryError(
        ErrorCode.DiscoveryInvalidMetadata,
        `protected resource metadata at ${displayUrl(url)} is invalid: ${what}`,
        { urls: tried, status: 200 },
      )
    let metadata: unknown
    try {
      metadata = await response.json()
    } catch {
      throw invalid('not JSON')
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
      throw invalid('not an object')
    const { resource, authorization_servers: servers } = metadata as Record<string, unknown>
    if (typeof resource !== 'string') throw invalid('"resource" is missing')
    let resourceUrl: URL
    try {
      resourceUrl = new URL(resource)
    } catch {
      throw invalid('"resource" is not a URL')
    }
    // RFC 9728 §3.3: the resource must be the one we asked about, or metadata could redirect
    // our credentials to another audience.
    if (!resourceCovers(resourceUrl, resourceServerUrl)) {
      throw invalid(`"resource" ${displayUrl(resourceUrl)} does not match ${displayUrl(resourceServerUrl)}`)
    }
    if (!Array.isArray(servers) || servers.length === 0 || typeof servers[0] !== 'string') {
      throw invalid('"authorization_servers" is missing')
    }
    const issuer = assertSecureUrl(servers[0], 'authorization_servers[0]', ctx.allowInsecureHttp)
    const discovered = await discoverAuthorizationServer(issuer, ctx)
    return { ...discovered, resource }
  }
  throw new DiscoveryError(
    ErrorCode.DiscoveryFailed,
    `no protected resource metadata for ${displayUrl(resourceServerUrl)} (${lastError ? describeFailure(lastError) : `HTTP ${lastStatus}`})`,
    { urls: tried, status: lastStatus },
  )
}
