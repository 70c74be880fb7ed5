#!/usr/bin/env node
// `prepack` of every package: the manifests use pnpm's `workspace:` and `catalog:` versions, which
// only pnpm replaces when it packs. A tarball made by plain `npm pack` / `npm publish` would not
// install (EUNSUPPORTEDPROTOCOL), so refuse those with a one-line pointer to the right command.
const agent = process.env.npm_config_user_agent ?? ''
if (!agent.startsWith('pnpm/')) {
  console.error(
    'refusing to pack with npm: this manifest has workspace:/catalog: versions only pnpm replaces; run `npm run pack` at the repository root (or `npx -y pnpm@10 pack` / `publish` here)',
  )
  process.exit(1)
}
