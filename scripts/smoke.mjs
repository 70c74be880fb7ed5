#!/usr/bin/env node
// The consumer smoke test: what a user gets from npm, checked from the packed tarballs in a fresh
// project outside the workspace, installed with plain npm beside the MCP SDK v1, the SDK v2
// client, msw 3 and vitest 5.
//   1. the README's quick start, unchanged, against the installed `mcp-oauth2-testkit serve`;
//   2. the consumer suite of docs/testkit.md (msw in-process, the /vitest subpath, loopback);
//   3. the installed CLIs: `mcp-oauth2 check` against `mcp-oauth2-testkit serve`;
//   4. `tsc --noEmit` (strict, NodeNext) over those files, and a CommonJS require() of every entry.
// Run after scripts/packages.mjs (it packs into dist-packages/). SMOKE_REPORT=file gets
// { passed, failed } (the four checks). SMOKE_KEEP=1 keeps the project for a look.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tarballDir = join(root, 'dist-packages')
const catalog = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
const version = (name) => {
  const line = catalog
    .split('\n')
    .find((l) => l.trim().startsWith(`"${name}":`) || l.trim().startsWith(`${name}:`))
  if (!line) throw new Error(`${name} is not in the catalog`)
  return line.split(':').slice(1).join(':').trim()
}

if (!existsSync(tarballDir)) {
  console.error('[smoke] no dist-packages/: run node scripts/packages.mjs all first')
  process.exit(1)
}
const tarballs = readdirSync(tarballDir)
  .filter((f) => f.endsWith('.tgz'))
  .map((f) => join(tarballDir, f))
const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-smoke-'))
const results = []

function check(name, fn) {
  return Promise.resolve()
    .then(fn)
    .then(
      () => {
        results.push({ name, ok: true })
        console.log(`[smoke] ok    ${name}`)
      },
      (error) => {
        results.push({ name, ok: false })
        console.error(`[smoke] FAIL  ${name}: ${error.message}`)
      },
    )
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8', timeout: 300_000, ...options })
  if (result.status !== 0) {
    throw new Error(
      `${[command, ...args].join(' ').slice(0, 200)} exited ${result.status ?? result.signal}\n${result.stdout ?? ''}${result.stderr ?? ''}`,
    )
  }
  return result.stdout
}

/** The code of the first ```ts block after `heading` in a Markdown file. */
function block(file, heading) {
  const text = readFileSync(file, 'utf8')
  const from = text.indexOf(heading)
  if (from < 0) throw new Error(`${file} has no "${heading}"`)
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(from))
  if (!match) throw new Error(`${file}: no ts block after "${heading}"`)
  return match[1]
}

/** Starts the installed `mcp-oauth2-testkit serve` and resolves with its JSON line. */
function serve(args) {
  const child = spawn(join(dir, 'node_modules', '.bin', 'mcp-oauth2-testkit'), ['serve', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`serve printed nothing in 20 s: ${err}`)), 20_000)
    child.stderr.on('data', (chunk) => {
      err += chunk
    })
    child.stdout.on('data', (chunk) => {
      out += chunk
      const newline = out.indexOf('\n')
      if (newline >= 0) {
        clearTimeout(timer)
        resolve({ child, info: JSON.parse(out.slice(0, newline)) })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited ${code}: ${err}`))
    })
  })
}

async function stop(child) {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

try {
  console.log(`[smoke] fresh project in ${dir}`)
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'smoke-consumer', private: true, type: 'module', version: '1.0.0' }, null, 2),
  )
  const started = performance.now()
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...tarballs,
    `@modelcontextprotocol/sdk@${version('@modelcontextprotocol/sdk')}`,
    `@modelcontextprotocol/client@${version('@modelcontextprotocol/client')}`,
    `msw@${version('msw')}`,
    `vitest@${version('vitest')}`,
    `typescript@${version('typescript')}`,
    `@types/node@${version('@types/node')}`,
  ])
  console.log(`[smoke] npm install: ${((performance.now() - started) / 1000).toFixed(1)} s`)

  const quickstart = block(join(root, 'README.md'), '## Quick start\n\n```sh')
  writeFileSync(join(dir, 'quickstart.ts'), quickstart)
  writeFileSync(
    join(dir, 'gateway.test.ts'),
    block(join(root, 'docs', 'testkit.md'), '## A consumer test suite'),
  )

  await check('README quick start, unchanged, against `mcp-oauth2-testkit serve`', async () => {
    const { child, info } = await serve([])
    try {
      if (info.mcpUrl !== 'http://127.0.0.1:4100/mcp')
        throw new Error(`serve's default URL is ${info.mcpUrl}`)
      const out = run(process.execPath, ['quickstart.ts'], { timeout: 60_000 })
      if (!out.includes('get_customer_info') || !out.includes('"session_id":"abc"')) {
        throw new Error(`unexpected output:\n${out}`)
      }
    } finally {
      await stop(child)
    }
  })

  await check('docs/testkit.md consumer suite (msw, /vitest, loopback) with vitest 5', () => {
    run(join(dir, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=dot'], { timeout: 180_000 })
  })

  await check('installed CLIs: `mcp-oauth2 check` against `mcp-oauth2-testkit serve --port 0`', async () => {
    const { child, info } = await serve(['--port', '0'])
    try {
      writeFileSync(
        join(dir, 'check.yaml'),
        `mcp_servers:
  mock:
    url: ${info.mcpUrl}
    auth:
      oauth2: { discover: true, client_id: test-client, client_secret: "\${SMOKE_SECRET}", scope: "mcp:read" }
`,
      )
      const env = { ...process.env, SMOKE_SECRET: 'test-secret' }
      const out = run(
        join(dir, 'node_modules', '.bin', 'mcp-oauth2'),
        ['check', '--config', 'check.yaml', '--json'],
        {
          env,
        },
      )
      const report = JSON.parse(out)
      if (report.ok !== true) throw new Error(`check reported a problem: ${out}`)
      if (out.includes('test-secret')) throw new Error('check printed the secret')
    } finally {
      await stop(child)
    }
  })

  await check('tsc --noEmit (strict, NodeNext) and require() of every entry point', () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          verbatimModuleSyntax: true,
          allowImportingTsExtensions: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['quickstart.ts', 'gateway.test.ts'],
      }),
    )
    run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'])
    const entries = [
      '@mcp-oauth2/auth-core',
      '@mcp-oauth2/auth-core/node',
      '@mcp-oauth2/mcp-transport',
      '@mcp-oauth2/testkit',
      '@mcp-oauth2/testkit/vitest',
      '@mcp-oauth2/redis',
    ]
    writeFileSync(
      join(dir, 'require.cjs'),
      `for (const id of ${JSON.stringify(entries)}) {
  const m = require(id)
  if (Object.keys(m).length === 0) throw new Error(id + ' exports nothing')
  console.log(id, Object.keys(m).length)
}
`,
    )
    run(process.execPath, ['require.cjs'])
  })
} catch (error) {
  results.push({ name: 'setup', ok: false })
  console.error(`[smoke] FAIL  setup: ${error.message}`)
} finally {
  if (process.env.SMOKE_KEEP) console.log(`[smoke] kept ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}

const failed = results.filter((r) => !r.ok).length
if (process.env.SMOKE_REPORT) {
  writeFileSync(process.env.SMOKE_REPORT, JSON.stringify({ passed: results.length - failed, failed }))
}
console.log(`[smoke] ${results.length - failed} of ${results.length} checks passed`)
process.exit(failed ? 1 : 0)
