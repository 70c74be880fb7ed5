/**
 * Discovery of an authorization server: RFC 8414 metadata (OpenID Connect Discovery as the
 * fallback) from an issuer, or RFC 9728 protected-resource metadata from an MCP server's URL. The
 * token provider and the verifier both use it, through the same resilient fetch.
 */
import {
  type AuthorizationServer,
  allowInsecureRequests,
  customFetch,
  discoveryRequest,
  OperationProcessingError,
  processDiscoveryResponse,
} from 'oauth4webapi'
import { DiscoveryError, ErrorCode } from '../errors.js'
import {
  AttemptTimeoutError,
  NetworkFailureError,
  type ResilientFetch,
  type ResilientInit,
  ResponseTooLargeError,
} from './http.js'
import { assertSecureUrl, displayUrl } from './url.js'

export interface DiscoveryContext {
  fetch: ResilientFetch
  allowInsecureHttp: boolean
  signal?: AbortSignal | undefined
}

/** RFC 8414 metadata of an authorization server, and the URLs tried to get it. */
export interface AuthorizationServerMetadata {
  as: AuthorizationServer
  /** Metadata URLs tried, in order, without query (the last one answered). */
  tried: string[]
}

/** What the token provider's discovery yields: the authorization server and, through RFC 9728, the resource. */
export interface DiscoveredServer {
  as: AuthorizationServer
  tokenEndpoint: URL
  /** The protected resource's `resource` identifier, when discovered through RFC 9728. */
  resource?: string | undefined
}

function describeFailure(error: unknown): string {
  if (error instanceof AttemptTimeoutError) return 'timed out'
  if (error instanceof NetworkFailureError) return 'network error'
  if (error instanceof ResponseTooLargeError) return 'response too large'
  if (error instanceof OperationProcessingError) return error.code ?? 'invalid response'
  return 'failed'
}

/**
 * RFC 8414 authorization-server metadata, with OpenID Connect Discovery as the fallback.
 * The metadata's `issuer` must equal the configured issuer (RFC 8414 §3.3).
 */
export async function fetchAuthorizationServerMetadata(
  issuer: URL,
  ctx: DiscoveryContext,
): Promise<AuthorizationServerMetadata> {
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
          tried.push(displayUrl(url))
          return ctx.fetch(url, init as ResilientInit)
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
    try {
      return { as: await processDiscoveryResponse(issuer, response), tried }
    } catch (error) {
      throw new DiscoveryError(
        ErrorCode.DiscoveryInvalidMetadata,
        `authorization server metadata at ${tried.at(-1) ?? displayUrl(issuer)} is invalid: ${describeFailure(error)}`,
        { urls: tried, status: response.status },
      )
    }
  }
  throw new DiscoveryError(
    ErrorCode.DiscoveryFailed,
    `no authorization server metadata for ${displayUrl(issuer)} (${lastError ? describeFailure(lastError) : `HTTP ${lastStatus}`})`,
    { urls: tried, status: lastStatus },
  )
}

/**
 * An endpoint named in the metadata (`token_endpoint`, `jwks_uri`), held to the same rules as a
 * configured one: an absolute http(s) URL, plain http only to loopback unless allowed.
 */
export function metadataEndpoint(
  metadata: AuthorizationServerMetadata,
  field: 'token_endpoint' | 'jwks_uri',
  ctx: Pick<DiscoveryContext, 'allowInsecureHttp'>,
): URL {
  const value = metadata.as[field]
  if (typeof value !== 'string') {
    throw new DiscoveryError(
      ErrorCode.DiscoveryInvalidMetadata,
      `authorization server metadata of ${displayUrl(metadata.as.issuer)} has no ${field}`,
      { urls: metadata.tried, status: 200 },
    )
  }
  try {
    return assertSecureUrl(value, field, ctx.allowInsecureHttp)
  } catch (error) {
    if (error instanceof TypeError) {
      throw new DiscoveryError(
        ErrorCode.DiscoveryInvalidMetadata,
        `authorization server metadata of ${displayUrl(metadata.as.issuer)} has an unusable ${field}`,
        { urls: metadata.tried, status: 200 },
      )
    }
    throw error // ERR_INSECURE_HTTP
  }
}

/** RFC 8414 metadata of `issuer` and its token endpoint. */
export async function discoverAuthorizationServer(
  issuer: URL,
  ctx: DiscoveryContext,
): Promise<DiscoveredServer> {
  const metadata = await fetchAuthorizationServerMetadata(issuer, ctx)
  return { as: metadata.as, tokenEndpoint: metadataEndpoint(metadata, 'token_endpoint', ctx) }
}

function normalisePath(path: string): string {
  return path.replace(/\/+$/, '') || '/'
}

/**
 * The Streamable HTTP endpoint that serves beside a legacy SSE endpoint: `…/sse` → `…/mcp`.
 * fastmcp and other servers publish RFC 9728 metadata only for that path.
 */
export function streamableSibling(serverUrl: URL): URL | undefined {
  const path = normalisePath(serverUrl.pathname)
  if (!path.endsWith('/sse')) return undefined
  return new URL(`${path.slice(0, -'/sse'.length)}/mcp`, serverUrl.origin)
}

/**
 * RFC 9728 §3.1 well-known URLs, in order: path-aware for the server URL; for a legacy SSE URL
 * (`…/sse`), path-aware for its Streamable HTTP sibling (`…/mcp`); then the origin's root.
 */
export function protectedResourceMetadataUrls(resourceServerUrl: URL): string[] {
  const root = `${resourceServerUrl.origin}/.well-known/oauth-protected-resource`
  const urls: string[] = []
  const path = resourceServerUrl.pathname.replace(/\/+$/, '')
  if (path) urls.push(`${root}${path}`)
  const sibling = streamableSibling(resourceServerUrl)
  if (sibling) urls.push(`${root}${sibling.pathname}`)
  urls.push(root)
  return urls
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
 * authorization server. For a legacy SSE URL the metadata may name the Streamable HTTP sibling
 * (`…/mcp`) as its resource; that `resource` is then the one tokens are requested for.
 */
export async function discoverFromResourceServer(
  resourceServerUrl: URL,
  ctx: DiscoveryContext,
): Promise<DiscoveredServer> {
  const urls = protectedResourceMetadataUrls(resourceServerUrl)
  const sibling = streamableSibling(resourceServerUrl)
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
    // RFC 9728 §3.3: the resource must be the one we asked about (or, for a legacy SSE URL, its
    // Streamable HTTP sibling on the same origin), or metadata could redirect our credentials to
    // another audience.
    if (
      !resourceCovers(resourceUrl, resourceServerUrl) &&
      !(sibling !== undefined && resourceCovers(resourceUrl, sibling))
    ) {
      throw invalid(`"resource" ${displayUrl(resourceUrl)} does not match ${displayUrl(resourceServerUrl)}`)
    }
    if (!Array.isArray(servers) || servers.length === 0 || typeof servers[0] !== 'string') {
      throw invalid('"authorization_servers" is missing')
    }
    const issuer = assertSecureUrl(servers[0], 'authorization_servers[0]', ctx.allowInsecureHttp)
    const discovered = await discoverAuthorizationServer(issuer, ctx)
    return { ...discovered, resource }
  }
  const hint = sibling
    ? '; a legacy SSE endpoint often publishes none: configure "issuer" and "resource" instead'
    : ''
  throw new DiscoveryError(
    ErrorCode.DiscoveryFailed,
    `no protected resource metadata for ${displayUrl(resourceServerUrl)} (${lastError ? describeFailure(lastError) : `HTTP ${lastStatus}`})${hint}`,
    { urls: tried, status: lastStatus },
  )
}
