// Type-checks generated files (docs code blocks, JSDoc examples) with the workspace's `tsc`, the
// same compiler and settings as `npm test`'s typecheck. TypeScript 7 is a native binary without a
// JavaScript API, so this writes a tsconfig beside the files and reads tsc's diagnostics.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../..', import.meta.url))
const tsc = join(root, 'node_modules', '.bin', 'tsc')

export interface Diagnostic {
  /** Absolute path of the file the diagnostic is in. */
  file: string
  line: number
  column: number
  message: string
}

/**
 * Type-checks `files` (absolute paths inside `dir`) against the root tsconfig.json (its `paths`
 * point at the workspace sources) and returns tsc's diagnostics for those files only.
 */
export async function typecheckFiles(dir: string, files: readonly string[]): Promise<Diagnostic[]> {
  const config = join(dir, 'tsconfig.json')
  writeFileSync(
    config,
    JSON.stringify({
      extends: relative(dir, join(root, 'tsconfig.json')),
      compilerOptions: { noEmit: true, incremental: false },
      files: files.map((file) => relative(dir, file)),
      include: [],
    }),
  )
  const output = await promisify(execFile)(tsc, ['-p', config, '--pretty', 'false'], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string; code?: number }) => {
      if (typeof error.stdout !== 'string' || error.stdout === '') throw error
      return error.stdout
    },
  )
  const wanted = new Set(files.map((file) => resolve(file)))
  const diagnostics: Diagnostic[] = []
  let last: Diagnostic | undefined
  for (const line of output.split('\n')) {
    const match = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line)
    if (match) {
      last = {
        file: resolve(dir, match[1]!),
        line: Number(match[2]),
        column: Number(match[3]),
        message: match[4]!,
      }
      diagnostics.push(last)
    } else if (line.startsWith('  ') && last) {
      last.message += `\n${line}` // continuation of a multi-line message
    } else if (line.trim()) {
      last = { file: '', line: 0, column: 0, message: line.trim() }
      diagnostics.push(last)
    }
  }
  return diagnostics.filter((d) => d.file === '' || wanted.has(d.file))
}
