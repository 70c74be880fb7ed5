// docs/testkit.md shows the consumer suite (docs/consumer/gateway.test.ts, which CI runs here and,
// copied from the page, in a fresh project against the packed packages) verbatim.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

it('docs/testkit.md shows docs/consumer/gateway.test.ts verbatim', () => {
  const page = readFileSync(new URL('./testkit.md', import.meta.url), 'utf8')
  const suite = readFileSync(new URL('./consumer/gateway.test.ts', import.meta.url), 'utf8')
  expect(page).toContain(`\`\`\`ts\n${suite}\`\`\``)
})
