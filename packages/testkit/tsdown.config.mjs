import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/vitest.ts', 'src/cli.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  fixedExtension: false, // "type": "module": .js and .d.ts, as the exports map says
  dts: true, // emitted by TypeScript 7's native compiler (rolldown-plugin-dts picks it)
  sourcemap: true,
  clean: true,
  bin: false, // package.json lists the CLIs itself
})
