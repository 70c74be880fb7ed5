#!/usr/bin/env node
// Builds the packages (tsup: ESM + .d.ts) and lints what would be published (publint, attw),
// in dependency order, with the workspace's own binaries: no pnpm on PATH needed.
//   node scripts/packages.mjs build | lint | all
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const packages = ['auth-core', 'testkit', 'mcp-transport'] // mcp-transport's types need auth-core's
const mode = process.argv[2] ?? 'all'
if (!['build', 'lint', 'all'].includes(mode)) {
  console.error('usage: packages.mjs build | lint | all')
  process.exit(2)
}

function run(cwd, command, args) {
  const started = performance.now()
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '')
    process.stderr.write(result.stderr ?? '')
    console.error(`[packages] ${command.split('/').at(-1)} failed in ${cwd} (${seconds} s)`)
    process.exit(result.status ?? 1)
  }
  console.log(
    `[packages] ${join(cwd).slice(root.length + 1)}: ${command.split('/').at(-1)} ok (${seconds} s)`,
  )
}

for (const name of packages) {
  const cwd = join(root, 'packages', name)
  if (mode !== 'lint') run(cwd, bin('tsup'), ['--silent'])
  if (mode !== 'build') {
    run(cwd, bin('publint'), ['--strict', '--pack', 'npm'])
    run(cwd, bin('attw'), ['--pack', '.', '--profile', 'esm-only'])
  }
}
