#!/usr/bin/env node
// Runs the official MCP conformance suite (pinned in the catalog) against conformance/client.ts,
// one scenario per run. Run through scripts/node-floor.mjs, so it runs on Node 22.12+ (the suite
// needs 22). With CONFORMANCE_REPORT=file it writes { passed, failed, scenarios } there.
//   node scripts/conformance.mjs [scenario ...]
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
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
const scenarios = process.argv.slice(2).length ? process.argv.slice(2) : CLIENT_SCENARIOS

const results = []
for (const scenario of scenarios) {
  console.log(`\n[conformance] ${scenario}`)
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
  results.push({ scenario, ok, seconds: Math.round((performance.now() - started) / 100) / 10 })
  if (!ok) console.error(`[conformance] ${scenario} FAILED (exit ${result.status ?? result.signal})`)
}
const failed = results.filter((r) => !r.ok).length
console.log(`\n[conformance] scenarios that passed: ${results.length - failed} of ${results.length}`)
for (const r of results) console.log(`  ${r.ok ? 'pass' : 'FAIL'}  ${r.scenario} (${r.seconds} s)`)
if (process.env.CONFORMANCE_REPORT) {
  writeFileSync(
    process.env.CONFORMANCE_REPORT,
    JSON.stringify({ passed: results.length - failed, failed, scenarios: results }),
  )
}
process.exit(failed ? 1 : 0)
