import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingHttpHeaders } from 'node:http'
import { createServer, type ServerOptions } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rootCertificates, type TLSSocket } from 'node:tls'
import type { TokenProvider } from '@mcp-oauth2/auth-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAuthFetch } from '../src/auth-fetch.js'
import { createTlsFetch, resolveTls, type TlsFetch, type TlsOptions } from '../src/tls.js'
import { createTestPki, type TestPki } from './fixtures/pki.js'

interface TestServer {
  url: string
  requests: IncomingHttpHeaders[]
  bodies: string[]
  /** TLS connections open right now, as the server sees them. */
  openConnections(): number
  close(): Promise<void>
}

/** A real HTTPS server on 127.0.0.1, answering with the client certificate's CN (if any). */
async function startHttpsServer(options: ServerOptions): Promise<TestServer> {
  const requests: IncomingHttpHeaders[] = []
  const bodies: string[] = []
  const server = createServer(options, async (req, res) => {
    // `/redirect?to=<url>` answers a 307 to that URL.
    const to = new URL(req.url ?? '/', 'https://x').searchParams.get('to')
    if (req.url?.startsWith('/redirect') && to) {
      res.writeHead(307, { location: to }).end()
      return
    }
    requests.push(req.headers)
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    bodies.push(`${req.method} ${Buffer.concat(chunks).toString()}`)
    const peer = (req.socket as TLSSocket).getPeerCertificate()
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ ok: true, clientCN: peer?.subject?.CN ?? null }))
  })
  const open = new Set<TLSSocket>()
  server.on('secureConnection', (socket: TLSSocket) => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    bodies,
    openConnections: () => open.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

let pki: TestPki
let dir: string
let caFile: string
let server: TestServer
let mtlsServer: TestServer
const noEnv = {}

beforeAll(async () => {
  pki = await createTestPki()
  dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-tls-'))
  caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, pki.ca.cert)
  writeFileSync(join(dir, 'client.pem'), pki.client.cert)
  writeFileSync(join(dir, 'client-key.pem'), pki.client.key)
  server = await startHttpsServer({ cert: pki.server.cert, key: pki.server.key })
  mtlsServer = await startHttpsServer({
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: true,
  })
})

afterAll(async () => {
  await server?.close()
  await mtlsServer?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const open: TlsFetch[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((fetch) => fetch.close()))
})

/** A TLS fetch that is closed after the test; env is empty unless given, so the host's does not leak in. */
function tlsFetch(tls: TlsOptions, env: Record<string, string | undefined> = noEnv): TlsFetch {
  const fetch = createTlsFetch(tls, { env })
  open.push(fetch)
  return fetch
}

async function json(response: Response): Promise<{ ok: boolean; clientCN: string | null }> {
  expect(response.status).toBe(200)
  return (await response.json()) as { ok: boolean; clientCN: string | null }
}

/** The TLS error code under undici's "fetch failed". */
async function failure(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Error)
  return ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code
}

const UNKNOWN_CA = /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED/

describe('createTlsFetch', () => {
  it('refuses a server whose CA is unknown, with the global fetch and with no custom CA', async () => {
    expect(await failure(globalThis.fetch(server.url))).toMatch(UNKNOWN_CA)
    expect(await failure(tlsFetch({})(server.url))).toMatch(UNKNOWN_CA)
  })

  it('trusts a CA given inline as PEM', async () => {
    expect(await json(await tlsFetch({ ca: pki.ca.cert })(server.url))).toEqual({ ok: true, clientCN: null })
    expect((await tlsFetch({ ca: [pki.otherCa.cert, pki.ca.cert] })(server.url)).status).toBe(200)
  })

  it('trusts a CA read from caFile', async () => {
    expect((await tlsFetch({ caFile })(server.url)).status).toBe(200)
    expect((await tlsFetch({ caFile: [caFile] })(server.url)).status).toBe(200)
  })

  it('still refuses a server signed by a CA other than the configured one', async () => {
    expect(await failure(tlsFetch({ ca: pki.otherCa.cert })(server.url))).toMatch(UNKNOWN_CA)
  })

  it('trusts the bundle named by SSL_CERT_FILE, unless useSslCertFile is false', async () => {
    const env = { SSL_CERT_FILE: caFile }
    expect((await tlsFetch({}, env)(server.url)).status).toBe(200)
    expect(await failure(tlsFetch({ useSslCertFile: false }, env)(server.url))).toMatch(UNKNOWN_CA)
  })

  it('presents a client certificate for mutual TLS, from PEM or from files', async () => {
    expect(await failure(tlsFetch({ ca: pki.ca.cert })(mtlsServer.url))).toBeDefined()
    const inline = tlsFetch({ ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key })
    expect(await json(await inline(mtlsServer.url))).toEqual({ ok: true, clientCN: 'mcp-client' })
    const files = tlsFetch({
      caFile,
      certFile: join(dir, 'client.pem'),
      keyFile: join(dir, 'client-key.pem'),
    })
    expect(await json(await files(mtlsServer.url))).toEqual({ ok: true, clientCN: 'mcp-client' })
  })

  it('skips verification only when rejectUnauthorized is explicitly false', async () => {
    expect((await tlsFetch({ rejectUnauthorized: false })(server.url)).status).toBe(200)
    expect(await failure(tlsFetch({ rejectUnauthorized: undefined })(server.url))).toMatch(UNKNOWN_CA)
    expect(() => createTlsFetch({ rejectUnauthorized: 'false' as unknown as boolean })).toThrow(
      /"tls.rejectUnauthorized" must be a boolean/,
    )
  })

  it('accepts a Request as input, keeping its method, headers and body', async () => {
    const before = server.requests.length
    const request = new Request(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'x-test': 'request' },
      body: '{"a":1}',
    })
    expect((await tlsFetch({ ca: pki.ca.cert })(request)).status).toBe(200)
    expect(server.requests[before]?.['x-test']).toBe('request')
    expect(server.bodies[before]).toBe('POST {"a":1}')
  })

  it('reuses its connection and stops after close()', async () => {
    const fetch = createTlsFetch({ ca: pki.ca.cert }, { env: noEnv })
    const first = await fetch(server.url)
    await first.text()
    expect((await fetch(server.url)).status).toBe(200)
    await fetch.close()
    await expect(fetch(server.url)).rejects.toThrow()
  })

  it('sends nothing the caller did not ask for, and passes method, headers and body through', async () => {
    const before = server.requests.length
    const response = await tlsFetch({ ca: pki.ca.cert })(`${server.url}/mcp`, {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json', 'x-test': '1' }),
      body: '{}',
    })
    expect(response.status).toBe(200)
    const headers = server.requests[before]!
    expect(headers['x-test']).toBe('1')
    expect(headers['content-length']).toBe('2')
    expect(headers.authorization).toBeUndefined()
    expect(headers.cookie).toBeUndefined()
  })
})

describe('resolveTls', () => {
  it('adds custom CAs after the default roots instead of replacing them', () => {
    const { ca } = resolveTls({ ca: pki.ca.cert }, noEnv)
    expect(ca).toBeDefined()
    expect(ca!.slice(0, rootCertificates.length)).toEqual([...rootCertificates])
    expect(ca!.at(-1)).toBe(pki.ca.cert.trim())
  })

  it('leaves the default store untouched when no CA is added', () => {
    expect(resolveTls({}, noEnv).ca).toBeUndefined()
    expect(resolveTls({ cert: pki.client.cert, key: pki.client.key }, noEnv).ca).toBeUndefined()
  })

  it('keeps the NODE_EXTRA_CA_CERTS certificates, which an explicit CA list would otherwise drop', async () => {
    const { ca } = resolveTls({ ca: pki.otherCa.cert }, { NODE_EXTRA_CA_CERTS: caFile })
    expect(ca).toContain(pki.ca.cert.trim())
    expect(ca).toContain(pki.otherCa.cert.trim())
    const fetch = tlsFetch({ ca: pki.otherCa.cert }, { NODE_EXTRA_CA_CERTS: caFile })
    expect((await fetch(server.url)).status).toBe(200)
  })

  it('reads SSL_CERT_FILE from the env it is given, not from process.env', () => {
    expect(resolveTls({}, { SSL_CERT_FILE: caFile }).ca).toContain(pki.ca.cert.trim())
    expect(resolveTls({ useSslCertFile: false }, { SSL_CERT_FILE: caFile }).ca).toBeUndefined()
  })

  it('throws a TypeError naming the option and the path, not the content, for a missing file', () => {
    const missing = join(dir, 'missing.pem')
    for (const [tls, env, option] of [
      [{ caFile: missing }, noEnv, '"tls.caFile"'],
      [{ certFile: missing, key: pki.client.key }, noEnv, '"tls.certFile"'],
      [{ cert: pki.client.cert, keyFile: missing }, noEnv, '"tls.keyFile"'],
      [{}, { SSL_CERT_FILE: missing }, '"SSL_CERT_FILE"'],
    ] as const) {
      let error: unknown
      try {
        resolveTls(tls, env)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toContain(option)
      expect((error as Error).message).toContain('ENOENT')
      expect((error as Error).message).toContain(missing)
    }
  })

  it('rejects a CA that is not a PEM certificate without echoing its content', () => {
    const secretish = join(dir, 'not-a-ca.pem')
    writeFileSync(secretish, 'client_secret=hunter2\n')
    expect(() => resolveTls({ caFile: secretish }, noEnv)).toThrow(TypeError)
    expect(() => resolveTls({ caFile: secretish }, noEnv)).toThrow(/"tls.caFile" .*not-a-ca.pem holds no PEM/)
    expect(() => resolveTls({ caFile: secretish }, noEnv)).not.toThrow(/hunter2/)
    expect(() => resolveTls({ ca: 'hunter2' }, noEnv)).toThrow(/^"tls.ca" holds no PEM certificate$/)
    const broken = '-----BEGIN CERTIFICATE-----\naHVudGVyMg==\n-----END CERTIFICATE-----\n'
    expect(() => resolveTls({ ca: [pki.ca.cert, broken] }, noEnv)).toThrow(/^"tls.ca"\[1\] holds a PEM block/)
  })

  it('rejects a certificate without its key, and a key that does not parse, without echoing either', () => {
    expect(() => resolveTls({ cert: pki.client.cert }, noEnv)).toThrow(/"tls.cert" and "tls.key" go together/)
    expect(() => resolveTls({ key: pki.client.key }, noEnv)).toThrow(TypeError)
    let error: unknown
    try {
      createTlsFetch({ cert: pki.client.cert, key: 'hunter2' }, { env: noEnv })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/"tls.cert" and "tls.key"/)
    expect((error as Error).message).not.toMatch(/hunter2|BEGIN/)
    expect(() => createTlsFetch({ cert: pki.client.cert, key: pki.server.key }, { env: noEnv })).toThrow(
      TypeError,
    )
  })

  it('rejects options of the wrong type with a TypeError naming them', () => {
    expect(() => resolveTls({ ca: 42 as unknown as string }, noEnv)).toThrow(/"tls.ca" must be a string/)
    expect(() => resolveTls({ caFile: [1] as unknown as string[] }, noEnv)).toThrow(/"tls.caFile"/)
    expect(() => resolveTls({ certFile: {} as unknown as string }, noEnv)).toThrow(/"tls.certFile"/)
  })
})

/** A token provider with one fixed token (the TLS tests are about connections, not tokens). */
function staticToken(): TokenProvider {
  return {
    getToken: async () => ({
      value: 'tls-token',
      tokenType: 'Bearer',
      expiresAt: Date.now() + 3600_000,
      scopes: [],
    }),
    invalidate() {},
  }
}

/** Resolves once `check` holds (polled on the event loop); rejects after `timeoutMs`. */
function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve()
      else if (performance.now() - start > timeoutMs) reject(new Error('condition not met in time'))
      else setTimeout(tick, 5)
    }
    tick()
  })
}

describe('createAuthFetch over TLS', () => {
  it('sends the bearer token to an HTTPS MCP server trusted through tls.ca', async () => {
    const tokenProvider: TokenProvider = {
      getToken: async () => ({
        value: 'tls-token',
        tokenType: 'Bearer',
        expiresAt: Date.now() + 3600_000,
        scopes: [],
      }),
      invalidate() {},
    }
    const fetch = createAuthFetch({ serverUrl: `${server.url}/mcp`, tokenProvider, tls: { ca: pki.ca.cert } })
    const before = server.requests.length
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    })
    expect(await json(response)).toEqual({ ok: true, clientCN: null })
    expect(server.requests.slice(before).map((h) => h.authorization)).toEqual(['Bearer tls-token'])
  })

  it("uses the server's client certificate and CA for its origin only, not for other origins or redirect targets", async () => {
    // `server` and `mtlsServer` are two origins (ports) signed by the same CA.
    const fetch = createAuthFetch({
      serverUrl: `${mtlsServer.url}/mcp`,
      tokenProvider: staticToken(),
      tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, useSslCertFile: false },
    })
    open.push(fetch as TlsFetch)
    const own = await fetch(`${mtlsServer.url}/mcp`, { method: 'POST', body: '{}' })
    expect(await json(own)).toEqual({ ok: true, clientCN: 'mcp-client' })
    // Another origin gets the default TLS settings: the custom CA is not trusted there.
    expect(await failure(fetch(`${server.url}/other`))).toMatch(UNKNOWN_CA)
    // Nor on a redirect hop from the MCP server to that origin.
    const before = server.requests.length
    const hop = fetch(`${mtlsServer.url}/redirect?to=${encodeURIComponent(`${server.url}/landing`)}`, {
      method: 'POST',
      body: '{}',
    })
    expect(await failure(hop)).toMatch(UNKNOWN_CA)
    expect(server.requests.length).toBe(before)
  })

  it('close() releases the TLS connection pool of an auth fetch with tls', async () => {
    const fetch = createAuthFetch({
      serverUrl: `${server.url}/mcp`,
      tokenProvider: staticToken(),
      tls: { ca: pki.ca.cert, useSslCertFile: false },
    })
    const before = server.openConnections()
    await (await fetch(`${server.url}/mcp`, { method: 'POST', body: '{}' })).text()
    expect(server.openConnections()).toBe(before + 1)
    await fetch.close()
    await until(() => server.openConnections() === before)
    await fetch.close() // idempotent
    await expect(fetch(`${server.url}/mcp`, { method: 'POST', body: '{}' })).rejects.toThrow()
  })

  it('fails closed, without sending the token, when the server is not trusted', async () => {
    let asked = 0
    const tokenProvider: TokenProvider = {
      getToken: async () => {
        asked++
        return { value: 'tls-token', tokenType: 'Bearer', expiresAt: Date.now() + 3600_000, scopes: [] }
      },
      invalidate() {},
    }
    const before = server.requests.length
    const fetch = createAuthFetch({
      serverUrl: `${server.url}/mcp`,
      tokenProvider,
      tls: { ca: pki.otherCa.cert, useSslCertFile: false },
    })
    expect(await failure(fetch(`${server.url}/mcp`))).toMatch(UNKNOWN_CA)
    expect(server.requests.length).toBe(before)
    expect(asked).toBe(1)
  })
})
