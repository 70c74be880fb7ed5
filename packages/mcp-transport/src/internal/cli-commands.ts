// The `mcp-oauth2` commands: runCli parses the command line and runs one command (each in its own
// file under cli/). Everything the CLI needs from this package's public modules (the manager,
// createTransport, withUserContext) comes in as a CliRuntime, so internal/ stays a leaf.
import { commandCall } from './cli/call-command.js'
import { commandCheck } from './cli/check-command.js'
import { DiagnosedError, failureJson, printDiagnosis } from './cli/failures.js'
import type { CliIo, CliRuntime } from './cli/runtime.js'
import { commandToken } from './cli/token-command.js'
import { commandTools } from './cli/tools-command.js'
import { CLI_OPTIONS, COMMANDS, PROGRAM, USAGE } from './cli/usage.js'
import { parseCliArgs } from './cli-args.js'
import { diagnose } from './cli-diagnose.js'
import { CliErrorCode, CliUsageError } from './cli-errors.js'
import { closest } from './cli-suggest.js'

export type {
  CliIo,
  CliManager,
  CliManagerEvent,
  CliRuntime,
  CliServerStatus,
  CliTool,
} from './cli/runtime.js'
export { CLI_OPTIONS, USAGE } from './cli/usage.js'

/** Run the CLI on `argv` (without node and the script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo, runtime: CliRuntime): Promise<number> {
  let json = argv.includes('--json')
  try {
    const { values, positionals } = parseCliArgs(argv, CLI_OPTIONS, PROGRAM, { allowPositionals: true })
    json = values.json === true
    if (values.version) {
      io.stdout(
        json ? JSON.stringify({ name: PROGRAM, version: runtime.version }) : `${PROGRAM} ${runtime.version}`,
      )
      return 0
    }
    const [command, ...rest] = positionals
    if (values.help) {
      io.stdout(USAGE)
      return 0
    }
    if (!command) {
      if (!json) {
        io.stderr(USAGE)
        return 2
      }
      throw new CliUsageError('no command given', [`run "${PROGRAM} --help" to see the commands`])
    }
    switch (command) {
      case 'token':
        return await commandToken(values, io)
      case 'tools':
        return await commandTools(values, io, runtime)
      case 'call':
        return await commandCall(rest[0], values, io, runtime)
      case 'check':
        return await commandCheck(values, io, runtime)
      default: {
        const suggestion = closest(command, COMMANDS)
        throw new CliUsageError(
          `unknown command "${command}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          [`commands: ${COMMANDS.join(', ')}`, `run "${PROGRAM} --help" for details`],
        )
      }
    }
  } catch (error) {
    const diagnosis = error instanceof DiagnosedError ? error.diagnosis : diagnose(error)
    const failed = error instanceof DiagnosedError ? error.failed : []
    if (json) io.stdout(JSON.stringify(failureJson(diagnosis, failed.length ? { failed } : {}), null, 2))
    else {
      printDiagnosis(io, diagnosis)
      for (const failure of failed) printDiagnosis(io, failure)
    }
    return diagnosis.code === CliErrorCode.Usage ? 2 : 1
  }
}
