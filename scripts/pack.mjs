#!/usr/bin/env node
// `npm run pack`: builds every package and writes installable tarballs of all of them to one
// folder (default: dist-packages/ at the root), packed by pnpm so that `workspace:` and `catalog:`
// versions become real ones. Prints the tarball paths.
//   node scripts/pack.mjs [--out dir] [--no-build]
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
export const PACKAGES = ['auth-core', 'redis', 'testkit', 'mcp-transport']

export function packAll({ out = join(root, 'dist-packages'), build = true } = {}) {
  const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  for (const name of PACKAGES) {
    const cwd = join(root, 'packages', name)
    if (build) run(cwd, join(root, 'node_modules', '.bin', 'tsdown'), ['--silent'])
    run(cwd, 'npx', ['-y', pnpm, 'pack', '--pack-destination', out])
  }
  return readdirSync(out)
    .filter((file) => file.endsWith('.tgz'))
    .map((file) => join(out, file))
}

function run(cwd, command, args) {
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '')
    process.stderr.write(result.stderr ?? '')
    throw new Error(`${command.split('/').at(-1)} ${args[0] ?? ''} failed in ${cwd}`)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-build': { type: 'boolean' } } })
  try {
    const tarballs = packAll({
      out: values.out ? resolve(values.out) : undefined,
      build: !values['no-build'],
    })
    for (const tarball of tarballs) console.log(tarball)
  } catch (error) {
    console.error(`[pack] ${error.message}`)
    process.exit(1)
  }
}
