import { type AccessToken, type DpopKey, isDpopNonceChallenge } from '@mcp-oauth2/auth-core'
import { DPOP_TOKEN, discard, isReplayable, type ServerInit, type ServerMiddleware } from './request.js'
import { RequestHeaders } from './request-headers.js'

/** A nonce the server sent, remembered for its origin (RFC 9449 §8.2: on any response). */
function rememberNonce(key: DpopKey, url: string, response: Response): void {
  const nonce = response.headers.get('dpop-nonce')
  if (nonce !== null) key.rememberNonce(url, nonce)
}

/**
 * DPoP proofs on the MCP server's requests (RFC 9449 §7): for a request whose token the bearer
 * step sent as `Authorization: DPoP <token>`, a `DPoP` header with a new proof made with the
 * token's key (`htm`, `htu` without query and fragment, `iat`, a fresh `jti`, `ath` of the token,
 * and the server's nonce once it sent one). A `401` with `WWW-Authenticate: DPoP
 * error="use_dpop_nonce"` and `DPoP-Nonce` is answered by exactly one retry with a new proof that
 * carries the nonce (a stream body is not replayed: the challenge is returned). A `DPoP-Nonce` on
 * any response is remembered for the server's origin, so later requests carry it from the start.
 *
 * The step sits in the MCP server's branch of the pipeline, below the bearer step: no other
 * origin, no redirect hop that left the server, and no authorization-server request on the
 * server's origin ever gets a proof. The bearer step does not take a `use_dpop_nonce` answer for
 * an invalid token. Requests with a bearer token pass straight through.
 *
 * @see RFC 9449 §4.2, §7.1, §8, §9
 */
export function dpop(): ServerMiddleware {
  return function addDpopProofs(next) {
    async function withProof(url: string, init: ServerInit, token: AccessToken): Promise<Response> {
      // The bearer step only marks tokens that have their key.
      const key = token.dpopKey as DpopKey
      const method = (init.method ?? 'GET').toUpperCase()
      init.headers.set('dpop', await key.proof({ method, url, accessToken: token.value }))
      const response = await next(url, init)
      rememberNonce(key, url, response)
      if (!isDpopNonceChallenge(response) || !isReplayable(init.body)) return response
      // RFC 9449 §9: the server wants its nonce; one retry, with a new proof (a new jti) carrying it.
      discard(response)
      const headers = RequestHeaders.from(init.headers)
      headers.set('dpop', await key.proof({ method, url, accessToken: token.value }))
      const retried = await next(url, { ...init, headers })
      rememberNonce(key, url, retried)
      return retried
    }

    return function withDpop(url: string, init: ServerInit): Promise<Response> {
      const token = init[DPOP_TOKEN]
      return token === undefined ? next(url, init) : withProof(url, init, token)
    }
  }
}
