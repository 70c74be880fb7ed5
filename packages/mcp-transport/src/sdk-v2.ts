import type { TokenProvider } from '@mcp-oauth2/auth-core'

/**
 * The SDK v2 (`@modelcontextprotocol/client`) `AuthProvider` shape: a bearer token before every
 * request, and a hook for a 401. Declared here so this package does not depend on SDK v2.
 */
export interface McpAuthProvider {
  token(): Promise<string | undefined>
  onUnauthorized?(context: { response: Response }): Promise<void>
}

/** Options of {@link toAuthProvider}. */
export interface ToAuthProviderOptions {
  /**
   * A 401 that arrives within this many milliseconds after the replacement of an invalidated
   * token was handed out does not invalidate the replacement: the SDK v2 hook does not say which
   * token the failed request carried, and under concurrency it is usually one that still carried
   * the old token.
   * @default 2000
   */
  freshTokenGraceMs?: number | undefined
  /**
   * Clock, epoch milliseconds.
   * @default Date.now
   */
  now?: (() => number) | undefined
}

/**
 * Adapt any {@link TokenProvider} to the SDK v2 `AuthProvider`. On a 401 the token handed out last
 * is invalidated (compare-and-swap), unless it is brand new (see `freshTokenGraceMs`), so the
 * transport's one retry gets a fresh token and concurrent 401s for an old token cost one request.
 * When you also need cookie passthrough or step-up, prefer `fetch: createAuthFetch(…)`, which knows
 * the token of every request.
 *
 * @example
 * ```ts
 * import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
 * import { ClientCredentialsTokenProvider } from '@mcp-oauth2/auth-core'
 * declare const clientSecret: string
 * const provider = new ClientCredentialsTokenProvider({ tokenUrl: 'https://auth.example.com/token', clientId: 'gateway', clientSecret })
 * const url = 'https://crm.example.com/mcp'
 * const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: toAuthProvider(provider) })
 * ```
 */
export function toAuthProvider(
  tokenProvider: TokenProvider,
  options: ToAuthProviderOptions = {},
): McpAuthProvider {
  const grace = options.freshTokenGraceMs ?? 2000
  if (!(grace >= 0)) throw new TypeError('"freshTokenGraceMs" option must be a non-negative number')
  const now = options.now ?? Date.now
  let last: string | undefined
  let invalidated: string | undefined
  // When the token replacing one we invalidated was first handed out.
  let replacedAt = Number.NEGATIVE_INFINITY
  return {
    async token() {
      const value = (await tokenProvider.getToken()).value
      if (value !== last) {
        if (last !== undefined && last === invalidated) replacedAt = now()
        last = value
      }
      return value
    },
    async onUnauthorized() {
      // Already dropped, or a brand-new replacement: the 401 was most likely for the old token.
      if (last === invalidated || now() - replacedAt < grace) return
      invalidated = last
      tokenProvider.invalidate(last)
    },
  }
}
