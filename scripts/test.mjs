#!/usr/bin/env node
// `npm test`: everything CI checks, in the order a failure is cheapest to find.
//   1. the full suite on the toolchain Node (24 LTS): types, format + lint, import cycles, every
//      vitest file, the MCP conformance scenarios, package builds + publint + attw, the public API
//      against api/*.d.ts, and a consumer smoke test from the packed tarballs in a project outside
//      the workspace;
//   2. the package test suites again on Node 22 (the floor) and Node 26 (current), each taken from
//      the registry's `node` package.
// The closing lines say what ran where; the final line is `tests: N passed, N failed`.
// Run through scripts/node-floor.mjs (see package.json), so this always runs on Node 22.12+.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PACKAGES } from './pack.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cache = join(root, 'node_modules', '.cache', 'test-run')
const bin = (name) => join(root, 'node_modules', '.bin', name)
// The floor exactly (engines: >=22.12), and the current release line.
const MATRIX = ['node@22.12.0', 'node@26']

/** @type {{ where: string, what: string, passed: number, failed: number, seconds: number }[]} */
const ran = []

function step(label, command, args, options = {}) {
  console.log(`\n[test] ${label}`)
  const started = performance.now()
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0) {
    console.error(`[test] ${label}: FAILED (exit ${result.status ?? result.signal}, ${seconds.toFixed(1)} s)`)
    closing()
    console.log(`tests: ${total().passed} passed, ${total().failed + 1} failed`)
    process.exit(result.status || 1)
  }
  return seconds
}

function vitestReport(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'))
  if (report.numTotalTests === 0) throw new Error(`no test ran (${file})`)
  return { passed: report.numPassedTests, failed: report.numFailedTests }
}

function total() {
  return ran.reduce((sum, r) => ({ passed: sum.passed + r.passed, failed: sum.failed + r.failed }), {
    passed: 0,
    failed: 0,
  })
}

function closing() {
  if (ran.length === 0) return
  console.log('\n[test] what ran where')
  for (const r of ran) {
    console.log(
      `  ${r.where.padEnd(14)} ${r.what.padEnd(44)} ${String(r.passed).padStart(4)} passed, ${r.failed} failed (${r.seconds.toFixed(0)} s)`,
    )
  }
}

rmSync(cache, { recursive: true, force: true })
mkdirSync(cache, { recursive: true })
const here = `node ${process.versions.node}`

step('install', process.execPath, [join(root, 'scripts', 'ensure-deps.mjs')])
step('typecheck (tsc)', bin('tsc'), ['-p', 'tsconfig.json'])
step('format + lint (biome check)', bin('biome'), ['check', '.'])
step('import cycles, internal/ is a leaf', process.execPath, [join(root, 'scripts', 'check-cycles.mjs')])

const fullReport = join(cache, 'vitest-full.json')
let seconds = step('vitest: every test file', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${fullReport}`,
])
ran.push({ where: here, what: 'vitest: all test files', ...vitestReport(fullReport), seconds })

const conformanceReport = join(cache, 'conformance.json')
seconds = step('MCP conformance scenarios', process.execPath, [join(root, 'scripts', 'conformance.mjs')], {
  env: { ...process.env, CONFORMANCE_REPORT: conformanceReport },
})
const conformance = JSON.parse(readFileSync(conformanceReport, 'utf8'))
ran.push({ where: here, what: 'MCP conformance scenarios', ...conformance, seconds })

seconds = step('package builds, publint, attw', process.execPath, [
  join(root, 'scripts', 'packages.mjs'),
  'all',
])
const apiSeconds = step('public API unchanged (api/*.d.ts)', process.execPath, [
  join(root, 'scripts', 'api-report.mjs'),
  '--check',
])
seconds += step(
  'consumer smoke test from the tarballs',
  process.execPath,
  [join(root, 'scripts', 'smoke.mjs')],
  {
    env: { ...process.env, SMOKE_REPORT: join(cache, 'smoke.json') },
  },
)
if (existsSync(join(cache, 'smoke.json'))) {
  ran.push({
    where: here,
    what: 'packages + consumer smoke test',
    ...readJson(join(cache, 'smoke.json')),
    seconds,
  })
}
ran.push({
  where: here,
  what: 'public API = api/*.d.ts (per package)',
  passed: PACKAGES.length,
  failed: 0,
  seconds: apiSeconds,
})

for (const node of MATRIX) {
  const report = join(cache, `vitest-${node}.json`)
  const versionFile = join(cache, `${node}.version`)
  seconds = step(
    `package test suites on ${node}`,
    'npx',
    [
      '-y',
      node,
      join(root, 'scripts', 'node-floor.mjs'),
      join(root, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      'packages',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    { env: { ...process.env, NODE_FLOOR_VERSION_FILE: versionFile } },
  )
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8') : node
  ran.push({ where: `node ${version}`, what: 'vitest: packages/*/test', ...vitestReport(report), seconds })
}

closing()
const { passed, failed } = total()
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'))
}
