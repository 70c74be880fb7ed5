// `mcp-oauth2 check`: each step a server needs, diagnosed one by one (configuration, rate limits,
// token provider, discovery and token, connection and TLS), each with its time and hints.
import { type ServerConfig, tokenProviderFromConfig } from '@mcp-oauth2/auth-core'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { type Diagnosis, diagnose } from '../cli-diagnose.js'
import { CliProgress, progressFetch } from '../cli-progress.js'
import { describeRateLimits, rateLimitsJson } from '../cli-rate-limits.js'
import { secretsOfServerConfig } from '../manager/from-config.js'
import { decodeClaims } from './claims.js'
import { loadConfig, selectServers } from './config.js'
import { failureJson } from './failures.js'
import type { CliIo, CliRuntime } from './runtime.js'
import type { Values } from './usage.js'

interface CheckStep {
  server?: string | undefined
  step: string
  ok: boolean
  detail: string
  durationMs: number
  code?: string
  hints?: string[]
}

export async function commandCheck(values: Values, io: CliIo, runtime: CliRuntime): Promise<number> {
  const steps: CheckStep[] = []
  const failures: Diagnosis[] = []
  const progress = new CliProgress(io)
  const fetch = progressFetch(progress, () => false)
  const report = (step: CheckStep) => {
    steps.push(step)
    if (values.json) return
    progress.clear()
    io.stdout(
      `${step.ok ? '✓' : '✗'} ${step.server ? `${step.server}: ` : ''}${step.step} — ${step.detail} (${step.durationMs} ms)`,
    )
    for (const hint of step.hints ?? []) io.stdout(`    hint: ${hint}`)
  }
  // What an MCP server may echo back into an error of the check: its static headers, the client
  // secrets, the token sent (#13 item 11).
  let secrets: string[] = []
  const timed = async <T>(
    server: ServerConfig | undefined,
    step: string,
    fn: () => Promise<T>,
    detail: (v: T) => string,
  ) => {
    progress.status(`${server ? `${server.name}: ` : ''}${step}`)
    const started = performance.now()
    try {
      const value = await fn()
      report({
        server: server?.name,
        step,
        ok: true,
        detail: detail(value),
        durationMs: Math.round(performance.now() - started),
      })
      return value
    } catch (error) {
      const d = diagnose(error, { url: server?.url, server: server?.name, secrets })
      failures.push(d)
      report({
        server: server?.name,
        step,
        ok: false,
        detail: d.message,
        durationMs: Math.round(performance.now() - started),
        code: d.code,
        hints: d.hints,
      })
      return undefined
    } finally {
      progress.clear()
    }
  }
  const config = await timed(
    undefined,
    'configuration',
    () => loadConfig(values, io).then((c) => ({ c, servers: selectServers(c, values.server) })),
    ({ servers }) =>
      `${servers.length} server(s): ${servers.map((s) => `${s.name} (${s.transport})`).join(', ')}`,
  )
  const rateLimits = config?.c.rateLimits
  if (rateLimits)
    await timed(
      undefined,
      'rate limits',
      async () => rateLimits,
      (limits) => describeRateLimits(limits),
    )
  for (const server of config?.servers ?? []) {
    secrets = [...Object.values(server.headers), ...secretsOfServerConfig(server)]
    const provider = server.oauth2
      ? await timed(
          server,
          'token provider',
          async () => tokenProviderFromConfig(server, { fetch })!,
          () => {
            const o = server.oauth2!
            return o.tokenUrl
              ? `token_url ${o.tokenUrl}`
              : o.issuer
                ? `issuer ${o.issuer} (RFC 8414 discovery)`
                : `discovery from ${o.resourceServerUrl} (RFC 9728)`
          },
        )
      : undefined
    if (server.oauth2 && !provider) continue
    if (provider) {
      const token = await timed(
        server,
        'discovery and token',
        () => provider.getToken(),
        (t) => {
          const claims = decodeClaims(t.value)
          const aud = claims?.aud === undefined ? '' : `, aud ${JSON.stringify(claims.aud)}`
          return `scopes "${t.scopes.join(' ')}", expires in ${Math.round((t.expiresAt - Date.now()) / 1000)} s${aud}`
        },
      )
      if (!token) continue
      secrets.push(token.value)
    }
    await timed(
      server,
      `connect (${server.url.startsWith('https:') ? 'TLS' : 'plain http'})`,
      async () => {
        const client = new Client({ name: 'mcp-oauth2-check', version: runtime.version })
        await client.connect(runtime.createTransport(server, { tokenProvider: provider }))
        try {
          return (await client.listTools()).tools.length
        } finally {
          await client.close()
        }
      },
      (n) => `${n} tool(s)`,
    )
  }
  const failed = steps.filter((s) => !s.ok).length
  if (values.json) {
    const first = failures[0]
    // The limits as read, without the store's URL (it may hold a password).
    const limits = rateLimits ? { rateLimits: rateLimitsJson(rateLimits) } : {}
    io.stdout(
      JSON.stringify(
        first ? failureJson(first, { steps, ...limits }) : { ok: true, steps, ...limits },
        null,
        2,
      ),
    )
  } else io.stdout(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`)
  return failed === 0 ? 0 : 1
}
