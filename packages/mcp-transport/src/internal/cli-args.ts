// Command-line parsing shared by `mcp-oauth2` and the repository's demo: node:util's parseArgs,
// with one-line usage errors (and a "did you mean" for a mistyped option) instead of its stack
// trace, and the options' help text generated from the same table.
import { parseArgs } from 'node:util'
import { CliUsageError } from './cli-errors.js'
import { closest } from './cli-suggest.js'

/** One option of a command line. */
export interface CliOption {
  type: 'string' | 'boolean'
  /** One-letter alias (`-c`). */
  short?: string
  /** Placeholder of its value in the help text (`<file>`). */
  value?: string
  /** One line for the help text. */
  description: string
}

export type CliOptionSpec = Readonly<Record<string, CliOption>>

export type CliValues<S extends CliOptionSpec> = {
  [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string
}

/**
 * Parses `argv` against `spec`. Throws a {@link CliUsageError} for an unknown option (naming the
 * closest known one when it looks like a typo of it), a missing value or a value given to a flag.
 */
export function parseCliArgs<S extends CliOptionSpec>(
  argv: readonly string[],
  spec: S,
  program: string,
  options: { allowPositionals?: boolean } = {},
): { values: CliValues<S>; positionals: string[] } {
  const config = Object.fromEntries(
    Object.entries(spec).map(([name, o]) => [
      name,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  )
  const help = `run "${program} --help" to see the options`
  // First pass, lenient: find unknown options ourselves, so the error can suggest a known one.
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const shorts = new Set(Object.values(spec).flatMap((o) => (o.short ? [`-${o.short}`] : [])))
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    // A known short option's token carries the long name; an unknown one its own letter.
    const known = token.rawName.startsWith('--') ? token.name in spec : shorts.has(token.rawName)
    if (known) continue
    const suggestion = token.rawName.startsWith('--') ? closest(token.name, Object.keys(spec)) : undefined
    throw new CliUsageError(
      `unknown option ${token.rawName}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`,
      [help],
    )
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: config,
      strict: true,
      allowPositionals: options.allowPositionals ?? false,
    })
    return { values: values as CliValues<S>, positionals }
  } catch (error) {
    // node:util's messages are one line ("Option '-c, --config <value>' argument missing").
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    throw new CliUsageError(message.charAt(0).toLowerCase() + message.slice(1), [help])
  }
}

/** The "Options:" lines of a help text, aligned, in the spec's order. */
export function formatOptions(spec: CliOptionSpec): string {
  const rows = Object.entries(spec).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.description,
  ])
  const width = Math.max(...rows.map(([left]) => (left as string).length)) + 2
  return rows.map(([left, right]) => `  ${(left as string).padEnd(width)}${right}`).join('\n')
}
