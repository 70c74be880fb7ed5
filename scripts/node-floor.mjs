#!/usr/bin/env node
// Runs a project script under a Node.js the toolchain supports.
//   node scripts/node-floor.mjs <script> [args...]
//
// The packages need Node 22.12+, and the toolchain runs on Node 24 LTS. A machine whose only
// Node is older (CI's has Node 20) still runs the README's two commands: below the floor this
// re-runs itself under Node 24 from the npm registry's `node` package (`npx -y node@24`, kept in
// npm's cache, nothing installed globally), says so in one line, and passes the exit code through.
// This file must stay runnable on old Node versions: plain ESM, no dependencies.
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { delimiter, dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const FLOOR = [22, 12]
const TOOLCHAIN = 'node@24'

const [major, minor] = process.versions.node.split('.').map(Number)
const supported = major > FLOOR[0] || (major === FLOOR[0] && minor >= FLOOR[1])
const [script, ...args] = process.argv.slice(2)
if (!script) {
  console.error('usage: node scripts/node-floor.mjs <script> [args...]')
  process.exit(2)
}

if (!supported) {
  console.error(
    `[node] Node ${process.version} is below ${FLOOR.join('.')}: running under ${TOOLCHAIN} from the registry (npx -y ${TOOLCHAIN})`,
  )
  const result = spawnSync('npx', ['-y', TOOLCHAIN, process.argv[1], script, ...args], {
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  if (result.error) console.error(`[node] could not start ${TOOLCHAIN}: ${result.error.message}`)
  process.exit(result.status ?? 1)
}

// Every child process (tsx, vitest, biome, npx …) resolves `node` through PATH: make that the
// Node running now, not an older one that happens to come first.
process.env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`
// scripts/test.mjs asks which Node a matrix run used, to say so in its closing lines.
if (process.env.NODE_FLOOR_VERSION_FILE)
  writeFileSync(process.env.NODE_FLOOR_VERSION_FILE, process.versions.node)
process.argv = [process.argv[0], resolve(script), ...args]
await import(pathToFileURL(resolve(script)).href)
