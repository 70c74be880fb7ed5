import { expect, it } from 'vitest'
import * as api from '../src/index.js'
import * as vitestApi from '../src/vitest.js'

it('exports exactly the public API (a change here is an API change)', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "TestkitError",
      "TestkitErrorCode",
      "createMockMcpServer",
      "createMockOAuthServer",
      "createSeedTools",
      "seedToolScopes",
      "startMockServers",
    ]
  `)
  expect(Object.keys(vitestApi).sort()).toMatchInlineSnapshot(`
    [
      "useMockServers",
      "useMswServer",
    ]
  `)
})
