// ClientCredentialsTokenProvider on the diagnostics channels: every request to the authorization
// server traced (grant, endpoint, scopes, reason, attempts, outcome, status, code, OAuth error),
// every lookup published (hit, miss, shared), and never a token or secret in either.
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ClientCredentialsTokenProvider, InMemoryTokenStore } from '../src/index.js'
import { type Observed, observe } from './support/diagnostics.js'

const TOKEN_URL = 'https://as.example.test/oauth2/token'
const SECRET = 'diag-secret-91c2'

const server = setupServer()
let observed: Observed
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterEach(() => {
  server.resetHandlers()
  observed?.stop()
})
afterAll(() => server.close())

function tokenEndpoint(answers: ('ok' | 'invalid_client' | 503)[] = []) {
  let n = 0
  server.use(
    http.post(TOKEN_URL, () => {
      const answer = answers.shift() ?? 'ok'
      if (answer === 503) return new HttpResponse(null, { status: 503 })
      if (answer === 'invalid_client')
        return HttpResponse.json(
          { error: 'invalid_client', error_description: `bad ${SECRET}` },
          { status: 400 },
        )
      return HttpResponse.json({ access_token: `secret-token-${++n}`, token_type: 'Bearer', expires_in: 100 })
    }),
  )
}

describe('ClientCredentialsTokenProvider diagnostics', () => {
  it('traces a cold request, publishes miss then hit, and refresh, step-up and invalidated requests', async () => {
    tokenEndpoint([503])
    let now = 1_000_000
    const provider = new ClientCredentialsTokenProvider({
      tokenUrl: TOKEN_URL,
      clientId: 'gateway',
      clientSecret: SECRET,
      scope: 'mcp:read',
      refreshSkewSeconds: 10,
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      now: () => now,
    })
    observed = observe()
    const first = await provider.getToken()
    await provider.getToken()
    expect(observed.cache.map((m) => m.result)).toEqual(['miss', 'hit'])
    expect(observed.cache[0]).toEqual({ grant: 'client_credentials', result: 'miss', scopes: ['mcp:read'] })
    expect(observed.started).toHaveLength(1)
    expect(observed.requests).toEqual([
      {
        grant: 'client_credentials',
        endpoint: TOKEN_URL,
        scopes: ['mcp:read'],
        reason: 'cold',
        attempts: 2,
        outcome: 'ok',
        status: 200,
      },
    ])

    now += 95_000 // inside the refresh window
    await provider.getToken()
    await provider.getToken({ scopes: ['ticket:create'] })
    provider.invalidate(first.value) // already replaced by the refresh: nothing happens
    now += 200_000 // the refreshed token has expired too
    await provider.getToken()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(observed.requests.map((r) => r.reason)).toEqual(['cold', 'refresh', 'step_up', 'expired'])
    const fresh = await provider.getToken()
    provider.invalidate(fresh.value)
    await provider.getToken()
    expect(observed.requests.at(-1)?.reason).toBe('invalidated')
    expect(observed.text()).not.toContain('secret-token')
    expect(observed.text()).not.toContain(SECRET)
  })

  it('traces a failed request with its code, status and OAuth error, without the secret', async () => {
    tokenEndpoint(['invalid_client'])
    const provider = new ClientCredentialsTokenProvider({
      tokenUrl: TOKEN_URL,
      clientId: 'gateway',
      clientSecret: SECRET,
      tokenEndpointAuthMethod: 'client_secret_post',
    })
    observed = observe()
    await expect(provider.getToken()).rejects.toMatchObject({ error: 'invalid_client' })
    expect(observed.requests).toHaveLength(1)
    expect(observed.requests[0]).toMatchObject({
      grant: 'client_credentials',
      reason: 'cold',
      outcome: 'error',
      code: 'ERR_OAUTH_ERROR_RESPONSE',
      status: 400,
      oauthError: 'invalid_client',
      attempts: 1,
    })
    // `error` is the channel's: the error the request failed with.
    expect(observed.requests[0]?.error).toMatchObject({ code: 'ERR_OAUTH_ERROR_RESPONSE' })
    expect(observed.text()).not.toContain(SECRET)
  })

  it('publishes shared for a token read from the store', async () => {
    tokenEndpoint()
    const store = new InMemoryTokenStore()
    const options = { tokenUrl: TOKEN_URL, clientId: 'gateway', clientSecret: SECRET, store }
    await new ClientCredentialsTokenProvider(options).getToken()
    observed = observe()
    await new ClientCredentialsTokenProvider(options).getToken()
    expect(observed.cache.map((m) => m.result)).toEqual(['miss', 'shared'])
    expect(observed.requests).toEqual([])
  })
})
