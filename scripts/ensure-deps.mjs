#!/usr/bin/env node
// Installs the workspace's dependencies with the pinned pnpm when they are missing or stale,
// so `npm test` and `npm run demo` work on a machine with only Node and npm.
// pnpm is run through npx: corepack's signature check fails on some machines.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpm = pkg.packageManager // e.g. pnpm@10.34.8

const lockfile = join(root, 'pnpm-lock.yaml')
const installed = join(root, 'node_modules', '.pnpm', 'lock.yaml')

function upToDate() {
  if (!existsSync(installed) || !existsSync(lockfile)) return false
  return readFileSync(installed, 'utf8') === readFileSync(lockfile, 'utf8')
}

if (!upToDate()) {
  const args = ['-y', pnpm, 'install', ...(existsSync(lockfile) ? ['--frozen-lockfile'] : [])]
  console.error(`[setup] installing dependencies: npx ${args.join(' ')}`)
  const result = spawnSync('npx', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (result.status !== 0) {
    console.error('[setup] dependency installation failed')
    process.exit(result.status ?? 1)
  }
}
