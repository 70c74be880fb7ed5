import type { AccessToken } from '@mcp-oauth2/auth-core'
import { McpTransportError, McpTransportErrorCode } from '../../errors.js'
import { DPOP_TOKEN, type ServerInit } from './request.js'
import { noteSentCredential } from './sent-credentials.js'

/** Whether `token` goes as `Authorization: Bearer` (any type but `DPoP`, RFC 9449 §7.1). */
export function sentAsBearer(token: AccessToken): boolean {
  return token.tokenType === 'Bearer' || token.tokenType.toLowerCase() !== 'dpop'
}

/**
 * Puts `token` on the request: `Authorization: Bearer <token>`, or for a DPoP-bound token
 * (`tokenType` `DPoP`) `Authorization: DPoP <token>` and the mark the DPoP step makes its proof
 * from. A token of type `DPoP` without its key cannot be used: nothing is sent.
 *
 * @see RFC 6750 §2.1, RFC 9449 §7.1
 */
export function authorize(init: ServerInit, token: AccessToken, origin: string | undefined): ServerInit {
  // So that an error of this request can have the token removed if the server echoes it.
  noteSentCredential(token.value)
  if (sentAsBearer(token)) {
    init.headers.put('authorization', `Bearer ${token.value}`)
    if (init[DPOP_TOKEN] === undefined) return init
    // A retry whose new token is a bearer token: no proof of the earlier one goes along.
    init.headers.delete('dpop')
    return { ...init, [DPOP_TOKEN]: undefined }
  }
  if (token.dpopKey === undefined) {
    throw new McpTransportError(
      McpTransportErrorCode.DpopKeyRequired,
      `the token for ${origin ?? 'the MCP server'} is DPoP-bound but came without its key (AccessToken.dpopKey): nothing was sent`,
    )
  }
  init.headers.put('authorization', `DPoP ${token.value}`)
  return { ...init, [DPOP_TOKEN]: token }
}
