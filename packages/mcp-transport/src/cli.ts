#!/usr/bin/env node
// `mcp-oauth2`: get a token, list tools, call a tool and diagnose a configuration from the
// command line. Configuration from `--config <file>` (YAML or JSON) or MCP_OAUTH2_* variables.
import { readFileSync } from 'node:fs'
import { createTransport } from './create-transport.js'
import { type CliIo, type CliRuntime, runCli } from './internal/cli-commands.js'
import { McpServerManager } from './server-manager.js'
import { withUserContext } from './user-context.js'

/** This package's version: src/cli.ts and dist/cli.js both sit one level below package.json. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

const runtime: CliRuntime = {
  version: version(),
  createManager: (config, options) => McpServerManager.fromConfig(config, options),
  createTransport,
  withUserContext,
}

const io: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  isTTY: process.stderr.isTTY === true && process.env.TERM !== 'dumb',
  write: (chunk) => process.stderr.write(chunk),
  columns: process.stderr.columns,
}

runCli(process.argv.slice(2), io, runtime).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    // runCli reports its own failures; this is a bug in it. One line, still no stack trace.
    process.stderr.write(`✗ ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
