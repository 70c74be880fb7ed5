/**
 * Errors thrown by `@mcp-oauth2/testkit`. Every error has a stable `code`; tests branch on `code`,
 * never on the wording of `message`.
 */

/**
 * Stable codes of {@link TestkitError}.
 *
 * @example
 * if (error.code === TestkitErrorCode.ListenFailed) retryOnAnotherPort()
 */
export const TestkitErrorCode = {
  /** A loopback server could not be started (e.g. the port is taken). */
  ListenFailed: 'ERR_TESTKIT_LISTEN_FAILED',
  /** A CLI config file could not be read or parsed. */
  ConfigFile: 'ERR_TESTKIT_CONFIG_FILE',
  /** A non-loopback `host` was given without `allowRemote: true` (`--allow-remote`). */
  NonLoopbackHost: 'ERR_TESTKIT_NON_LOOPBACK_HOST',
  /** The CLI's command line was wrong (unknown option or command, missing value). */
  Usage: 'ERR_TESTKIT_USAGE',
} as const

export type TestkitErrorCode = (typeof TestkitErrorCode)[keyof typeof TestkitErrorCode]

/**
 * Base error of the testkit, with a stable `code`.
 *
 * @example
 * try { await startMockServers({ mcpPort: 80 }) } catch (e) { if (e instanceof TestkitError) e.code }
 */
export class TestkitError extends Error {
  /** Stable machine-readable code. */
  readonly code: TestkitErrorCode

  constructor(code: TestkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}
