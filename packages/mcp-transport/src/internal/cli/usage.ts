// The command line the `mcp-oauth2` CLI accepts: its options, its commands and the help text.
import { type CliOptionSpec, type CliValues, formatOptions } from '../cli-args.js'

export const PROGRAM = 'mcp-oauth2'

export const CLI_OPTIONS = {
  config: {
    type: 'string',
    short: 'c',
    value: '<file>',
    description: 'YAML or JSON configuration (default: MCP_OAUTH2_* environment variables)',
  },
  server: { type: 'string', short: 's', value: '<name>', description: 'one server only' },
  args: { type: 'string', short: 'a', value: '<json>', description: "the tool's arguments (call)" },
  cookie: { type: 'string', value: '<header>', description: "the user's Cookie header (call)" },
  'show-token': { type: 'boolean', description: 'print the access token itself (token)' },
  json: { type: 'boolean', description: 'machine-readable output on stdout, errors included' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  version: { type: 'boolean', short: 'v', description: 'show the version' },
} as const satisfies CliOptionSpec

/** The parsed options every command reads. */
export type Values = CliValues<typeof CLI_OPTIONS>

export const COMMANDS = ['token', 'tools', 'call', 'check'] as const

export const USAGE = `Usage: ${PROGRAM} <command> [options]

Commands:
  token                 get a service token and show its claims, expiry and scopes
  tools                 list the tools of every configured server
  call <tool>           call a tool (--args '{"k":"v"}', --cookie 'session_id=…')
  check                 diagnose configuration, discovery, token, connectivity and TLS

Options:
${formatOptions(CLI_OPTIONS)}

Exit codes: 0 success, 1 a check or call failed, 2 the command line is wrong.
`
