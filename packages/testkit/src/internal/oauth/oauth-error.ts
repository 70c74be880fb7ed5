/** An OAuth error answer of the mock authorization server (RFC 6749 §5.2). Never re-exported. */
import { jsonResponse } from '../http.js'

/** Thrown inside the token endpoint; turned into the JSON error response by {@link oauthErrorResponse}. */
export class OAuthError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** The RFC 6749 §5.2 JSON error body, with `Cache-Control: no-store` and `Pragma: no-cache`. */
export function oauthErrorResponse(err: OAuthError): Response {
  return jsonResponse({ error: err.error, error_description: err.description }, err.status, {
    pragma: 'no-cache',
    ...err.headers,
  })
}
