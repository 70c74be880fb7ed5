import { isDpopNonceChallenge } from '@mcp-oauth2/auth-core'
import { discard, ISSUED_TOKEN, isReplayable, type ServerInit, type ServerMiddleware } from './request.js'

/**
 * DPoP on MCP requests (RFC 9449 §7): a request whose token the bearer step marked as DPoP-bound
 * (`tokenType: 'DPoP'` with its `dpopKey`, from a provider with `dpop`) goes out with
 * `Authorization: DPoP <token>` and a fresh proof in `DPoP` (`htm`, `htu`, `iat`, `jti`, `ath`,
 * and the server's nonce once it sent one). A `401 use_dpop_nonce` is answered once, with a new
 * proof carrying the nonce of its `DPoP-Nonce` (kept for the origin's later requests). It sits in
 * the MCP server's branch of the pipeline: no other origin ever gets a proof. Other tokens pass
 * through untouched.
 *
 * @see RFC 9449 §7.1, §8, §9
 */
export function dpop(): ServerMiddleware {
  return function addDpop(next) {
    async function withProof(url: string, init: ServerInit): Promise<Response> {
      const token = init[ISSUED_TOKEN]
      const key = token?.dpopKey
      if (!token || !key || token.tokenType.toLowerCase() !== 'dpop') return next(url, init)
      const method = (init.method ?? 'GET').toUpperCase()
      init.headers.set('authorization', `DPoP ${token.value}`)
      init.headers.set('dpop', await key.proof({ method, url, accessToken: token.value }))
      const response = await next(url, init)
      // A server may rotate its nonce on any answer (RFC 9449 §8.2).
      key.rememberNonce(url, response.headers.get('dpop-nonce'))
      if (!isDpopNonceChallenge(response) || !isReplayable(init.body)) return response
      discard(response)
      const headers = new Headers(init.headers)
      headers.set('dpop', await key.proof({ method, url, accessToken: token.value }))
      const retried = await next(url, { ...init, headers })
      key.rememberNonce(url, retried.headers.get('dpop-nonce'))
      return retried
    }
    return withProof
  }
}
