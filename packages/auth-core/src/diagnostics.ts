/**
 * Diagnostics channels of the token providers, for observers (OpenTelemetry, logs, metrics):
 * `mcp-oauth2:token-request` (a `TracingChannel`) and `mcp-oauth2:token-cache`. See
 * {@link TokenRequestContext} for what each message carries (never a secret or token value).
 *
 * @example
 * import { tracingChannel } from 'node:diagnostics_channel'
 * import { TOKEN_REQUEST_CHANNEL } from '@mcp-oauth2/auth-core'
 * import type { TokenRequestContext } from '@mcp-oauth2/auth-core'
 * tracingChannel<unknown, TokenRequestContext>(TOKEN_REQUEST_CHANNEL).subscribe({
 *   start(ctx) { console.log('token request', ctx.grant, ctx.endpoint) },
 *   asyncEnd(ctx) { console.log(ctx.outcome, 'after', ctx.attempts, 'attempt(s)') },
 *   end() {}, asyncStart() {}, error() {},
 * })
 */
export type { TokenCacheMessage, TokenRequestContext } from './internal/diagnostics.js'
export { TOKEN_CACHE_CHANNEL, TOKEN_REQUEST_CHANNEL } from './internal/diagnostics.js'
