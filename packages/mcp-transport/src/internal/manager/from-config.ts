import type { ServerConfig } from '@mcp-oauth2/auth-core'

/**
 * The secrets of the configured server a definition was made from by `fromConfig` (client
 * secrets, assertions), which `McpServerDefinition` does not carry: kept out of that server's
 * errors even when an MCP server echoes them.
 */
export const configSecrets = new WeakMap<object, readonly string[]>()

/** The secret values of a configured server: its OAuth2 and user-token client secrets and assertion. */
export function secretsOfServerConfig(server: ServerConfig): string[] {
  const values = [
    server.oauth2?.clientSecret?.reveal(),
    server.oauth2?.assertion?.reveal(),
    server.userToken?.clientSecret?.reveal(),
    server.userToken?.idp?.clientSecret?.reveal(),
  ]
  return values.filter((v): v is string => typeof v === 'string')
}
