#!/usr/bin/env node
/**
 * `mcp-oauth2-testkit serve [options]`: starts the mock authorization server and the mock MCP
 * server on loopback, prints one JSON line `{ issuer, tokenEndpoint, jwksUri, metadataUrl, mcpUrl,
 * sseUrl, clients }` on stdout and runs until SIGINT/SIGTERM.
 *
 * By default the MCP server listens on http://127.0.0.1:4100/mcp and the authorization server on
 * port 4101, the URLs the README's quick start uses; `--port 0` takes free ports. Every failure is
 * one line on stderr (no stack trace) and a non-zero exit: 2 for a wrong command line, 1 otherwise.
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { TestkitError, TestkitErrorCode } from './errors.js'
import { closest, parseCommandLine, unknownCommand } from './internal/cli-args.js'
import type { McpProtocolVersion } from './mock-mcp-server-options.js'
import { type StartMockServersOptions, startMockServers } from './start-mock-servers.js'

/** The MCP server's port when none is given: the README's quick start connects to it. */
const DEFAULT_PORT = 4100
const NAME = 'mcp-oauth2-testkit'

const USAGE = `Usage: ${NAME} serve [options]

Starts a mock OAuth2 authorization server and a mock MCP server on loopback and prints their
URLs as one JSON line.

Options:
  --port <n>        MCP server port (default ${DEFAULT_PORT}; 0: a free port)
  --oauth-port <n>  authorization server port (default --port + 1; with --port 0, a free port)
  --host <host>     address to listen on (default 127.0.0.1; a non-loopback one needs --allow-remote)
  --allow-remote    allow a --host that is not loopback (prints a warning: anyone who reaches it gets tokens)
  --config <file>   JSON file with startMockServers options (clients, tokenTtlSeconds, toolScopes, ...)
  --stateless       serve 2025-era MCP without sessions
  --protocol <v>    serve only this MCP revision (2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26,
                    2024-11-05; default: whichever the client negotiates)
  --no-auth         serve MCP without bearer checks (prints a warning; for the conformance suite)
  --conformance     add the conformance suite's fixture tools, prompts and resources
  -h, --help        show this help
  -v, --version     print the version
`

const OPTIONS = {
  port: { type: 'string' },
  'oauth-port': { type: 'string' },
  host: { type: 'string' },
  'allow-remote': { type: 'boolean' },
  config: { type: 'string' },
  stateless: { type: 'boolean' },
  protocol: { type: 'string' },
  'no-auth': { type: 'boolean' },
  conformance: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

function version(): string {
  // src/cli.ts and dist/cli.js both sit one level below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

function parsePort(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const port = Number(value)
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TestkitError(TestkitErrorCode.Usage, `--${name} must be a port number (0-65535), got ${value}`)
  }
  return port
}

const PROTOCOLS: readonly McpProtocolVersion[] = [
  '2026-07-28',
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
]

function parseProtocol(value: string): McpProtocolVersion {
  const found = PROTOCOLS.find((p) => p === value)
  if (!found) {
    const hint = closest(value, PROTOCOLS)
    throw new TestkitError(
      TestkitErrorCode.Usage,
      `--protocol must be one of ${PROTOCOLS.join(', ')}, got ${value}${hint ? ` (did you mean ${hint}?)` : ''}`,
    )
  }
  return found
}

async function loadConfig(path: string): Promise<StartMockServersOptions> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object')
    return parsed as StartMockServersOptions
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new TestkitError(TestkitErrorCode.ConfigFile, `cannot load config file ${path}: ${reason}`, {
      cause: error,
    })
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, OPTIONS)
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`)
    return
  }
  const [command, ...extra] = positionals
  if (command === undefined) {
    process.stderr.write(USAGE)
    process.exitCode = 2
    return
  }
  if (command !== 'serve') throw unknownCommand(command, ['serve'])
  if (extra.length > 0) throw new TestkitError(TestkitErrorCode.Usage, `unexpected argument ${extra[0]}`)
  const config = values.config ? await loadConfig(values.config) : {}
  const mcpPort = parsePort(values.port, 'port') ?? config.mcpPort ?? DEFAULT_PORT
  const oauthPort =
    parsePort(values['oauth-port'], 'oauth-port') ?? config.oauthPort ?? (mcpPort ? mcpPort + 1 : undefined)
  const servers = await startMockServers({
    ...config,
    ...(values.host ? { host: values.host } : {}),
    ...(values['allow-remote'] ? { allowRemote: true } : {}),
    ...(mcpPort !== undefined ? { mcpPort } : {}),
    ...(oauthPort !== undefined ? { oauthPort } : {}),
    ...(values.stateless ? { stateless: true } : {}),
    ...(values.protocol ? { protocolVersion: parseProtocol(values.protocol) } : {}),
    ...(values['no-auth'] ? { auth: false } : {}),
    ...(values.conformance ? { conformanceFixtures: true } : {}),
    onWarning: (message) => process.stderr.write(`${NAME}: warning: ${message}\n`),
  })
  // Handlers first: a supervisor may signal as soon as it has read the JSON line. `on`, not
  // `once`: a signal sent to the process group also arrives relayed by a wrapper (tsx, npx).
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    servers.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  if (values['no-auth']) {
    process.stderr.write(`${NAME}: warning: --no-auth: the MCP server answers requests without a token\n`)
  }
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
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error)
  const code = error instanceof TestkitError ? error.code : undefined
  const cause = (error as { cause?: { code?: unknown } }).cause?.code
  const detail = typeof cause === 'string' ? ` (${cause})` : ''
  const help = code === TestkitErrorCode.Usage ? `. See ${NAME} --help` : ''
  process.stderr.write(`${NAME}: ${message}${detail}${help}\n`)
  process.exit(code === TestkitErrorCode.Usage ? 2 : 1)
})
