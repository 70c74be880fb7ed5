import type { TokenProvider } from '@mcp-oauth2/auth-core'

/**
 * The SDK v2 (`@modelcontextprotocol/client`) `AuthProvider` shape: a bearer token before every
 * request, and a hook for a 401. Declared here so this package does not depend on SDK v2.
 */
export interface McpAuthProvider {
  token(): Promise<string | undefined>
  onUnauthorized?(context: { response: Response }): Promise<void>
}

/**
 * Adapt any {@link TokenProvider} to the SDK v2 `AuthProvider`. On a 401 the token that was
 * handed out last is invalidated (compare-and-swap), so the transport's one retry gets a fresh one.
 *
 * @example
 * ```ts
 * import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
 * const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: toAuthProvider(provider) })
 * ```
 */
export function toAuthProvider(tokenProvider: TokenProvider): McpAuthProvider {
  let last: string | undefined
  return {
    async token() {
      last = (await tokenProvider.getToken()).value
      return last
    },
    async onUnauthorized() {
      tokenProvider.invalidate(last)
    },
  }
}
