#!/usr/bin/env node
// Runs the official MCP conformance suite's client-credentials scenarios against
// conformance/client.ts. The suite needs Node 22: it runs through `npx -y node@22`.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const suite = join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js')
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const scenarios = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['auth/client-credentials-basic', 'auth/client-credentials-jwt']

let failed = 0
for (const scenario of scenarios) {
  console.log(`\n[conformance] ${scenario}`)
  const result = spawnSync(
    'npx',
    [
      '-y',
      'node@22',
      suite,
      'client',
      '--command',
      `${tsx} ${join(root, 'conformance', 'client.ts')}`,
      '--scenario',
      scenario,
    ],
    { cwd: root, stdio: 'inherit', timeout: 180_000 },
  )
  if (result.status !== 0) {
    failed++
    console.error(`[conformance] ${scenario} FAILED (exit ${result.status ?? result.signal})`)
  }
}
console.log(`\n[conformance] scenarios that passed: ${scenarios.length - failed} of ${scenarios.length}`)
process.exit(failed ? 1 : 0)
