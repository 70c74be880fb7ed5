#!/usr/bin/env node
// Runs the official MCP conformance suite (pinned in the catalog):
//   - client scenarios against conformance/client.ts, one scenario per run;
//   - server scenarios against `mcp-oauth2-testkit serve --no-auth --conformance` (the suite sends
//     no token), the whole server suite once per MCP revision.
// Run through scripts/node-floor.mjs, so it runs on Node 22.12+ (the suite needs 22). With
// CONFORMANCE_REPORT=file it writes { passed, failed, scenarios } there, counted over every
// scenario run (client and server).
//   node scripts/conformance.mjs                     # everything
//   node scripts/conformance.mjs --client | --server # one side
//   node scripts/conformance.mjs <scenario ...>      # just these (server ones at each revision)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const suite = join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js')
const tsx = join(root, 'node_modules', '.bin', 'tsx')
export const CLIENT_SCENARIOS = [
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/enterprise-managed-authorization',
  'auth/wif-jwt-bearer',
  'auth/dpop',
  'auth/dpop-nonce',
]
/**
 * The MCP revisions the server suite runs at. Each run is `server --suite all --spec-version <v>`:
 * every non-extension server scenario that applies to that revision (pending ones included).
 */
export const SERVER_REVISIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26']

const args = process.argv.slice(2)
const only = args.includes('--client') ? 'client' : args.includes('--server') ? 'server' : undefined
const names = args.filter((a) => !a.startsWith('--'))
const isClient = (name) => CLIENT_SCENARIOS.includes(name) || name.startsWith('auth/')

const results = []

function runClientScenarios(scenarios) {
  for (const scenario of scenarios) {
    console.log(`\n[conformance] client ${scenario}`)
    const started = performance.now()
    const result = spawnSync(
      process.execPath,
      [
        suite,
        'client',
        '--command',
        `${tsx} ${join(root, 'conformance', 'client.ts')}`,
        '--scenario',
        scenario,
      ],
      { cwd: root, stdio: 'inherit', timeout: 180_000 },
    )
    const ok = result.status === 0
    results.push({ scenario, side: 'client', revision: 'extension', ok, seconds: secondsSince(started) })
    if (!ok) console.error(`[conformance] ${scenario} FAILED (exit ${result.status ?? result.signal})`)
  }
}

function secondsSince(started) {
  return Math.round((performance.now() - started) / 100) / 10
}

/** Starts the testkit's CLI (no auth, with the conformance fixtures); resolves its MCP URL. */
function startTestkit() {
  const child = spawn(
    tsx,
    [
      join(root, 'packages', 'testkit', 'src', 'cli.ts'),
      'serve',
      '--no-auth',
      '--conformance',
      '--port',
      '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const newline = out.indexOf('\n')
      if (newline >= 0) resolve({ child, mcpUrl: JSON.parse(out.slice(0, newline)).mcpUrl })
    })
    child.once('exit', (code) => reject(new Error(`mcp-oauth2-testkit serve exited with ${code}`)))
  })
}

/** Per-scenario verdicts from the suite's output directory (`server-<scenario>-<timestamp>/checks.json`). */
function readVerdicts(dir) {
  const verdicts = []
  for (const entry of readdirSync(dir)) {
    const scenario = entry.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '')
    const file = join(dir, entry, 'checks.json')
    // A scenario that does not apply at the revision leaves a directory without checks.
    if (!existsSync(file)) continue
    const checks = JSON.parse(readFileSync(file, 'utf8'))
    const count = (status) => checks.filter((c) => c.status === status).length
    verdicts.push({
      scenario,
      checks: { passed: count('SUCCESS'), failed: count('FAILURE'), warnings: count('WARNING') },
      failures: checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`),
    })
  }
  return verdicts.sort((a, b) => a.scenario.localeCompare(b.scenario))
}

async function runServerScenarios(scenarios) {
  const { child, mcpUrl } = await startTestkit()
  console.log(
    `\n[conformance] server scenarios against ${mcpUrl} (mcp-oauth2-testkit serve --no-auth --conformance)`,
  )
  try {
    for (const revision of SERVER_REVISIONS) {
      const out = mkdtempSync(join(tmpdir(), 'conformance-server-'))
      const runs = scenarios ? scenarios.map((s) => ['--scenario', s]) : [['--suite', 'all']]
      const started = performance.now()
      let exits = 0
      for (const pick of runs) {
        const run = spawnSync(
          process.execPath,
          [
            suite,
            'server',
            '--url',
            mcpUrl,
            ...pick,
            '--spec-version',
            revision,
            '--timeout',
            '30000',
            '-o',
            out,
          ],
          { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
        )
        if (run.status !== 0) exits += 1
      }
      const seconds = secondsSince(started)
      const verdicts = readVerdicts(out)
      rmSync(out, { recursive: true, force: true })
      // The suite exits non-zero exactly when a check failed; a non-zero exit with no failed
      // check (or no scenario at all) means the run itself broke.
      if (
        (!scenarios && verdicts.length === 0) ||
        (exits > 0 && verdicts.every((v) => v.checks.failed === 0))
      ) {
        results.push({ scenario: '(the suite run)', side: 'server', revision, ok: false })
        console.error(
          `[conformance] the server suite at ${revision} did not run cleanly (${verdicts.length} scenarios)`,
        )
      }
      console.log(`[conformance] server suite at ${revision}: ${verdicts.length} scenarios (${seconds} s)`)
      for (const v of verdicts) {
        // A scenario whose checks are all INFO/WARNING/SKIPPED exercised nothing: say so, count nothing.
        if (v.checks.passed === 0 && v.checks.failed === 0) {
          console.log(
            `  skip  ${v.scenario} @ ${revision} (no check passed or failed, ${v.checks.warnings} warnings)`,
          )
          continue
        }
        const ok = v.checks.failed === 0
        results.push({ scenario: v.scenario, side: 'server', revision, ok, checks: v.checks })
        const line = `  ${ok ? 'pass' : 'FAIL'}  ${v.scenario} @ ${revision} (${v.checks.passed} checks passed, ${v.checks.failed} failed, ${v.checks.warnings} warnings)`
        console.log(line)
        for (const failure of v.failures) console.error(`        ${failure}`)
      }
    }
  } finally {
    child.kill('SIGTERM')
  }
}

const clientScenarios = names.length ? names.filter(isClient) : CLIENT_SCENARIOS
const serverScenarios = names.length ? names.filter((n) => !isClient(n)) : undefined
if (only !== 'server' && clientScenarios.length) runClientScenarios(clientScenarios)
if (only !== 'client' && (serverScenarios === undefined || serverScenarios.length)) {
  await runServerScenarios(serverScenarios)
}

const failed = results.filter((r) => !r.ok).length
console.log(`\n[conformance] scenarios that passed: ${results.length - failed} of ${results.length}`)
for (const r of results.filter((r) => r.side === 'client')) {
  console.log(`  ${r.ok ? 'pass' : 'FAIL'}  client ${r.scenario} (${r.seconds} s)`)
}
for (const r of results.filter((r) => r.side === 'server' && !r.ok)) {
  console.log(`  FAIL  server ${r.scenario} @ ${r.revision}`)
}
if (process.env.CONFORMANCE_REPORT) {
  writeFileSync(
    process.env.CONFORMANCE_REPORT,
    JSON.stringify({ passed: results.length - failed, failed, scenarios: results }),
  )
}
process.exit(failed ? 1 : 0)
