import { expect, it } from 'vitest'
import * as api from '../src/index.js'

// Every runtime export is public API: a change here must be deliberate (and shows in review).
it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "RedisTokenStore",
      "RedisTokenStoreError",
      "RedisTokenStoreErrorCode",
      "redisTokenStoreFromConfig",
    ]
  `)
})
