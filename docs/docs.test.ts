// Keeps the docs honest: every ```ts block in docs/*.md type-checks against the workspace, the
// quickstart runs end to end against the testkit's loopback servers, and docs/errors.md documents
// every error code the packages export.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClientCredentialsTokenProvider, ErrorCode } from '@mcp-oauth2/auth-core'
import { createAuthFetch, McpTransportErrorCode } from '@mcp-oauth2/mcp-transport'
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
}

/** Every ```ts / ```typescript block of a page; ```ts ignore marks a block as not compiled. */
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

describe('docs/errors.md', () => {
  const page = readFileSync(join(docsDir, 'errors.md'), 'utf8')
  /** Codes in the first column of the page's tables. */
  const documented = new Set([...page.matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]))

  const codes = [
    ...Object.values(ErrorCode),
    ...Object.values(McpTransportErrorCode),
    ...Object.values(RedisTokenStoreErrorCode),
    ...Object.values(TestkitErrorCode),
  ]

  it('has a table row for every code the packages export', () => {
    for (const code of codes)
      expect(documented, `docs/errors.md has no table row for ${code}`).toContain(code)
  })

  it('has no row for a code that does not exist', () => {
    expect([...documented].filter((code) => !codes.includes(code as never))).toEqual([])
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

describe('links', () => {
  const owned = [
    'README.md',
    'quickstart.md',
    'service-to-service.md',
    'user-passthrough.md',
    'verifying-tokens.md',
    'security.md',
    'errors.md',
    'migrating-from-litellm.md',
  ]
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
  function anchorsOf(page: string): Set<string> {
    const text = readFileSync(join(docsDir, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
    return new Set(
      [...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
        (m[1] as string)
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      ),
    )
  }

  it.each(owned)('every relative link of %s resolves', (page) => {
    const text = readFileSync(join(docsDir, page), 'utf8').replace(/^```[\s\S]*?^```/gm, '')
    const broken: string[] = []
    for (const [, target] of text.matchAll(/\]\((\.\/[^)\s]+)\)/g)) {
      const [file = '', anchor] = (target as string).slice(2).split('#')
      if (!existsSync(join(docsDir, file))) {
        broken.push(target as string)
        continue
      }
      if (anchor !== undefined && !anchorsOf(file).has(anchor)) broken.push(target as string)
    }
    expect(broken).toEqual([])
  })
})
