// TokenExchangeTokenProvider against an msw authorization server that implements RFC 8693: it
// verifies the subject token (signature, audience, expiry), checks may_act against the actor, and
// issues a token per subject.
import { inspect } from 'node:util'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  AuthCoreError,
  ClientCredentialsTokenProvider,
  InMemoryTokenStore,
  type SharedTokenEntry,
  TokenExchangeTokenProvider,
  type TokenExchangeTokenProviderOptions,
  TokenRequestError,
  type TokenStoreSetOptions,
  tokenCacheKey,
} from '../src/index.js'
import { observe } from './support/diagnostics.js'
import { signJwt, verifyJwt } from './support/jwt.js'

const AS = 'https://as.example.test'
const TOKEN_URL = `${AS}/token`
const GATEWAY_SECRET = 'gateway-secret-6d1f'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

interface Exchange {
  body: URLSearchParams
  authorization: string | null
}

/** RFC 8693 at TOKEN_URL: subject tokens must be ours, for audience `gateway`, unexpired. */
function exchangeServer(options: { expiresIn?: number; delayMs?: number; echo?: boolean } = {}) {
  const seen: Exchange[] = []
  let n = 0
  server.use(
    http.post(TOKEN_URL, async ({ request }) => {
      const body = new URLSearchParams(await request.text())
      seen.push({ body, authorization: request.headers.get('authorization') })
      if (body.get('grant_type') === 'client_credentials') {
        return HttpResponse.json({
          access_token: `actor-token-${++n}`,
          token_type: 'Bearer',
          expires_in: 3600,
        })
      }
      if (body.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange')
        return HttpResponse.json({ error: 'unsupported_grant_type' }, { status: 400 })
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
      const subject = body.get('subject_token') ?? ''
      let claims: Record<string, unknown>
      try {
        claims = await verifyJwt(subject, { audience: 'gateway' })
      } catch (error) {
        const audience = (error as { claim?: string }).claim === 'aud'
        return HttpResponse.json(
          {
            error: audience ? 'invalid_target' : 'invalid_grant',
            error_description: options.echo ? `subject_token ${subject} refused` : 'subject token refused',
          },
          { status: 400 },
        )
      }
      const actor = body.get('actor_token')
      const mayAct = claims['may_act'] as { sub?: string } | undefined
      if (actor !== null && mayAct?.sub !== 'gateway')
        return HttpResponse.json(
          { error: 'invalid_grant', error_description: 'may not act' },
          { status: 400 },
        )
      return HttpResponse.json({
        access_token: `exchanged-${String(claims['sub'])}-${++n}`,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: options.expiresIn ?? 3600,
        ...(actor === null ? {} : { scope: 'mcp:read' }),
      })
    }),
  )
  return seen
}

function provider(extra: Partial<TokenExchangeTokenProviderOptions> = {}) {
  return new TokenExchangeTokenProvider({
    tokenUrl: TOKEN_URL,
    clientId: 'gateway',
    clientSecret: GATEWAY_SECRET,
    audience: 'https://mcp.example.test',
    scope: 'mcp:read',
    retry: { limit: 0 },
    ...extra,
  })
}

const userToken = (sub: string, extra: Record<string, unknown> = {}, expiresIn?: number) =>
  signJwt({ sub, aud: 'gateway', ...extra }, expiresIn === undefined ? {} : { expiresIn })

describe('TokenExchangeTokenProvider', () => {
  it('exchanges the subject token (RFC 8693 parameters, client authentication) for a token of that user', async () => {
    const seen = exchangeServer()
    const subject = await userToken('alice')
    const token = await provider({
      requestedTokenType: 'access_token',
      resource: 'https://mcp.example.test/mcp',
    }).getToken({
      subjectToken: subject,
    })
    expect(token.value).toBe('exchanged-alice-1')
    expect(token.tokenType).toBe('Bearer')
    const body = seen[0]!.body
    expect(Object.fromEntries(body)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subject,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'https://mcp.example.test',
      resource: 'https://mcp.example.test/mcp',
      scope: 'mcp:read',
    })
    expect(seen[0]!.authorization).toMatch(/^Basic /)
  })

  it('sends the gateway token from another provider as actor_token (may_act checked by the server)', async () => {
    const seen = exchangeServer()
    const actor = new ClientCredentialsTokenProvider({
      tokenUrl: TOKEN_URL,
      clientId: 'gateway',
      clientSecret: GATEWAY_SECRET,
    })
    const p = provider({ actor })
    await expect(
      p.getToken({ subjectToken: await userToken('bob', { may_act: { sub: 'gateway' } }) }),
    ).resolves.toMatchObject({
      value: 'exchanged-bob-2',
    })
    const exchange = seen.find((s) => s.body.has('subject_token'))!
    expect(exchange.body.get('actor_token')).toBe('actor-token-1')
    expect(exchange.body.get('actor_token_type')).toBe('urn:ietf:params:oauth:token-type:access_token')
    // A user who did not allow the gateway to act: a typed invalid_grant.
    await expect(p.getToken({ subjectToken: await userToken('carol') })).rejects.toMatchObject({
      code: 'ERR_OAUTH_ERROR_RESPONSE',
      error: 'invalid_grant',
    })
  })

  it('caches per user: one exchange per user, concurrent callers share it, users never get each other’s token', async () => {
    const seen = exchangeServer({ delayMs: 10 })
    const p = provider()
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => userToken(`user-${i}`)))
    const tokens = await Promise.all(
      users.flatMap((subjectToken) => [1, 2, 3].map(() => p.getToken({ subjectToken }))),
    )
    expect(seen).toHaveLength(50)
    tokens.forEach((token, i) => {
      expect(token.value).toMatch(new RegExp(`^exchanged-user-${Math.floor(i / 3)}-\\d+$`))
    })
    expect(new Set(tokens.map((t) => t.value)).size).toBe(50)
  })

  it('caches no longer than the subject token lives, and refuses an expired one without a request', async () => {
    const seen = exchangeServer({ expiresIn: 3600 })
    let now = Date.now()
    const p = provider({ now: () => now })
    const subject = await userToken('dave', {}, 120)
    const token = await p.getToken({ subjectToken: subject })
    expect(token.expiresAt).toBeLessThanOrEqual(Math.ceil(now / 1000 + 120) * 1000)
    now += 121_000
    const error = await p.getToken({ subjectToken: subject }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthCoreError)
    expect(error).toMatchObject({ code: 'ERR_SUBJECT_TOKEN_EXPIRED' })
    expect(seen).toHaveLength(1)
  })

  it('needs a subject token', async () => {
    await expect(provider().getToken()).rejects.toMatchObject({ code: 'ERR_SUBJECT_TOKEN_REQUIRED' })
    await expect(provider().getToken({ subjectToken: '' })).rejects.toMatchObject({
      code: 'ERR_SUBJECT_TOKEN_REQUIRED',
    })
  })

  it('bounds the cache of users (least recently fetched goes first)', async () => {
    const seen = exchangeServer()
    const p = provider({ maxCachedSubjects: 2 })
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((s) => userToken(s)))
    for (const subjectToken of [a!, b!, c!, c!, b!]) await p.getToken({ subjectToken })
    expect(seen).toHaveLength(3)
    await p.getToken({ subjectToken: a! })
    expect(seen).toHaveLength(4)
  })

  it('reports a wrong audience and an expired subject (server-side) typed, without the token in any message', async () => {
    exchangeServer({ echo: true })
    const p = provider()
    const wrongAudience = await signJwt({ sub: 'eve', aud: 'someone-else' })
    const error = await p.getToken({ subjectToken: wrongAudience }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenRequestError)
    expect(error).toMatchObject({ error: 'invalid_target', status: 400 })
    const text = `${(error as Error).message} ${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`
    expect(text).not.toContain(wrongAudience)
    expect(text).not.toContain(wrongAudience.split('.')[1])
    expect(text).not.toContain(GATEWAY_SECRET)
  })

  it('keeps its store key a digest: the subject token is nowhere in what the store sees', async () => {
    exchangeServer()
    const written: { key: string; entry: SharedTokenEntry }[] = []
    class Recording extends InMemoryTokenStore {
      override async set(key: string, entry: SharedTokenEntry, options?: TokenStoreSetOptions) {
        written.push({ key, entry })
        return super.set(key, entry, options)
      }
    }
    const store = new Recording()
    const subject = await userToken('frank')
    await provider({ store }).getToken({ subjectToken: subject })
    // A second replica gets the same token from the store, without an exchange.
    const second = await provider({ store }).getToken({ subjectToken: subject })
    expect(second.value).toBe('exchanged-frank-1')
    expect(written).toHaveLength(1)
    expect(JSON.stringify(written[0]!.key)).not.toContain(subject.split('.')[1]!.slice(0, 20))
    expect(written[0]!.key).toMatch(/^[0-9a-f]{64}$/)
    const other = await tokenCacheKey({
      tokenEndpoint: TOKEN_URL,
      clientId: 'gateway',
      credential: GATEWAY_SECRET,
      authMethod: 'client_secret_basic',
      scopes: ['mcp:read'],
    })
    expect(written[0]!.key).not.toBe(other)
  })

  it('traces the exchange on the diagnostics channel without the subject token', async () => {
    exchangeServer()
    const subject = await userToken('gina')
    const observed = observe()
    try {
      const p = provider()
      await p.getToken({ subjectToken: subject })
      await p.getToken({ subjectToken: subject })
      expect(observed.requests).toEqual([
        expect.objectContaining({
          grant: 'urn:ietf:params:oauth:grant-type:token-exchange',
          endpoint: TOKEN_URL,
          scopes: ['mcp:read'],
          reason: 'cold',
          outcome: 'ok',
          attempts: 1,
        }),
      ])
      expect(observed.cache.map((m) => m.result)).toEqual(['miss', 'hit'])
      expect(observed.text()).not.toContain(subject)
    } finally {
      observed.stop()
    }
  })

  it('rejects bad options naming them', () => {
    expect(() => provider({ subjectTokenType: 'not a type' })).toThrow(/"subjectTokenType"/)
    expect(() => provider({ actor: {} as never })).toThrow(/"actor"/)
    expect(() => provider({ maxCachedSubjects: 0 })).toThrow(/"maxCachedSubjects"/)
  })
})

describe('TokenExchangeTokenProvider.cachedToken', () => {
  it("hands out the user's own exchanged token from memory, never another user's", async () => {
    exchangeServer()
    const p = provider()
    const alice = await userToken('alice')
    const bob = await userToken('bob')
    expect(p.cachedToken({ subjectToken: alice })).toBeUndefined()
    const token = await p.getToken({ subjectToken: alice })
    expect(p.cachedToken({ subjectToken: alice })).toBe(token)
    expect(p.cachedToken({ subjectToken: bob })).toBeUndefined()
    expect(p.cachedToken()).toBeUndefined() // no subject token: getToken would refuse
    expect(p.cachedToken({ subjectToken: alice, scopes: ['mcp:write'] })).toBeUndefined()
    p.invalidate(token.value)
    expect(p.cachedToken({ subjectToken: alice })).toBeUndefined()
  })
})
