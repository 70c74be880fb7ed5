#!/usr/bin/env node
// No import cycles in packages/*/src (type-only imports included: a cycle of types is still a
// tangle), and nothing in internal/ imports a public file of its package. dpdm parses the sources.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const files = []
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) walk(path)
    else if (entry.name.endsWith('.ts')) files.push(path)
  }
}
for (const name of readdirSync(join(root, 'packages'))) walk(join(root, 'packages', name, 'src'))

const result = spawnSync(
  join(root, 'node_modules', '.bin', 'dpdm'),
  [
    '--no-warning',
    '--no-tree',
    '--no-progress',
    '--exit-code',
    'circular:1',
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, encoding: 'utf8' },
)
if (result.status !== 0) {
  process.stdout.write(result.stdout)
  process.stderr.write(result.stderr)
  console.error('[cycles] import cycles in packages/*/src (above)')
  process.exit(1)
}

// internal/ is a leaf: it may import other internal files and errors.ts, never a public file.
const back = []
for (const file of files.filter((f) => f.includes('/src/internal/'))) {
  const source = readFileSync(file, 'utf8')
  for (const match of source.matchAll(/from '(\.\.\/[^']+)'/g)) {
    const target = join(dirname(file), match[1])
    if (!target.includes('/internal/') && !target.endsWith('/errors.js')) {
      back.push(`${relative(root, file)} imports ${match[1]}`)
    }
  }
}
if (back.length) {
  console.error(`[cycles] internal/ files import public files:\n  ${back.join('\n  ')}`)
  process.exit(1)
}
console.log(`[cycles] ${files.length} source files: no import cycle, internal/ imports nothing public`)
