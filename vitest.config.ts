import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the sources of our own packages, not their build output.
    alias: [
      { find: /^@mcp-oauth2\/auth-core\/node$/, replacement: src('auth-core/src/node.ts') },
      { find: /^@mcp-oauth2\/auth-core$/, replacement: src('auth-core/src/index.ts') },
      { find: /^@mcp-oauth2\/mcp-transport$/, replacement: src('mcp-transport/src/index.ts') },
      { find: /^@mcp-oauth2\/redis$/, replacement: src('redis/src/index.ts') },
      { find: /^@mcp-oauth2\/testkit\/vitest$/, replacement: src('testkit/src/vitest.ts') },
      { find: /^@mcp-oauth2\/testkit$/, replacement: src('testkit/src/index.ts') },
    ],
  },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'docs/**/*.test.ts',
      'examples/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
