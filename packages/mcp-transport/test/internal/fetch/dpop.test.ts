import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AccessToken, DpopKey } from '@mcp-oauth2/auth-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dpop } from '../../../src/internal/fetch/dpop.js'
import { DPOP_TOKEN, type ServerFetch } from '../../../src/internal/fetch/request.js'
import { RequestHeaders } from '../../../src/internal/fetch/request-headers.js'

/** A real loopback resource server that wants a nonce it never stops rotating. */
const seen: { dpop: string | undefined; body: string }[] = []
let counter = 0
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    seen.push({ dpop: req.headers.dpop as string | undefined, body: Buffer.concat(chunks).toString() })
    res.statusCode = 401
    res.setHeader('www-authenticate', 'DPoP error="use_dpop_nonce"')
    res.setHeader('dpop-nonce', `n-${++counter}`)
    res.end()
  })
})
let URL_ = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  URL_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const network: ServerFetch = (url, init) =>
  globalThis.fetch(url, { ...init, headers: init.headers.toRecord(), duplex: 'half' } as RequestInit)
const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>

describe('dpop', () => {
  it('does not replay a stream body to answer a nonce challenge: the challenge is the answer', async () => {
    seen.length = 0
    const key = new DpopKey()
    const token: AccessToken = {
      value: 'tok',
      tokenType: 'DPoP',
      expiresAt: Date.now() + 60_000,
      scopes: [],
      dpopKey: key,
    }
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":1}'))
        controller.close()
      },
    })
    const response = await dpop()(network)(URL_, {
      method: 'POST',
      headers: RequestHeaders.from(undefined),
      body,
      [DPOP_TOKEN]: token,
    })
    expect(response.status).toBe(401)
    expect(seen).toHaveLength(1)
    // The nonce is remembered all the same, for the next request.
    expect(key.nonceFor(URL_)).toBe(`n-${counter}`)
  })

  it('retries a replayable body once, with a new proof carrying the nonce', async () => {
    seen.length = 0
    const key = new DpopKey()
    const token: AccessToken = {
      value: 'tok',
      tokenType: 'DPoP',
      expiresAt: Date.now() + 60_000,
      scopes: [],
      dpopKey: key,
    }
    const response = await dpop()(network)(URL_, {
      method: 'POST',
      headers: RequestHeaders.from(undefined),
      body: '{"a":1}',
      [DPOP_TOKEN]: token,
    })
    expect(response.status).toBe(401)
    expect(seen.map((s) => s.body)).toEqual(['{"a":1}', '{"a":1}'])
    const [first, second] = seen.map((s) => claims(s.dpop!))
    expect(first!['nonce']).toBeUndefined()
    expect(second!['nonce']).toBe(`n-${counter - 1}`)
    expect(second!['jti']).not.toBe(first!['jti'])
  })

  it('passes a request without a DPoP-bound token straight through, adding nothing', async () => {
    seen.length = 0
    const response = await dpop()(network)(URL_, {
      method: 'POST',
      headers: RequestHeaders.from(undefined),
      body: '{}',
    })
    expect(response.status).toBe(401)
    expect(seen).toEqual([{ dpop: undefined, body: '{}' }])
  })
})
