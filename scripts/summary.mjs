#!/usr/bin/env node
// Prints the test run's closing line ("tests: N passed, N failed") from vitest's JSON report, so
// the end of `npm test` states how many tests ran, after the conformance and package checks.
import { readFileSync } from 'node:fs'

const [file = 'node_modules/.cache/vitest-results.json', extra = '0'] = process.argv.slice(2)
const report = JSON.parse(readFileSync(file, 'utf8'))
const passed = report.numPassedTests + Number(extra)
const failed = report.numFailedTests
if (report.numTotalTests === 0) {
  console.error('no test ran')
  process.exit(1)
}
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
