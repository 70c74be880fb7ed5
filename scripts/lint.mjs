#!/usr/bin/env node
// `npm run lint`: formatting and lint (biome check), import cycles, then publint and attw on the
// packed packages. Run through scripts/node-floor.mjs.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
for (const [command, args] of [
  [join(root, 'node_modules', '.bin', 'biome'), ['check', '.']],
  [process.execPath, [join(root, 'scripts', 'check-cycles.mjs')]],
  [process.execPath, [join(root, 'scripts', 'packages.mjs'), 'all']],
]) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
