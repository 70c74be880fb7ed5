#!/usr/bin/env node
// Installs the workspace's dependencies with the pinned pnpm when they are missing or stale,
// so `npm test` and `npm run demo` work on a machine with only Node and npm.
// pnpm is run through npx: corepack's signature check fails on some machines.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function upToDate() {
  const lockfile = join(root, 'pnpm-lock.yaml')
  const installed = join(root, 'node_modules', '.pnpm', 'lock.yaml')
  if (!existsSync(installed) || !existsSync(lockfile)) return false
  return readFileSync(installed, 'utf8') === readFileSync(lockfile, 'utf8')
}

/**
 * Installs when needed. With `quiet`, pnpm's progress and its notes about build scripts it did
 * not run stay out of the way (they are about this workspace, not something a demo user can act
 * on); errors are still shown.
 */
export function ensureDeps({ quiet = false } = {}) {
  if (upToDate()) return
  const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager // pnpm@10.x
  const args = ['-y', pnpm, 'install', '--frozen-lockfile', ...(quiet ? ['--reporter=silent'] : [])]
  console.error(`[setup] installing dependencies: npx ${args.join(' ')}`)
  const result = spawnSync('npx', args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' })
  if (result.status !== 0) {
    console.error('[setup] dependency installation failed')
    process.exit(result.status ?? 1)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureDeps()
