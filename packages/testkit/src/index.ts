export { TestkitError, TestkitErrorCode } from './errors.js'
export type {
  McpRequestRecord,
  MockMcpServer,
  MockMcpServerOptions,
  ToolCallRecord,
} from './mock-mcp-server.js'
export { createMockMcpServer } from './mock-mcp-server.js'
export type {
  FailNextOptions,
  IssueTokenClaims,
  IssueTokenOptions,
  MockClient,
  MockOAuthEndpoint,
  MockOAuthServer,
  MockOAuthServerOptions,
  OAuthServerRequestRecord,
  RotateKeysOptions,
  TokenRequestRecord,
} from './mock-oauth-server.js'
export { createMockOAuthServer } from './mock-oauth-server.js'
export type { MockTool, MockToolContext } from './seed-tools.js'
export { createSeedTools, seedToolScopes } from './seed-tools.js'
export type { MockServers, StartMockServersOptions } from './start-mock-servers.js'
export { startMockServers } from './start-mock-servers.js'
