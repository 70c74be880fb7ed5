import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'tsdown'
import { afterAll, describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// Every runtime export is public API: a change here must be deliberate (and shows in review).
it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "AuthCoreError",
      "AuthorizationCodeTokenProvider",
      "CONFIG_ENV_VARS",
      "ClientCredentialsTokenProvider",
      "ConfigError",
      "DiscoveryError",
      "DpopKey",
      "ErrorCode",
      "IdJagTokenProvider",
      "InMemoryTokenStore",
      "InsufficientScopeError",
      "InvalidTokenError",
      "JwtBearerTokenProvider",
      "JwtScopeVerifier",
      "NEVER_FORWARD_HEADERS",
      "NEVER_FORWARD_HEADER_PREFIXES",
      "Secret",
      "TOKEN_CACHE_CHANNEL",
      "TOKEN_REQUEST_CHANNEL",
      "TokenExchangeTokenProvider",
      "TokenRequestError",
      "UNDERLYING_FETCH",
      "configFromEnv",
      "cookiePassthroughConfigSchema",
      "createCookieFilter",
      "createHeaderFilter",
      "createToolScopePolicy",
      "dpopHtu",
      "formatScope",
      "headerPassthroughConfigSchema",
      "idpConfigSchema",
      "isDpopNonceChallenge",
      "isLoopbackHost",
      "isScopeToken",
      "mcpConfigSchema",
      "oauth2ConfigSchema",
      "parseConfig",
      "parseRateLimitsConfig",
      "parseScope",
      "rateLimitConfigSchema",
      "rateLimitStoreConfigSchema",
      "rateLimitsConfigSchema",
      "redactServerText",
      "sameTokenClient",
      "scopeKey",
      "scopedRateLimitConfigSchema",
      "serverConfigSchema",
      "tlsConfigSchema",
      "toTokenProviderOptions",
      "tokenCacheKey",
      "tokenProviderFromConfig",
      "tokenProvidersFromConfig",
      "tokenStoreConfigSchema",
      "unwrapFetch",
      "userTokenConfigSchema",
      "userTokenProviderFromConfig",
      "userTokenProvidersFromConfig",
    ]
  `)
})

// The root entry is runtime-agnostic: what ships (the build, not the sources) must import no
// `node:` module, no Node built-in and not the MCP SDK, through any chunk it loads. The Node
// entry is scanned the same way and must import `node:fs`, so the scan is known to see imports.
describe('the built entries', () => {
  const out = mkdtempSync(join(tmpdir(), 'auth-core-dist-'))
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  /** Every module specifier imported (statically, or dynamically with a literal) by `file` and the chunks it loads. */
  function importsOf(file: string, seen = new Set<string>()): string[] {
    if (seen.has(file)) return []
    seen.add(file)
    const source = readFileSync(join(out, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '')
    const found: string[] = []
    for (const m of source.matchAll(/\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      const specifier = m[1]!
      if (specifier.startsWith('./')) found.push(...importsOf(specifier.slice(2), seen))
      else found.push(specifier)
    }
    return found
  }

  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

  it('import no node: module, no built-in and not the MCP SDK from the root entry', async () => {
    await build({
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      outDir: out,
      // tsdown.config.mjs is plain JavaScript: Node 22.12 (the floor) loads it without a TS loader.
      configLoader: 'native',
      dts: false,
      sourcemap: false,
      logLevel: 'silent',
    })
    const root = importsOf('index.js')
    expect(root.length).toBeGreaterThan(3) // jose, ky, oauth4webapi, yaml, zod
    expect(root.filter((s) => builtins.has(s) || s.startsWith('node:'))).toEqual([])
    expect(root.filter((s) => s.startsWith('@modelcontextprotocol'))).toEqual([])
    expect(importsOf('node.js')).toEqual(expect.arrayContaining(['node:fs']))
  })
})
