#!/usr/bin/env node
// `npm run bench [-- name ...]`: runs every benchmark in bench/ (*.bench.ts), one after another,
// or only those named. Results go into docs/performance.md by hand, with the machine they ran on.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const all = readdirSync(join(root, 'bench'))
  .filter((file) => file.endsWith('.bench.ts'))
  .sort()
const wanted = process.argv.slice(2)
const chosen = wanted.length ? all.filter((file) => wanted.some((name) => file.startsWith(name))) : all
if (chosen.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')} (have: ${all.join(', ')})`)
  process.exit(2)
}
// The benchmarks measure the built packages (what users run): build them first.
const build = spawnSync(process.execPath, [join(root, 'scripts', 'packages.mjs'), 'build'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
})
if (build.status !== 0) {
  console.error('[bench] the package build failed')
  process.exit(1)
}
let failed = 0
for (const file of chosen) {
  console.log(`\n[bench] ${file} (node ${process.versions.node})`)
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bench', file)], {
    cwd: root,
    stdio: 'inherit',
  })
  if (result.status !== 0) {
    failed++
    console.error(`[bench] ${file} failed (exit ${result.status ?? result.signal})`)
  }
}
process.exit(failed ? 1 : 0)
