// What the `mcp-oauth2` commands are given: where they read and write (CliIo), and the public
// pieces of this package they use (CliRuntime, wired by cli.ts), so internal/ stays a leaf.
import type { FetchLike, McpConfig, ServerConfig, TokenProvider } from '@mcp-oauth2/auth-core'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { ProgressSink } from '../cli-progress.js'

/** Where the CLI reads and writes: the process, or a test. */
export interface CliIo extends ProgressSink {
  /** Writes one line of results to stdout. */
  stdout: (line: string) => void
  /** Writes one line of diagnostics to stderr. */
  stderr: (line: string) => void
  env: Record<string, string | undefined>
}

/** One server's status, as the CLI reads it from the manager. */
export interface CliServerStatus {
  readonly name: string
  readonly url: string
  readonly state: string
  readonly error: Error | undefined
}

/** A tool, as the CLI reads it from the manager. */
export interface CliTool {
  readonly server: string
  readonly name: string
  readonly qualifiedName: string
  readonly description: string | undefined
  readonly inputSchema: unknown
  readonly requiredScopes: readonly string[] | null
}

/** What the CLI needs of `McpServerManager`. */
export interface CliManager {
  connect(): Promise<readonly CliServerStatus[]>
  listTools(): Promise<readonly CliTool[]>
  callTool(name: string, args: Record<string, unknown>): Promise<{ content: unknown; isError?: unknown }>
  close(): Promise<void>
}

/** The manager's events the progress line follows. */
export interface CliManagerEvent {
  readonly type: string
  /** Undefined on manager-wide events (a shared store's outage). */
  readonly server: string | undefined
  readonly phase?: string
}

/** The public pieces of `@mcp-oauth2/mcp-transport` the commands use (wired by cli.ts). */
export interface CliRuntime {
  /** The package's version, for `--version`. */
  version: string
  createManager(
    config: McpConfig,
    options: { retry: false; fetch: FetchLike; onEvent: (event: CliManagerEvent) => void },
  ): CliManager
  createTransport(
    server: ServerConfig,
    options: { tokenProvider?: TokenProvider | undefined; fetch?: FetchLike | undefined },
  ): Transport
  withUserContext<T>(context: { cookie?: string | undefined }, fn: () => Promise<T>): Promise<T>
}
