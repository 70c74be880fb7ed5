import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { Agent, fetch as undiciFetch } from 'undici'
import type { FetchLike } from './auth-fetch.js'

/** TLS settings for connections to one MCP server. */
export interface TlsOptions {
  /** Extra CA certificate(s), PEM; added to Node's default roots, not replacing them. */
  ca?: string | readonly string[] | undefined
  /** File(s) with extra CA certificates, PEM. */
  caFile?: string | readonly string[] | undefined
  /** Client certificate for mutual TLS, PEM. */
  cert?: string | undefined
  /** File with the client certificate, PEM. */
  certFile?: string | undefined
  /** Client private key for mutual TLS, PEM. */
  key?: string | undefined
  /** File with the client private key, PEM. */
  keyFile?: string | undefined
  /**
   * Verify the server's certificate. Turning this off defeats TLS; use a CA instead.
   * @default true
   */
  rejectUnauthorized?: boolean | undefined
  /**
   * Also trust the CA bundle named by the `SSL_CERT_FILE` environment variable, when set.
   * @default true
   */
  useSslCertFile?: boolean | undefined
}

function list(value: string | readonly string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : [...value]
}

function read(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new TypeError(
      `"${option}" cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'} ${path}`,
    )
  }
}

/** The CA list and client credentials `tls` resolves to, files read once. */
export function resolveTls(tls: TlsOptions, env: Record<string, string | undefined> = process.env) {
  const extra = [...list(tls.ca), ...list(tls.caFile).map((file) => read(file, 'tls.caFile'))]
  const sslCertFile = tls.useSslCertFile === false ? undefined : env.SSL_CERT_FILE
  if (sslCertFile) extra.push(read(sslCertFile, 'SSL_CERT_FILE'))
  const cert = tls.cert ?? (tls.certFile ? read(tls.certFile, 'tls.certFile') : undefined)
  const key = tls.key ?? (tls.keyFile ? read(tls.keyFile, 'tls.keyFile') : undefined)
  if ((cert === undefined) !== (key === undefined))
    throw new TypeError('"tls.cert" and "tls.key" go together')
  return {
    ca: extra.length > 0 ? [...rootCertificates, ...extra] : undefined,
    cert,
    key,
    rejectUnauthorized: tls.rejectUnauthorized !== false,
  }
}

/**
 * A fetch with its own connection pool and TLS settings (undici `Agent`): custom CAs on top of the
 * default roots, client certificates, `SSL_CERT_FILE`.
 *
 * @example
 * ```ts
 * const fetch = createTlsFetch({ caFile: '/etc/ssl/internal-ca.pem' })
 * ```
 */
export function createTlsFetch(tls: TlsOptions): FetchLike {
  const { ca, cert, key, rejectUnauthorized } = resolveTls(tls)
  const agent = new Agent({
    connect: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert, key } : {}),
      rejectUnauthorized,
    },
  })
  return function tlsFetch(url, init) {
    return undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>
  }
}
