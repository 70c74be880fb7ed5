// Turns an error from any step of the CLI into what a person (or a script, with --json) can act
// on: a stable code, one sentence saying what failed and where, and the hints. Every command
// prints the same diagnosis for the same failure; no message holds a secret, token or cookie.
import { ErrorCode, redactServerText } from '@mcp-oauth2/auth-core'
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpError, ErrorCode as McpErrorCode } from '@modelcontextprotocol/sdk/types.js'
import { McpTransportErrorCode } from '../errors.js'
import { CliError, CliErrorCode } from './cli-errors.js'

/** One failure, as the CLI reports it (the `--json` error object has these fields). */
export interface Diagnosis {
  /** `ErrorCode` of auth-core, `McpTransportErrorCode`, or the CLI's own (`CliErrorCode`). */
  code: string
  /** What failed, and where (URL, address, server). */
  message: string
  /** What to do about it; may be empty. */
  hints: string[]
  /** The configured server concerned, when there is one. */
  server?: string
  /** The OAuth `error` the authorization server answered with (RFC 6749 §5.2), when it did. */
  error?: string
}

/** Where the failing request went, when the error does not say. */
export interface DiagnoseContext {
  /** The MCP server's URL. */
  url?: string | undefined
  /** The configured server's name. */
  server?: string | undefined
  /**
   * Credential values in play (static header values, the client secret, the token sent): removed
   * from the message even when a server echoed them.
   * @default []
   */
  secrets?: readonly string[] | undefined
}

/** Characters of a diagnosis message kept at most (a server's error body can be megabytes). */
const MAX_MESSAGE = 512

interface ErrorLike {
  code?: unknown
  error?: unknown
  endpoint?: unknown
  message?: unknown
  cause?: unknown
  server?: unknown
  errors?: unknown
  address?: unknown
  port?: unknown
}

const authCoreCodes = new Set<string>(Object.values(ErrorCode))

/** The SDK prefixes JSON-RPC errors with `MCP error <code>: `, and a server's message may already
 * carry the same prefix: say it once. */
function clean(message: string): string {
  return message.replace(/^(MCP error -?\d+: )(?:MCP error -?\d+: )+/, '$1')
}

function messageOf(error: unknown): string {
  return clean(error instanceof Error ? error.message : String(error))
}

/** A system error (`ECONNREFUSED`, a TLS verification code) anywhere in the cause chain. */
function systemCause(error: unknown): ErrorLike | undefined {
  let current = error as ErrorLike | undefined
  for (let depth = 0; current && typeof current === 'object' && depth < 8; depth++) {
    const code = current.code
    if (typeof code === 'string' && (/^E[A-Z]+$/.test(code) || TLS_CODES.has(code))) return current
    // Happy-eyeballs connects fail with an AggregateError of one error per address.
    if (Array.isArray(current.errors) && current.errors.length > 0) {
      const first = systemCause(current.errors[0])
      if (first) return first
    }
    current = current.cause as ErrorLike | undefined
  }
  return undefined
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** `host:port` the failed connection went to: from the system error, else from the URL. */
function addressOf(system: ErrorLike, url: string | undefined): string | undefined {
  if (typeof system.address === 'string') {
    const host = system.address.includes(':') ? `[${system.address}]` : system.address
    return typeof system.port === 'number' ? `${host}:${system.port}` : host
  }
  if (!url) return undefined
  try {
    const u = new URL(url)
    return u.port ? u.host : `${u.host}:${u.protocol === 'https:' ? 443 : 80}`
  } catch {
    return undefined
  }
}

function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined
  } catch {
    return undefined
  }
}

function withoutQuery(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return url
  }
}

/** Turn an error from any step into a {@link Diagnosis}. */
export function diagnose(error: unknown, context: DiagnoseContext = {}): Diagnosis {
  const e = (error ?? {}) as ErrorLike
  const code = typeof e.code === 'string' ? e.code : undefined
  const server = typeof e.server === 'string' ? e.server : context.server
  const base = (d: Diagnosis): Diagnosis => (server === undefined ? d : { ...d, server })

  // The manager wraps why a server could not be connected: report the reason itself.
  if (code === McpTransportErrorCode.ServerUnavailable && e.cause !== undefined) {
    const inner = diagnose(e.cause, { ...context, server })
    return {
      ...inner,
      code: authCoreCodes.has(inner.code) ? inner.code : McpTransportErrorCode.ServerUnavailable,
    }
  }

  const tokenEndpoint = typeof e.endpoint === 'string' ? e.endpoint : undefined
  const url = tokenEndpoint ?? context.url
  const where = tokenEndpoint
    ? `the token endpoint ${withoutQuery(tokenEndpoint)}`
    : context.url
      ? `the MCP server ${withoutQuery(context.url)}`
      : 'the server'
  const networkCode = code && authCoreCodes.has(code) ? code : McpTransportErrorCode.ServerUnavailable
  const system = systemCause(error)
  switch (system?.code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return base({
        code: networkCode,
        message: `TLS: the certificate of ${where} is not trusted (${system.code})`,
        hints: ["add its CA with tls.ca_file (or SSL_CERT_FILE) in the server's configuration"],
      })
    case 'CERT_HAS_EXPIRED':
      return base({
        code: networkCode,
        message: `TLS: the certificate of ${where} has expired`,
        hints: ['renew the certificate on the server'],
      })
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return base({
        code: networkCode,
        message: `TLS: the certificate of ${where} does not name its host`,
        hints: ['use the host name the certificate was issued for'],
      })
    case 'ECONNREFUSED': {
      const address = addressOf(system, url)
      return base({
        code: networkCode,
        message: `connection refused: nothing listens at ${address ?? 'that address'} (${where})`,
        hints: ['start the server, or check the host and port of the URL'],
      })
    }
    case 'ENOTFOUND':
    case 'EAI_AGAIN': {
      const host = hostOf(url) ?? 'the host name'
      return base({
        code: networkCode,
        message: `DNS: ${host} does not resolve (${where})`,
        hints: ['check the host name of the URL'],
      })
    }
    case 'ECONNRESET':
      return base({
        code: networkCode,
        message: `the connection to ${where} was reset`,
        hints: ['check proxies, and that the URL uses the protocol the server speaks (http or https)'],
      })
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return base({
        code: networkCode,
        message: `${addressOf(system, url) ?? 'the server'} cannot be reached (${system.code}, ${where})`,
        hints: ['check the URL, firewalls and proxies'],
      })
  }

  // An MCP server's text (an error body, a JSON-RPC message) reaches the message: redacted of
  // the secrets in play and of anything shaped like a credential, and capped (#13 item 11).
  const message = redactServerText(messageOf(error), { secrets: context.secrets, maxLength: MAX_MESSAGE })
  const oauthError = typeof e.error === 'string' ? e.error : undefined
  switch (code) {
    case ErrorCode.OAuthErrorResponse: {
      const d: Diagnosis = { code, message, hints: [] }
      if (oauthError) d.error = oauthError
      if (oauthError === 'invalid_client')
        d.hints.push('check client_id and client_secret (or the private key) and token_endpoint_auth_method')
      else if (oauthError === 'invalid_scope')
        d.hints.push('the client may not request one of the configured scopes: check oauth2 scope')
      else if (oauthError === 'unauthorized_client')
        d.hints.push('the client may not use the client_credentials grant: ask for it to be allowed')
      else if (oauthError === 'invalid_target')
        d.hints.push('the authorization server does not accept this resource: check oauth2 resource')
      return base(d)
    }
    case ErrorCode.TokenNetwork:
    case ErrorCode.Timeout:
      return base({ code, message, hints: ['check that the token endpoint is reachable from here'] })
    case ErrorCode.TokenHttpStatus:
    case ErrorCode.TokenResponseInvalid:
      return base({ code, message, hints: ['check that token_url is the OAuth2 token endpoint'] })
    case ErrorCode.DiscoveryFailed:
      return base({ code, message, hints: ['check the URL, or configure token_url instead of discovery'] })
    case ErrorCode.DiscoveryInvalidMetadata:
      return base({ code, message, hints: ["fix the server's metadata, or configure token_url"] })
    case ErrorCode.InsecureHttp:
      return base({
        code,
        message,
        hints: ['credentials never go over plain http except to loopback: use https'],
      })
    case ErrorCode.Config:
      return base({ code, message, hints: [] })
    case McpTransportErrorCode.ScopeDenied:
      return base({
        code,
        message,
        hints: ["add the missing scope(s) to the server's oauth2 scope, if the client may have them"],
      })
    case McpTransportErrorCode.UnknownTool:
      return base({ code, message, hints: ['run "mcp-oauth2 tools" to list the tools'] })
    case McpTransportErrorCode.AmbiguousTool:
      return base({ code, message, hints: ['call it by its qualified name <server>__<tool>'] })
  }
  if (error instanceof CliError) return base({ code: error.code, message, hints: [...error.hints] })
  if (code && (authCoreCodes.has(code) || code.startsWith('ERR_'))) return base({ code, message, hints: [] })

  if (error instanceof StreamableHTTPError || error instanceof SseError) {
    const status = error.code
    const at = context.url ? ` at ${withoutQuery(context.url)}` : ''
    if (status === 401)
      return base({
        code: McpTransportErrorCode.ServerUnavailable,
        message: `the MCP server${at} rejected the token (401)`,
        hints: ['check the audience/resource it expects (oauth2 resource) and the issuer it trusts'],
      })
    if (status === 403)
      return base({
        code: McpTransportErrorCode.ServerUnavailable,
        message: `the MCP server${at} refused the token (403)`,
        hints: ['the token lacks a scope the server requires: check oauth2 scope'],
      })
    if (status === 404)
      return base({
        code: McpTransportErrorCode.ServerUnavailable,
        message: `no MCP endpoint${at}: the server answered 404`,
        hints: ['check the path of the server URL (often /mcp, or /sse for transport sse)'],
      })
    return base({
      code: McpTransportErrorCode.ServerUnavailable,
      message: `the MCP server${at} answered HTTP ${status ?? 'error'}: ${message}`,
      hints: [],
    })
  }
  if (error instanceof McpError) {
    const hints =
      error.code === McpErrorCode.InvalidParams
        ? ['check --args against the tool\'s inputSchema ("mcp-oauth2 tools --json" shows it)']
        : []
    return base({ code: `${CliErrorCode.McpErrorPrefix}${error.code}`, message, hints })
  }
  return base({ code: CliErrorCode.Unknown, message, hints: [] })
}
