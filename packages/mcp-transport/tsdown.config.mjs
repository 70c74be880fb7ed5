import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  fixedExtension: false, // "type": "module": .js and .d.ts, as the exports map says
  dts: true, // emitted by TypeScript 7's native compiler (rolldown-plugin-dts picks it)
  sourcemap: true,
  clean: true,
  bin: false, // package.json lists the CLIs itself
  // Optional peers are never imported for their side effects: a type-only import of
  // `@opentelemetry/api` that the declaration bundle drops must not leave `import "…"` behind
  // (a consumer without the peer could not type-check).
  treeshake: {
    moduleSideEffects: (id, external) =>
      !(
        external &&
        /^@opentelemetry\/|^@redis\/client$|^@mcp-oauth2\/redis$|^@modelcontextprotocol\/client/.test(id)
      ),
  },
})
