#!/usr/bin/env node
// Builds the packages (tsdown: ESM + .d.ts), packs them as they would be published, and lints the
// tarballs (publint, attw), so the checks see exactly what ships. No pnpm on PATH needed.
//   node scripts/packages.mjs build | lint | all
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PACKAGES, packAll } from './pack.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const mode = process.argv[2] ?? 'all'
if (!['build', 'lint', 'all'].includes(mode)) {
  console.error('usage: packages.mjs build | lint | all')
  process.exit(2)
}

function run(label, command, args, cwd = root) {
  const started = performance.now()
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '')
    process.stderr.write(result.stderr ?? '')
    console.error(`[packages] ${label}: failed (${seconds} s)`)
    process.exit(result.status ?? 1)
  }
  console.log(`[packages] ${label}: ok (${seconds} s)`)
}

if (mode === 'build') {
  for (const name of PACKAGES)
    run(`${name}: tsdown`, bin('tsdown'), ['--silent'], join(root, 'packages', name))
  process.exit(0)
}

const started = performance.now()
const tarballs = packAll({ out: join(root, 'dist-packages'), build: mode === 'all' })
console.log(
  `[packages] built and packed ${tarballs.length} tarballs (${((performance.now() - started) / 1000).toFixed(1)} s)`,
)
for (const tarball of tarballs) {
  const name = tarball.split('/').at(-1)
  run(`${name}: publint`, bin('publint'), ['--strict', tarball])
  run(`${name}: attw`, bin('attw'), [tarball, '--profile', 'esm-only'])
}

// What ships must not send a user to files they do not have: no DESIGN.md, no repository-relative
// docs/… paths in the shipped code, types or READMEs (links are absolute URLs).
const stray = /DESIGN\.md|(?<![\w/.-])(?:\.\.\/)*docs\/[\w-]+\.md/
for (const tarball of tarballs) {
  const dir = mkdtempSync(join(tmpdir(), 'packed-'))
  try {
    run(`${tarball.split('/').at(-1)}: unpack`, 'tar', ['-xzf', tarball, '-C', dir])
    const found = []
    const walk = (path) => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const file = join(path, entry.name)
        if (entry.isDirectory()) walk(file)
        else if (/\.(d\.ts|js|md)$/.test(entry.name)) {
          readFileSync(file, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (stray.test(line))
                found.push(`${file.slice(dir.length + 1)}:${i + 1}: ${line.trim().slice(0, 120)}`)
            })
        }
      }
    }
    walk(dir)
    if (found.length) {
      console.error(
        `[packages] ${tarball.split('/').at(-1)} refers to files a user does not have:\n  ${found.join('\n  ')}`,
      )
      process.exit(1)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
console.log('[packages] shipped files refer to no repository-only file')
