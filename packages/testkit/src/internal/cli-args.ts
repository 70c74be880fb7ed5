/**
 * Command-line parsing for `mcp-oauth2-testkit`: `node:util` parseArgs with its errors turned
 * into one-line usage errors that suggest the closest real option. Never re-exported.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { TestkitError, TestkitErrorCode } from '../errors.js'

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...Array<number>(b.length).fill(0),
  ])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/** The candidate closest to `input`, when it is close enough to be a likely typo. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of candidates) {
    const distance = editDistance(input, name)
    if (!best || distance < best.distance) best = { name, distance }
  }
  if (!best) return undefined
  const limit = Math.max(1, Math.floor(Math.max(input.length, best.name.length) / 3))
  return best.distance <= limit ? best.name : undefined
}

function usage(message: string): TestkitError {
  return new TestkitError(TestkitErrorCode.Usage, message)
}

/**
 * Parses `argv` strictly. An unknown option, a missing value or a value given to a flag becomes a
 * {@link TestkitError} with code `ERR_TESTKIT_USAGE` and a one-line message.
 */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
) {
  const names = Object.keys(options).map((n) => `--${n}`)
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    const code = (error as { code?: string }).code
    const text = error instanceof Error ? error.message : String(error)
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const bare = (/'(-[^']*)'/.exec(text)?.[1] ?? '').split('=')[0]!
      const hint = closest(bare, names)
      throw usage(`unknown option ${bare}${hint ? ` (did you mean ${hint}?)` : ''}`)
    }
    const long = /--([\w-]+)/.exec(text)?.[1]
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && long) {
      const takesValue = options[long]?.type === 'string'
      throw usage(takesValue ? `option --${long} needs a value` : `option --${long} takes no value`)
    }
    throw usage(text.split('\n')[0] ?? 'invalid command line')
  }
}

/** A usage error for an unknown command, with the closest real one. */
export function unknownCommand(command: string, commands: readonly string[]): TestkitError {
  const hint = closest(command, commands)
  return usage(`unknown command ${command}${hint ? ` (did you mean ${hint}?)` : ''}`)
}
