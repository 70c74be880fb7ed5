import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls'
import type { FetchLike } from '@mcp-oauth2/auth-core'
import { Agent, fetch as undiciFetch } from 'undici'

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
   * Verify the server's certificate. Only an explicit `false` turns this off, which defeats TLS;
   * trust the server's CA through `ca` instead.
   * @default true
   */
  rejectUnauthorized?: boolean | undefined
  /**
   * Also trust the CA bundle named by the `SSL_CERT_FILE` environment variable, when set.
   * @default true
   */
  useSslCertFile?: boolean | undefined
}

/** Options of {@link createTlsFetch}. */
export interface TlsFetchOptions {
  /**
   * Where `SSL_CERT_FILE` and `NODE_EXTRA_CA_CERTS` are looked up, once, at construction.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>> | undefined
}

/** What {@link resolveTls} resolves `TlsOptions` to: contents, not paths. */
export interface ResolvedTls {
  /**
   * The trusted CAs (Node's default roots, `NODE_EXTRA_CA_CERTS`, then the extra ones), or
   * `undefined` when nothing is added and Node's default store applies unchanged.
   */
  ca: string[] | undefined
  cert: string | undefined
  key: string | undefined
  rejectUnauthorized: boolean
}

/** A fetch over its own connection pool; `close()` ends the pool's connections. */
export interface TlsFetch extends FetchLike {
  /** Closes the connection pool, after in-flight requests complete. Idempotent. */
  close(): Promise<void>
}

type Env = Readonly<Record<string, string | undefined>>

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

function list(value: unknown, option: string): string[] {
  if (value === undefined) return []
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined
  if (values === undefined || values.some((v) => typeof v !== 'string')) {
    throw new TypeError(`"${option}" must be a string or an array of strings`)
  }
  return [...values]
}

function optionalString(value: unknown, option: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new TypeError(`"${option}" must be a string`)
  return value
}

/** Reads a file; the error names the option and the path, never any content. */
function read(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new TypeError(
      `"${option}" cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${path}`,
    )
  }
}

/**
 * The certificates of a PEM bundle. Node silently ignores a `ca` that is not PEM, which would
 * surface later as an unexplained "unable to verify" error: fail here, naming where it came from.
 */
function certificates(pem: string, where: string): string[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) throw new TypeError(`${where} holds no PEM certificate`)
  for (const block of blocks) {
    try {
      new X509Certificate(block)
    } catch (cause) {
      throw new TypeError(`${where} holds a PEM block that is not a valid certificate`, { cause })
    }
  }
  return blocks
}

/**
 * Resolves `tls` to the CA list and client credentials, reading each file once. Custom CAs are
 * added to Node's default roots: `ca` in `tls.connect` replaces the default store, so the roots
 * (and `NODE_EXTRA_CA_CERTS`, which Node otherwise drops too) are put back in front of them.
 *
 * @example
 * ```ts
 * const { ca } = resolveTls({ caFile: '/etc/ssl/internal-ca.pem' }, { SSL_CERT_FILE: undefined })
 * ```
 */
export function resolveTls(tls: TlsOptions, env: Env = process.env): ResolvedTls {
  if (typeof tls !== 'object' || tls === null) throw new TypeError('"tls" must be an object')
  if (tls.rejectUnauthorized !== undefined && typeof tls.rejectUnauthorized !== 'boolean') {
    throw new TypeError('"tls.rejectUnauthorized" must be a boolean')
  }
  const extra: string[] = []
  list(tls.ca, 'tls.ca').forEach((pem, i) => {
    extra.push(...certificates(pem, `"tls.ca"${typeof tls.ca === 'string' ? '' : `[${i}]`}`))
  })
  for (const file of list(tls.caFile, 'tls.caFile')) {
    extra.push(...certificates(read(file, 'tls.caFile'), `"tls.caFile" ${file}`))
  }
  const sslCertFile = tls.useSslCertFile === false ? undefined : env.SSL_CERT_FILE
  if (sslCertFile)
    extra.push(...certificates(read(sslCertFile, 'SSL_CERT_FILE'), `SSL_CERT_FILE ${sslCertFile}`))

  const certFile = optionalString(tls.certFile, 'tls.certFile')
  const keyFile = optionalString(tls.keyFile, 'tls.keyFile')
  const cert = optionalString(tls.cert, 'tls.cert') ?? (certFile ? read(certFile, 'tls.certFile') : undefined)
  const key = optionalString(tls.key, 'tls.key') ?? (keyFile ? read(keyFile, 'tls.keyFile') : undefined)
  if ((cert === undefined) !== (key === undefined))
    throw new TypeError('"tls.cert" and "tls.key" go together')

  let ca: string[] | undefined
  if (extra.length > 0) {
    ca = [...rootCertificates]
    // Node loads NODE_EXTRA_CA_CERTS into its default store only; a missing file was already
    // reported by Node at startup, so it is skipped here as Node does.
    const nodeExtra = env.NODE_EXTRA_CA_CERTS
    if (nodeExtra) {
      try {
        ca.push(...(readFileSync(nodeExtra, 'utf8').match(PEM_CERTIFICATE) ?? []))
      } catch {}
    }
    ca.push(...extra)
  }
  return { ca, cert, key, rejectUnauthorized: tls.rejectUnauthorized !== false }
}

/**
 * One secure context for every connection of the pool. Given `ca` etc. instead, `tls.connect`
 * builds a context per connection, parsing all ~140 default roots each time (~60-100 ms of
 * blocked event loop per new connection on a 2-core machine).
 */
function secureContext(resolved: ResolvedTls): SecureContext | undefined {
  const { ca, cert, key } = resolved
  if (ca === undefined && cert === undefined) return undefined
  try {
    return createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert, key } : {}) })
  } catch (cause) {
    // Only cert and key can fail here (the CAs were checked); OpenSSL's message has no key material.
    throw new TypeError('"tls.cert" and "tls.key" must be a PEM certificate and its PEM private key', {
      cause,
    })
  }
}

/**
 * A fetch with its own connection pool and TLS settings (undici `Agent`): custom CAs on top of the
 * default roots, client certificates for mutual TLS, `SSL_CERT_FILE`. Files are read and checked
 * once, here; a bad option throws a `TypeError` naming it. Responses are undici's.
 *
 * @example
 * ```ts
 * const fetch = createTlsFetch({ caFile: '/etc/ssl/internal-ca.pem' })
 * const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
 * const response = await fetch('https://mcp.internal.example/mcp', { method: 'POST', body })
 * await fetch.close()
 * ```
 */
export function createTlsFetch(tls: TlsOptions, options: TlsFetchOptions = {}): TlsFetch {
  const resolved = resolveTls(tls, options.env ?? process.env)
  const context = secureContext(resolved)
  const agent = new Agent({
    connect: {
      ...(context ? { secureContext: context } : {}),
      rejectUnauthorized: resolved.rejectUnauthorized,
    },
  })
  function tlsFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (typeof input === 'string' || input instanceof URL) {
      return undiciFetch(input, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>
    }
    // npm undici does not know Node's global Request class (it would stringify it): unpack it.
    const request: RequestInit = {
      method: input.method,
      headers: input.headers,
      body: input.body,
      redirect: input.redirect,
      signal: input.signal,
      ...({ duplex: 'half' } as object),
      ...init,
    }
    return undiciFetch(input.url, {
      ...(request as object),
      dispatcher: agent,
    }) as unknown as Promise<Response>
  }
  let closing: Promise<void> | undefined
  tlsFetch.close = function close(): Promise<void> {
    closing ??= agent.close()
    return closing
  }
  return tlsFetch
}
