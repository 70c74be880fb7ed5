/**
 * Codes the `mcp-oauth2` CLI reports itself (besides auth-core's `ErrorCode` and
 * `McpTransportErrorCode`, which it reports as the packages give them).
 */
export const CliErrorCode = {
  /** The command line cannot be run as written (unknown option or command, bad `--args`). */
  Usage: 'ERR_USAGE',
  /** A JSON-RPC error answered the request (`ERR_MCP_<code>` in the output, e.g. `ERR_MCP_-32602`). */
  McpErrorPrefix: 'ERR_MCP_',
  /** A failure without a code of its own. */
  Unknown: 'ERR_UNKNOWN',
} as const

/** A failure the CLI detects itself, with its code and hints. */
export class CliError extends Error {
  readonly code: string
  /** What to do instead (a suggestion first, when there is one). */
  readonly hints: readonly string[]

  constructor(code: string, message: string, hints: readonly string[] = []) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.hints = [...hints]
  }
}

/** A command line that cannot be run as written: exit code 2, one line, no stack trace. */
export class CliUsageError extends CliError {
  constructor(message: string, hints: readonly string[] = []) {
    super(CliErrorCode.Usage, message, hints)
  }
}
