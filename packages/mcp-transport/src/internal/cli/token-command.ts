// `mcp-oauth2 token`: a service token for the first server with oauth2 settings, with its claims
// (decoded, not verified), expiry and scopes; the token itself only with --show-token.
import { ErrorCode, tokenProviderFromConfig } from '@mcp-oauth2/auth-core'
import { CliError } from '../cli-errors.js'
import { CliProgress, progressFetch } from '../cli-progress.js'
import { decodeClaims } from './claims.js'
import { loadConfig, selectServers } from './config.js'
import type { CliIo } from './runtime.js'
import type { Values } from './usage.js'

export async function commandToken(values: Values, io: CliIo): Promise<number> {
  const config = await loadConfig(values, io)
  const server = selectServers(config, values.server).find((s) => s.oauth2)
  if (!server) throw new CliError(ErrorCode.Config, 'no configured server has oauth2 settings')
  const progress = new CliProgress(io)
  const provider = tokenProviderFromConfig(server, { fetch: progressFetch(progress, () => false) })!
  progress.status(`requesting a token for ${server.name}`)
  const started = performance.now()
  const token = await provider.getToken().finally(() => progress.clear())
  const result = {
    ok: true,
    server: server.name,
    tokenType: token.tokenType,
    scopes: token.scopes,
    expiresAt: new Date(token.expiresAt).toISOString(),
    expiresInSeconds: Math.round((token.expiresAt - Date.now()) / 1000),
    durationMs: Math.round(performance.now() - started),
    claims: decodeClaims(token.value) ?? null,
    ...(values['show-token'] ? { accessToken: token.value } : {}),
  }
  if (values.json) {
    io.stdout(JSON.stringify(result, null, 2))
  } else {
    io.stdout(`server:     ${result.server}`)
    io.stdout(`type:       ${result.tokenType}`)
    io.stdout(`scopes:     ${result.scopes.join(' ') || '(none)'}`)
    io.stdout(`expires:    ${result.expiresAt} (in ${result.expiresInSeconds} s)`)
    io.stdout(
      `claims:     ${result.claims ? JSON.stringify(result.claims) : '(not a JWT)'} (decoded, not verified)`,
    )
    if (values['show-token']) io.stdout(`token:      ${token.value}`)
    else io.stdout('token:      [hidden: pass --show-token to print it]')
  }
  return 0
}
