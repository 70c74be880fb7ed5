// How the commands report a diagnosed failure: a line and its hints, or the `--json` object; and
// one diagnosis for several servers that failed to connect.
import { McpTransportErrorCode } from '../../errors.js'
import type { Diagnosis } from '../cli-diagnose.js'
import type { CliIo } from './runtime.js'

/** The failure object `--json` prints on stdout. */
export function failureJson(d: Diagnosis, extra: Record<string, unknown> = {}) {
  return { ok: false, code: d.code, message: d.message, hints: d.hints, ...without(d), ...extra }
}

function without({ code: _c, message: _m, hints: _h, ...rest }: Diagnosis) {
  return rest
}

export function printDiagnosis(io: CliIo, d: Diagnosis, write: (line: string) => void = io.stderr): void {
  write(`✗ ${d.server ? `${d.server}: ` : ''}${d.message}`)
  for (const hint of d.hints) write(`  hint: ${hint}`)
}

/** One diagnosis for several servers that failed to connect. */
export function summarize(failures: readonly Diagnosis[], total: number): Diagnosis {
  if (failures.length === 1) return failures[0] as Diagnosis
  return {
    code: McpTransportErrorCode.ServerUnavailable,
    message: `${failures.length} of ${total} server(s) failed to connect: ${failures.map((f) => f.server).join(', ')}`,
    hints: [...new Set(failures.flatMap((f) => f.hints))],
  }
}

/** Carries an already diagnosed failure (with the per-server list) to the top level. */
export class DiagnosedError extends Error {
  constructor(
    readonly diagnosis: Diagnosis,
    readonly failed: readonly Diagnosis[],
  ) {
    super(diagnosis.message)
  }
}

export function summarized(failures: readonly Diagnosis[], total: number, note: string): DiagnosedError {
  const d = summarize(failures, total)
  const names = failures.map((f) => f.server).join(', ')
  const hints = [...d.hints, `${note}: ${names} did not connect, so its tools are unknown`]
  return new DiagnosedError({ ...d, hints }, failures.length > 1 ? failures : [])
}
