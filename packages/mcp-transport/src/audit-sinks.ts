/**
 * Where audit records go: a JSON Lines stream (a file, stdout, a socket) or a pino-compatible
 * logger. Both are `onEvent` listeners of the manager.
 */
import { type AuditRecord, type AuditSeverity, toAuditRecord } from './audit-record.js'
import type { McpManagerEvent } from './internal/manager/events.js'

/** Something to write lines to: a function, or a stream (`process.stdout`, `fs.createWriteStream`). */
export type AuditLineWriter = ((line: string) => void) | { write(chunk: string): unknown }

/**
 * An `onEvent` listener writing each event as one JSON line of the audit schema
 * ({@link toAuditRecord}), `\n`-terminated.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs'
 * import type { McpConfig } from '@mcp-oauth2/auth-core'
 * declare const config: McpConfig // from parseConfig or loadConfigFile
 * const manager = McpServerManager.fromConfig(config, {
 *   onEvent: createJsonLinesAuditSink(createWriteStream('/var/log/mcp-audit.jsonl', { flags: 'a' })),
 * })
 * ```
 * @see https://jsonlines.org/
 */
export function createJsonLinesAuditSink(out: AuditLineWriter): (event: McpManagerEvent) => void {
  const write =
    typeof out === 'function'
      ? out
      : typeof out === 'object' && out !== null && typeof out.write === 'function'
        ? (line: string) => out.write(line)
        : undefined
  if (!write) throw new TypeError('"out" must be a function or have write()')
  return function writeAuditLine(event) {
    write(`${JSON.stringify(toAuditRecord(event))}\n`)
  }
}

/** The part of a pino logger (or any logger with pino's `(object, message)` calls) the sink uses. */
export interface PinoLikeLogger {
  info(object: object, message?: string): unknown
  warn(object: object, message?: string): unknown
  error(object: object, message?: string): unknown
}

function summary(record: AuditRecord): string {
  const where = [record.what.server, record.what.tool ?? record.what.store].filter(Boolean).join('/')
  const outcome = record.outcome.code
    ? `${record.outcome.result} (${record.outcome.code})`
    : record.outcome.result
  return `${record.event}${where ? ` ${where}` : ''}: ${outcome}`
}

/**
 * An `onEvent` listener logging each event's audit record with a pino-compatible logger: the
 * record as the log object, a one-line summary as the message, at the record's severity
 * (`info`, `warn` for refusals, retries and outages, `error` for failures). Pass a child logger
 * to add your own fields (`logger.child({ component: 'mcp' })`).
 *
 * @example
 * ```ts
 * import pino from 'pino'
 * import type { McpConfig } from '@mcp-oauth2/auth-core'
 * declare const config: McpConfig // from parseConfig or loadConfigFile
 * const manager = McpServerManager.fromConfig(config, { onEvent: createPinoAuditSink(pino()) })
 * ```
 */
export function createPinoAuditSink(logger: PinoLikeLogger): (event: McpManagerEvent) => void {
  for (const level of ['info', 'warn', 'error'] as const) {
    if (typeof logger?.[level] !== 'function') throw new TypeError(`"logger.${level}" must be a function`)
  }
  return function logAudit(event) {
    const record = toAuditRecord(event)
    const level: AuditSeverity = record.severity
    logger[level](record, summary(record))
  }
}
