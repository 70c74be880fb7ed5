#!/usr/bin/env node
// `mcp-oauth2`: get a token, list tools, call a tool and diagnose a configuration from the
// command line. Configuration from `--config <file>` (YAML or JSON) or MCP_OAUTH2_* variables.
import { parseArgs } from 'node:util'
import { runCli } from './internal/cli-commands.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', short: 'c' },
    server: { type: 'string', short: 's' },
    args: { type: 'string', short: 'a' },
    cookie: { type: 'string' },
    json: { type: 'boolean', default: false },
    'show-token': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

runCli(positionals, values).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error))
    process.exitCode = 1
  },
)
