#!/usr/bin/env node
/**
 * `mcp-oauth2-testkit serve [--port N] [--oauth-port M] [--host H] [--config file.json]`
 *
 * By default the MCP server listens on http://127.0.0.1:4100/mcp and the authorization server on
 * port 4101, the URLs the README's quick start uses; `--port 0` takes free ports.
 * Starts the mock authorization server and mock MCP server on loopback, prints one JSON line
 * `{ issuer, tokenEndpoint, jwksUri, metadataUrl, mcpUrl, sseUrl, clients }` on stdout and runs
 * until SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { TestkitError, TestkitErrorCode } from './errors.js'
import { type StartMockServersOptions, startMockServers } from './start-mock-servers.js'

/** The MCP server's port when none is given: the README's quick start connects to it. */
const DEFAULT_PORT = 4100

const USAGE = `Usage: mcp-oauth2-testkit serve [options]

Options:
  --port <n>        MCP server port (default 4100; 0: a free port)
  --oauth-port <n>  authorization server port (default --port + 1; with --port 0, a free port)
  --host <host>     loopback host (default 127.0.0.1)
  --config <file>   JSON file with startMockServers options (clients, tokenTtlSeconds, toolScopes, ...)
  --stateless       serve the MCP endpoint statelessly
  -h, --help        show this help
`

function parsePort(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`--${name} must be a port number`)
  return port
}

async function loadConfig(path: string): Promise<StartMockServersOptions> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object')
    return parsed as StartMockServersOptions
  } catch (error) {
    throw new TestkitError(TestkitErrorCode.ConfigFile, `cannot load config file ${path}`, { cause: error })
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'oauth-port': { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      stateless: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help || positionals[0] !== 'serve') {
    process.stdout.write(USAGE)
    process.exitCode = values.help ? 0 : 1
    return
  }
  const config = values.config ? await loadConfig(values.config) : {}
  const mcpPort = parsePort(values.port, 'port') ?? config.mcpPort ?? DEFAULT_PORT
  const oauthPort =
    parsePort(values['oauth-port'], 'oauth-port') ?? config.oauthPort ?? (mcpPort ? mcpPort + 1 : undefined)
  const servers = await startMockServers({
    ...config,
    ...(values.host ? { host: values.host } : {}),
    ...(mcpPort !== undefined ? { mcpPort } : {}),
    ...(oauthPort !== undefined ? { oauthPort } : {}),
    ...(values.stateless ? { stateless: true } : {}),
  })
  process.stdout.write(
    `${JSON.stringify({
      issuer: servers.oauth.issuer,
      tokenEndpoint: servers.oauth.tokenEndpoint,
      jwksUri: servers.oauth.jwksUri,
      metadataUrl: servers.oauth.metadataUrl,
      mcpUrl: servers.mcp.url,
      sseUrl: servers.mcp.sseUrl,
      clients: servers.oauth.server.clients.map((c) => ({
        clientId: c.clientId,
        clientSecret: c.clientSecret,
      })),
    })}\n`,
  )
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    servers.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`mcp-oauth2-testkit: ${message}\n`)
  process.exit(1)
})
