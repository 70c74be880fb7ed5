#!/usr/bin/env node
// `npm run demo [-- args]`: installs the workspace when needed, then runs scripts/demo.ts with the
// arguments given. Run through scripts/node-floor.mjs, so it runs on Node 22.12+.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureDeps } from './ensure-deps.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
ensureDeps({ quiet: true })
const result = spawnSync(
  join(root, 'node_modules', '.bin', 'tsx'),
  [join(root, 'scripts', 'demo.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
)
process.exit(result.status ?? 1)
