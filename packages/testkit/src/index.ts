export type { MockDpopOptions } from './dpop-options.js'
export { TestkitError, TestkitErrorCode } from './errors.js'
export type { McpFailNextOptions, McpRequestRecord, ToolCallRecord } from './mcp-server-records.js'
export type { MockMcpServer } from './mock-mcp-server.js'
export { createMockMcpServer } from './mock-mcp-server.js'
export type {
  McpCacheableMethod,
  McpCacheHints,
  McpProtocolVersion,
  MockMcpServerOptions,
} from './mock-mcp-server-options.js'
export type {
  IssueTokenClaims,
  IssueTokenOptions,
  MockOAuthServer,
  MockOAuthServerOptions,
  RotateKeysOptions,
} from './mock-oauth-server.js'
export { createMockOAuthServer } from './mock-oauth-server.js'
export type { MockClient, TrustedIssuer } from './oauth-server-parties.js'
export type {
  FailNextOptions,
  MockOAuthEndpoint,
  OAuthServerRequestRecord,
  TokenRequestRecord,
} from './oauth-server-records.js'
export type { MockTool, MockToolContext } from './seed-tools.js'
export { createSeedTools, seedToolScopes } from './seed-tools.js'
export type { MockServers, StartMockServersOptions } from './start-mock-servers.js'
export { startMockServers } from './start-mock-servers.js'
