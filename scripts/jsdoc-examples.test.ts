// Every `@example` in the public source files of the packages type-checks, like the docs' code
// blocks: an example is a module that sees every name its package exports (imported for it) and
// declares anything else it needs itself (`declare const token: string`).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { typecheckFiles } from './lib/typecheck.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const run = `run-${process.pid}-${Date.now()}`
const cacheOf = (base: string) => join(base, 'node_modules', '.cache', 'jsdoc-examples', run)
// The tsconfig of the one tsc run; each example is written inside its package (below), so its
// imports resolve to what that package depends on (`pino`, `openai`, ...), not the workspace root.
const outDir = cacheOf(root)
const packageDir = (pkg: string) => cacheOf(join(root, 'packages', pkg))

interface Example {
  file: string
  /** The example's code, one entry per line. */
  code: string
  /** The source line (1-based) of each line of `code`. */
  lines: number[]
}

/** Entry points of each package and the module specifier users import them by. */
const ENTRIES: Record<string, Record<string, string>> = {
  'auth-core': { 'src/index.ts': '@mcp-oauth2/auth-core', 'src/node.ts': '@mcp-oauth2/auth-core/node' },
  'mcp-transport': { 'src/index.ts': '@mcp-oauth2/mcp-transport' },
  redis: { 'src/index.ts': '@mcp-oauth2/redis' },
  testkit: { 'src/index.ts': '@mcp-oauth2/testkit', 'src/vitest.ts': '@mcp-oauth2/testkit/vitest' },
}

/** The value and type names an entry file re-exports (`export { a, b }` / `export type { C }`). */
function exportedNames(path: string): { values: string[]; types: string[] } {
  const source = readFileSync(path, 'utf8')
  const values: string[] = []
  const types: string[] = []
  for (const match of source.matchAll(/^export (?:async )?(function|class|const|interface|type) (\w+)/gm)) {
    ;(match[1] === 'interface' || match[1] === 'type' ? types : values).push(match[2]!)
  }
  for (const match of source.matchAll(/export (type )?\{([^}]*)\}/g)) {
    const names = match[2]!
      .split(',')
      .map(
        (n) =>
          n
            .trim()
            .split(/\s+as\s+/)
            .at(-1)!,
      )
      .filter(Boolean)
    ;(match[1] ? types : values).push(...names)
  }
  return { values, types }
}

/** `@example` blocks of one file: the comment lines after the tag up to the next tag or the end. */
function examplesOf(path: string): Example[] {
  const lines = readFileSync(path, 'utf8').split('\n')
  const examples: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\b/.test(lines[i]!)) continue
    const body: { text: string; line: number }[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const line = lines[j]!
      if (/^\s*\*\//.test(line) || /^\s*\*\s*@\w+/.test(line)) break
      const text = line.replace(/^\s*\* ?/, '')
      if (!/^```/.test(text.trim())) body.push({ text, line: j + 1 })
    }
    while (body.length && !body[0]!.text.trim()) body.shift()
    while (body.length && !body.at(-1)!.text.trim()) body.pop()
    if (body.length) {
      examples.push({
        file: path.slice(root.length),
        code: body.map((l) => l.text).join('\n'),
        lines: body.map((l) => l.line),
      })
    }
    i = j - 1
  }
  return examples
}

const packages = Object.keys(ENTRIES)
const cases = packages.flatMap((pkg) => {
  const src = join(root, 'packages', pkg, 'src')
  const imports = Object.entries(ENTRIES[pkg]!)
    .map(([entry, specifier]) => {
      const { values, types } = exportedNames(join(root, 'packages', pkg, entry))
      return [
        values.length ? `import { ${values.join(', ')} } from '${specifier}'` : '',
        types.length ? `import type { ${types.join(', ')} } from '${specifier}'` : '',
      ].join('\n')
    })
    .join('\n')
  // Public files only: internal/ is not documentation.
  const files = readdirSync(src)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(src, name))
  return files.flatMap((file) =>
    examplesOf(file).map((example) => ({ pkg, imports, example: { ...example } })),
  )
})

describe('JSDoc @example blocks', () => {
  afterAll(() => {
    for (const dir of [outDir, ...packages.map(packageDir)]) rmSync(dir, { recursive: true, force: true })
  })

  it('exist on the public API', () => {
    expect(cases.length).toBeGreaterThan(40)
  })

  it(`type-check against the package they document (${cases.length} examples)`, async () => {
    for (const dir of [outDir, ...packages.map(packageDir)]) mkdirSync(dir, { recursive: true })
    const byPath = new Map<string, (typeof cases)[number]>()
    for (const [index, item] of cases.entries()) {
      const name = `${basename(item.example.file, '.ts')}.L${item.example.lines[0]}.${index}.mts`
      const path = join(packageDir(item.pkg), name)
      // Names the example does not use are fine: noUnusedLocals is off in the workspace config.
      // An example that imports a name itself (to show where it comes from) gets no second import.
      const own = new Set(
        [...item.example.code.matchAll(/import (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
          m[1]!.split(',').map((n) =>
            n
              .trim()
              .split(/\s+as\s+/)
              .at(-1)!
              .replace(/^type /, ''),
          ),
        ),
      )
      const imports = item.imports.replace(/\{([^}]*)\}/g, (_, names: string) => {
        const kept = names
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n && !own.has(n))
        return `{ ${kept.join(', ')} }`
      })
      item.imports = imports.replace(/^import (type )?\{ {1,2}\} from .*$/gm, '')
      writeFileSync(path, `${item.imports}\n// ---\n${item.example.code}\nexport {}\n`)
      byPath.set(path, item)
    }
    const diagnostics = await typecheckFiles(outDir, [...byPath.keys()])
    const errors = diagnostics.map((d) => {
      const item = byPath.get(d.file)
      if (!item) return d.message
      // The file is the imports, a `// ---` line, then the example's lines.
      const header = item.imports.split('\n').length + 1
      const line = item.example.lines[d.line - header - 1] ?? item.example.lines[0]
      return `${item.example.file}:${line} ${d.message}`
    })
    expect(errors, 'JSDoc examples that do not type-check').toEqual([])
  }, 120_000)
})
