// Keeps the docs honest: every ```ts block in docs/*.md type-checks against the workspace, the
// blocks marked `run` run as a user would run them (a child process, against the testkit's
// loopback servers, and once more with the MCP server stopped) and must end by themselves, the
// quickstart runs end to end, and docs/errors.md documents every error code the packages export.
import { execFile } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClientCredentialsTokenProvider, ErrorCode } from '@mcp-oauth2/auth-core'
import { createAuthFetch, McpFailureCode, McpTransportErrorCode } from '@mcp-oauth2/mcp-transport'
import { RedisTokenStoreErrorCode } from '@mcp-oauth2/redis'
import { startMockServers, TestkitErrorCode } from '@mcp-oauth2/testkit'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, describe, expect, it } from 'vitest'
import { typecheckFiles } from '../scripts/lib/typecheck.js'
import { startGuardedServer } from './snippets/guarded-server.js'
import { quickstart } from './snippets/quickstart.js'

const docsDir = fileURLToPath(new URL('.', import.meta.url))
const root = join(docsDir, '..')
// Blocks are written under docs/.snippets/ (git-ignored by the .gitignore the test puts there),
// one directory per run so that concurrent runs do not delete each other's files.
const snippetRoot = join(docsDir, '.snippets')
const snippetDir = join(snippetRoot, `run-${process.pid}-${Date.now()}`)

interface Block {
  /** The page, relative to the repository root (`docs/quickstart.md`). */
  file: string
  /** 1-based line of the first line of code (the one after the opening fence). */
  line: number
  code: string
  ignore: boolean
  /** ```ts run: run as a script against loopback servers it is given (config.yaml, env). */
  run: boolean
  /** ```ts run standalone: run as a script that starts what it needs itself. */
  standalone: boolean
}

/**
 * Every ```ts / ```typescript block of a page; ```ts ignore marks a block as not compiled,
 * ```ts run (and ```ts run standalone) one that is also run.
 */
function blocksOf(page: string): Block[] {
  const lines = readFileSync(join(docsDir, page), 'utf8').split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(?:\s+(.*))?$/.exec(lines[i] ?? '')
    if (!open) continue
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++
    if (end === lines.length) throw new Error(`docs/${page}:${i + 1}: unclosed code block`)
    const info = (open[2] ?? '').split(/\s+/)
    blocks.push({
      file: `docs/${page}`,
      line: start + 1,
      code: lines.slice(start, end).join('\n'),
      ignore: info.includes('ignore'),
      run: info.includes('run'),
      standalone: info.includes('standalone'),
    })
    i = end
  }
  return blocks
}

/** Pages checked here: every docs/*.md without a test of its own (docs/testkit.md has one). */
const pages = readdirSync(docsDir)
  .filter((name) => name.endsWith('.md'))
  .filter((name) => !existsSync(join(docsDir, name.replace(/\.md$/, '.test.ts'))))
  .sort()
// The repository README's quick start is held to the same rule.
const blocks = [...pages, '../README.md'].flatMap(blocksOf)

describe('code blocks', () => {
  afterAll(() => rmSync(snippetDir, { recursive: true, force: true }))

  it('are found on the pages this test owns', () => {
    expect(pages).toEqual(expect.arrayContaining(['quickstart.md', 'service-to-service.md', 'errors.md']))
    expect(blocks.filter((b) => !b.ignore).length).toBeGreaterThan(10)
  })

  it('type-check against the workspace sources', async () => {
    mkdirSync(snippetDir, { recursive: true })
    writeFileSync(join(snippetRoot, '.gitignore'), '*\n')
    // One module per block (.mts: ES module, so top-level await works), named after its place.
    const files = new Map<string, Block>()
    for (const block of blocks) {
      if (block.ignore) continue
      const name = `${basename(block.file, '.md')}.L${block.line}.mts`
      const path = join(snippetDir, name)
      // `export {}` makes a block without imports a module too, so blocks never share names.
      writeFileSync(path, `${block.code}\nexport {}\n`)
      files.set(path, block)
    }
    // The files of docs/snippets/ are copied beside the blocks, which import them as `./name.js`.
    const snippetSources: string[] = []
    for (const name of readdirSync(join(docsDir, 'snippets')).filter((n) => n.endsWith('.ts'))) {
      const path = join(snippetDir, name)
      writeFileSync(path, readFileSync(join(docsDir, 'snippets', name)))
      snippetSources.push(path)
    }

    const diagnostics = await typecheckFiles(snippetDir, [...files.keys(), ...snippetSources])
    const errors = diagnostics.map((d) => {
      const block = files.get(d.file)
      const where = block
        ? `${block.file}:${block.line + d.line - 1}:${d.column}`
        : `docs/snippets/${basename(d.file)}:${d.line}:${d.column}`
      return d.file ? `${where} ${d.message}` : d.message
    })
    // A block that is a fragment on purpose can be marked ```ts ignore (see docs/README.md).
    expect(errors, 'code blocks that do not type-check').toEqual([])
  }, 120_000)
})

/** A loopback port nothing listens on (bound, then released). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

interface Run {
  code: number | null
  /** Killed at the timeout: it did not end by itself. */
  killed: boolean
  output: string
}

/**
 * Runs a block as a user runs a script: written to a file beside copies of docs/snippets/, started
 * as a child process (tsx, resolving our packages to the workspace sources through the root
 * tsconfig) in `cwd`, with a timeout after which it is killed.
 */
function runBlock(block: Block, cwd: string, env: Record<string, string>): Promise<Run> {
  const dir = join(snippetRoot, `exec-${process.pid}-${Date.now()}-${block.line}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(snippetRoot, '.gitignore'), '*\n')
  for (const name of readdirSync(join(docsDir, 'snippets')).filter((n) => n.endsWith('.ts')))
    copyFileSync(join(docsDir, 'snippets', name), join(dir, name))
  const file = join(dir, `${basename(block.file, '.md')}.L${block.line}.mts`)
  writeFileSync(file, `${block.code}\nexport {}\n`)
  const tsx = join(root, 'node_modules', '.bin', 'tsx')
  return new Promise((resolve) => {
    execFile(
      tsx,
      ['--tsconfig', join(root, 'tsconfig.json'), file],
      // What a user's shell has (PATH, HOME), plus what the page says to set; no MCP_OAUTH2_* of ours.
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        timeout: 30_000,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true })
        const e = error as (Error & { code?: unknown; killed?: boolean }) | null
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          killed: e?.killed === true,
          output: `${stdout}${stderr}`,
        })
      },
    )
  })
}

/**
 * What a ```ts run block is given: the testkit's token endpoint, its client (test-client /
 * test-secret) and the MCP server's Streamable HTTP and legacy SSE endpoints.
 */
function givenEnv(tokenEndpoint: string, mcp: { url: string; sseUrl: string | undefined }) {
  return {
    OAUTH2_TOKEN_URL: tokenEndpoint,
    OAUTH2_CLIENT_ID: 'test-client',
    OAUTH2_CLIENT_SECRET: 'test-secret',
    MCP_SERVER_URL: mcp.url,
    ...(mcp.sseUrl === undefined ? {} : { MCP_SSE_URL: mcp.sseUrl }),
  }
}

describe('runnable blocks', () => {
  const runnable = blocks.filter((b) => b.run && !b.ignore)
  const given = runnable.filter((b) => !b.standalone)
  const name = (b: Block) => `${b.file}:${b.line}`

  it('are marked on the pages that promise a script', () => {
    expect(runnable.map((b) => b.file)).toEqual(
      expect.arrayContaining([
        'docs/migrating-from-litellm.md',
        'docs/quickstart.md',
        'docs/service-to-service.md',
      ]),
    )
  })

  /** A directory with the seed's config.yaml (examples/config.yaml), as the pages assume. */
  function workdir() {
    const cwd = mkdtempSync(join(tmpdir(), 'docs-run-'))
    copyFileSync(join(root, 'examples', 'config.yaml'), join(cwd, 'config.yaml'))
    return cwd
  }

  it.each(runnable.map((b) => [name(b), b] as const))(
    '%s ends by itself against the testkit loopback servers',
    async (_, block) => {
      const servers = await startMockServers()
      const cwd = workdir()
      try {
        const run = await runBlock(block, cwd, givenEnv(servers.oauth.tokenEndpoint, servers.mcp))
        expect(run.killed, `${name(block)} did not exit by itself:\n${run.output}`).toBe(false)
        expect(run.code, run.output).toBe(0)
        expect(run.output).not.toMatch(/did not connect|unavailable|ECONNREFUSED/)
        // Given servers were used: a token was requested and a tool listed.
        if (!block.standalone) {
          expect(servers.oauth.server.tokenRequests.length).toBeGreaterThan(0)
          expect(servers.mcp.server.requests.some((r) => r.jsonRpcMethod === 'tools/list')).toBe(true)
        }
      } finally {
        rmSync(cwd, { recursive: true, force: true })
        await servers.close()
      }
    },
    60_000,
  )

  it.each(given.map((b) => [name(b), b] as const))(
    '%s reports a stopped MCP server and still ends by itself',
    async (_, block) => {
      const servers = await startMockServers()
      const stopped = `http://127.0.0.1:${await deadPort()}/mcp`
      const cwd = workdir()
      try {
        const run = await runBlock(
          block,
          cwd,
          givenEnv(servers.oauth.tokenEndpoint, { url: stopped, sseUrl: stopped.replace(/\/mcp$/, '/sse') }),
        )
        expect(run.killed, `${name(block)} did not exit by itself:\n${run.output}`).toBe(false)
        expect(run.output, `${name(block)} did not say that ${stopped} is down`).toContain(stopped)
        expect(run.output).toMatch(/did not connect|unavailable|ECONNREFUSED/)
      } finally {
        rmSync(cwd, { recursive: true, force: true })
        await servers.close()
      }
    },
    60_000,
  )

  it('docs/migrating-from-litellm.md prints the tools and the user call, forwarding only allowed cookies', async () => {
    const block = runnable.find((b) => b.file === 'docs/migrating-from-litellm.md')!
    const servers = await startMockServers()
    const cwd = workdir()
    try {
      const run = await runBlock(block, cwd, {
        OAUTH2_TOKEN_URL: servers.oauth.tokenEndpoint,
        MCP_SERVER_URL: servers.mcp.url,
        OAUTH2_CLIENT_SECRET: 'test-secret',
      })
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(/^4 tool\(s\)$/m)
      expect(run.output).toContain('Ada Lovelace')
      expect(servers.mcp.server.toolCalls).toMatchObject([
        { tool: 'get_customer_info', cookies: { session_id: 'abc123' } },
      ])
      expect(servers.mcp.server.toolCalls[0]?.cookies).toEqual({ session_id: 'abc123' })
    } finally {
      rmSync(cwd, { recursive: true, force: true })
      await servers.close()
    }
  }, 60_000)

  it('docs/snippets/quickstart.ts, called for a stopped server, rejects naming it and ends', async () => {
    const stopped = `http://127.0.0.1:${await deadPort()}/mcp`
    const cwd = mkdtempSync(join(tmpdir(), 'docs-run-'))
    try {
      const driver: Block = {
        file: 'docs/quickstart.driver',
        line: 1,
        code: `import { quickstart } from './quickstart.js'
await quickstart({ serverUrl: process.env.MCP_SERVER_URL!, clientId: 'test-client', clientSecret: 'test-secret', userCookie: '' })`,
        ignore: false,
        run: true,
        standalone: false,
      }
      const run = await runBlock(driver, cwd, { MCP_SERVER_URL: stopped })
      expect(run.killed, run.output).toBe(false)
      expect(run.code).not.toBe(0)
      expect(run.output).toContain(stopped.replace(/\/mcp$/, ''))
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  }, 60_000)
})

describe('docs/quickstart.md', () => {
  it('shows docs/snippets/quickstart.ts verbatim', () => {
    const file = readFileSync(join(docsDir, 'snippets/quickstart.ts'), 'utf8').trimEnd()
    expect(blocksOf('quickstart.md').map((b) => b.code)).toContain(file)
  })

  it('runs end to end against the testkit loopback servers', async () => {
    const servers = await startMockServers()
    try {
      const { tools, result } = await quickstart({
        serverUrl: servers.mcp.url,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        userCookie: 'theme=dark; session_id=abc123; tracking=xyz',
      })
      expect(tools).toContain('get_customer_info')
      expect(result.structuredContent).toMatchObject({ name: 'Ada Lovelace' })
      // One token, for the MCP server as the RFC 8707 resource.
      expect(servers.oauth.server.tokenRequests).toMatchObject([
        { clientId: 'test-client', status: 200, resource: [servers.mcp.url] },
      ])
      // The tool call carried the bearer and only the allowed cookie.
      expect(servers.mcp.server.toolCalls).toMatchObject([
        { tool: 'get_customer_info', cookies: { session_id: 'abc123' }, clientId: 'test-client' },
      ])
      expect(servers.mcp.server.toolCalls[0]?.cookies).toEqual({ session_id: 'abc123' })
    } finally {
      await servers.close()
    }
  })
})

describe('docs/verifying-tokens.md', () => {
  it('shows docs/snippets/guarded-server.ts verbatim', () => {
    const file = readFileSync(join(docsDir, 'snippets/guarded-server.ts'), 'utf8').trimEnd()
    expect(blocksOf('verifying-tokens.md').map((b) => b.code)).toContain(file)
  })

  it('guards a real SDK server: the quickstart client discovers, authenticates and calls a tool', async () => {
    const servers = await startMockServers()
    const guarded = await startGuardedServer({ issuer: servers.oauth.issuer, jwksUri: servers.oauth.jwksUri })
    try {
      const { tools, result } = await quickstart({
        serverUrl: guarded.url,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        userCookie: 'session_id=s1',
      })
      expect(tools).toEqual(['get_customer_info'])
      expect(result.structuredContent).toEqual({ customer_id: 'cust-001', caller: 'test-client' })
      expect(servers.oauth.server.tokenRequests).toMatchObject([{ status: 200, resource: [guarded.url] }])
    } finally {
      await guarded.close()
      await servers.close()
    }
  })

  it('answers 401 with a challenge, and 403 insufficient_scope that the auth fetch steps up from', async () => {
    const servers = await startMockServers()
    const guarded = await startGuardedServer({ issuer: servers.oauth.issuer, jwksUri: servers.oauth.jwksUri })
    try {
      const anonymous = await fetch(guarded.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      })
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="http:/)

      // A token for mcp:read only: the tool call is refused with 403, then retried with a wider token.
      const tokenProvider = new ClientCredentialsTokenProvider({
        tokenUrl: servers.oauth.tokenEndpoint,
        clientId: 'test-client',
        clientSecret: 'test-secret',
        scope: 'mcp:read',
        resource: guarded.url,
      })
      const client = new Client({ name: 'docs-test', version: '1.0.0' })
      await client.connect(
        new StreamableHTTPClientTransport(new URL(guarded.url), {
          fetch: createAuthFetch({ serverUrl: guarded.url, tokenProvider }),
        }),
      )
      const result = await client.callTool({ name: 'get_customer_info', arguments: { customer_id: 'c1' } })
      await client.close()
      expect(result.structuredContent).toEqual({ customer_id: 'c1', caller: 'test-client' })
      expect(servers.oauth.server.tokenRequests.map((r) => r.scope)).toEqual([
        ['mcp:read'],
        ['mcp:read', 'customer:read'],
      ])
    } finally {
      await guarded.close()
      await servers.close()
    }
  })
})

/** Every .ts file under `dir`, recursively. */
function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourcesUnder(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/**
 * Node's own codes that the sources only compare against (never throw or report): a failed
 * dynamic import, node:util's parseArgs, a TLS host name mismatch. Each must still be read
 * somewhere (the test below fails when one is no longer), so the list cannot rot.
 */
const READ_ONLY_NODE_CODES = [
  'ERR_MODULE_NOT_FOUND',
  'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]

/**
 * Every error code string in packages/{name}/src, comments included: quoted `'ERR_…'` literals,
 * and families built at run time (`ERR_HTTP_${status}`, the CLI's `'ERR_MCP_'` prefix), which
 * come back as `ERR_HTTP_<…>`.
 */
function codesInSources(): { codes: Set<string>; files: Map<string, string> } {
  const codes = new Set<string>()
  const files = new Map<string, string>()
  const packagesDir = join(root, 'packages')
  for (const pkg of readdirSync(packagesDir)) {
    const src = join(packagesDir, pkg, 'src')
    if (!existsSync(src)) continue
    for (const file of sourcesUnder(src)) {
      const text = readFileSync(file, 'utf8')
      files.set(file, text)
      for (const [, code] of text.matchAll(/['"](ERR_[A-Z0-9_]*[A-Z0-9])['"]/g)) codes.add(code as string)
      for (const [, prefix] of text.matchAll(/['"`](ERR_[A-Z0-9_]*_)(?:['"]|\$\{)/g))
        codes.add(`${prefix}<…>`)
    }
  }
  for (const code of READ_ONLY_NODE_CODES) codes.delete(code)
  return { codes, files }
}

describe('docs/errors.md', () => {
  const page = readFileSync(join(docsDir, 'errors.md'), 'utf8')
  /**
   * Codes in the first column of the page's tables; a family (`ERR_HTTP_<status>`) as
   * `ERR_HTTP_<…>`.
   */
  const documented = new Set(
    [...page.matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)(<[^>`]+>)?`/gm)].map((m) => (m[2] ? `${m[1]}<…>` : m[1])),
  )
  const { codes: inSources, files } = codesInSources()

  const exported = [
    ...Object.values(ErrorCode),
    ...Object.values(McpTransportErrorCode),
    ...Object.values(McpFailureCode),
    ...Object.values(RedisTokenStoreErrorCode),
    ...Object.values(TestkitErrorCode),
  ]
  const codes = [...new Set([...exported, ...inSources])].sort()

  it('finds the codes in the sources', () => {
    // Exported constants, internal ones (the shared token store's), run-time families.
    expect(codes).toEqual(
      expect.arrayContaining([
        'ERR_OAUTH_ERROR_RESPONSE',
        'ERR_TOKEN_STORE_TIMEOUT',
        'ERR_INVALID_ARGUMENTS',
        'ERR_USAGE',
        'ERR_HTTP_<…>',
        'ERR_MCP_<…>',
      ]),
    )
  })

  it('has a table row for every code any package throws or reports', () => {
    const missing = codes.filter((code) => !documented.has(code))
    expect(missing, 'codes without a table row in docs/errors.md').toEqual([])
  })

  it('has no row for a code that does not exist', () => {
    expect([...documented].filter((code) => !codes.includes(code as string))).toEqual([])
  })

  it.each(READ_ONLY_NODE_CODES)("%s, left out as one of Node's, is still only read", (code) => {
    const reads = [...files.values()].some((text) => new RegExp(`(?:===|!==|case)\\s*'${code}'`).test(text))
    expect(reads, `${code} is no longer compared against: drop it from READ_ONLY_NODE_CODES`).toBe(true)
  })

  /** The string literals of an exported union type, read from its source file. */
  function unionMembers(file: string, type: string): string[] {
    const source = readFileSync(join(root, file), 'utf8')
    const union = new RegExp(`export type ${type} =([^;]*?)\\n(?:\\n|export|/)`, 's').exec(source)?.[1] ?? ''
    return [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] as string)
  }

  it.each([
    ['packages/auth-core/src/errors.ts', 'InvalidTokenReason'],
    ['packages/mcp-transport/src/errors.ts', 'ScopeDeniedReason'],
  ])('documents every value of %s %s', (file, type) => {
    const reasons = unionMembers(file, type)
    expect(reasons.length).toBeGreaterThan(2)
    for (const reason of reasons) {
      expect(page, `docs/errors.md does not document ${type} ${reason}`).toMatch(
        new RegExp(`^\\|\\s*\`${reason}\``, 'm'),
      )
    }
  })
})

describe('docs/manager.md', () => {
  const page = readFileSync(join(docsDir, 'manager.md'), 'utf8')
  /** Each member of the McpManagerEvent union in events.ts: its `type` and its own fields. */
  function eventMembers(): { type: string; fields: string[] }[] {
    const source = readFileSync(join(root, 'packages/mcp-transport/src/internal/manager/events.ts'), 'utf8')
    const union = /export type McpManagerEvent =([\s\S]*?)\n\n/.exec(source)?.[1] ?? ''
    const common = new Set(['type', 'at', 'server', 'tool', 'durationMs'])
    return union
      .split(/\n {2}\| /)
      .map((member) => {
        const type = /readonly type: '([a-z_]+)'/.exec(member)?.[1]
        const own = [...member.matchAll(/readonly (\w+)\??:/g)].map((m) => m[1] as string)
        const fields = [...own, ...(member.includes('CallerBase') ? ['user', 'userId'] : [])]
        return { type: type ?? '', fields: fields.filter((f) => !common.has(f)) }
      })
      .filter((m) => m.type !== '')
  }

  it('reads the event union', () => {
    expect(eventMembers().map((m) => m.type)).toEqual(expect.arrayContaining(['token', 'tool_call', 'store']))
  })

  it.each(eventMembers().map((m) => [m.type, m] as const))(
    'lists the %s event with each of its fields',
    (type, { fields }) => {
      const row = new RegExp(`^\\| \`${type}\` \\|.*$`, 'm').exec(page)?.[0]
      expect(row, `docs/manager.md has no events table row for ${type}`).toBeDefined()
      const missing = fields.filter((field) => !row!.includes(`\`${field}\``))
      expect(missing, `fields of ${type} missing from its row`).toEqual([])
    },
  )

  it('has no event row for a type that does not exist', () => {
    const section = page.slice(
      page.indexOf('## Events'),
      page.indexOf('\n## ', page.indexOf('## Events') + 1),
    )
    const rows = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1])
    expect(rows.filter((type) => type !== 'type' && !eventMembers().some((m) => m.type === type))).toEqual([])
  })
})

describe('links', () => {
  /** Every page of docs/, and the repository README (relative to docs/). */
  const linkPages = [
    ...readdirSync(docsDir)
      .filter((name) => name.endsWith('.md'))
      .sort(),
    '../README.md',
  ]
  /** Markdown without its fenced code blocks. */
  function prose(page: string): string {
    return readFileSync(join(docsDir, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
  }
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
  function anchorsOf(page: string): Set<string> {
    return new Set(
      [...prose(page).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
        (m[1] as string)
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      ),
    )
  }

  it('the index (docs/README.md) links every page of docs/', () => {
    const index = prose('README.md')
    const unlinked = linkPages
      .filter((page) => page !== 'README.md' && !page.startsWith('../'))
      .filter((page) => !new RegExp(`\\]\\(\\./${page.replace('.', '\\.')}(?:#[^)]*)?\\)`).test(index))
    expect(unlinked, 'pages docs/README.md does not link').toEqual([])
  })

  it.each(linkPages)('every relative link of %s resolves', (page) => {
    const dir = join(docsDir, page, '..')
    const broken: string[] = []
    for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = target as string
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue // https:, mailto:
      const [file = '', anchor] = link.split('#')
      const path = file === '' ? join(docsDir, page) : join(dir, file)
      if (!existsSync(path)) {
        broken.push(link)
        continue
      }
      if (anchor !== undefined && path.endsWith('.md')) {
        const relative = path.startsWith(docsDir)
          ? path.slice(docsDir.length)
          : `../${path.slice(root.length + 1)}`
        if (!anchorsOf(relative).has(anchor)) broken.push(link)
      }
    }
    expect(broken).toEqual([])
  })
})
