import type { RequestHandler } from 'msw'
import { type SetupServer, setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { type MockServers, type StartMockServersOptions, startMockServers } from './start-mock-servers.js'

/** Options of {@link useMswServer}. */
export interface UseMswServerOptions {
  /**
   * What msw does with a request no handler matches.
   * @default 'error'
   */
  onUnhandledFrame?: 'error' | 'warn' | 'bypass'
}

/**
 * Creates an msw `setupServer` with `handlers` and wires it into the current vitest file or
 * `describe`: `listen` before all tests (unhandled requests fail the test), `resetHandlers` after
 * each, `close` after all.
 *
 * @example
 * const oauth = createMockOAuthServer()
 * const mcp = createMockMcpServer({ oauth })
 * const server = useMswServer([...oauth.handlers, ...mcp.handlers])
 */
export function useMswServer(
  handlers: readonly RequestHandler[],
  options: UseMswServerOptions = {},
): SetupServer {
  const server = setupServer(...handlers)
  beforeAll(() => {
    server.listen({ onUnhandledFrame: options.onUnhandledFrame ?? 'error' })
  })
  afterEach(() => {
    server.resetHandlers()
  })
  afterAll(() => {
    server.close()
  })
  return server
}

/**
 * Starts real loopback mock servers before all tests of the current file or `describe` and closes
 * them after all. The returned getter throws when called before `beforeAll` ran.
 *
 * @example
 * import { expect, it } from 'vitest'
 * const servers = useMockServers()
 * it('serves the MCP endpoint', async () => {
 *   const { mcp } = servers()
 *   expect(mcp.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
 * })
 */
export function useMockServers(options: StartMockServersOptions = {}): () => MockServers {
  let servers: MockServers | undefined
  beforeAll(async () => {
    servers = await startMockServers(options)
  })
  afterEach(() => {
    servers?.oauth.server.reset()
    servers?.mcp.server.reset()
  })
  afterAll(async () => {
    await servers?.close()
    servers = undefined
  })
  return function mockServers() {
    if (!servers)
      throw new Error('useMockServers(): servers are only available inside tests (after beforeAll)')
    return servers
  }
}
