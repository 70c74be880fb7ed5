export type { FetchLike } from '@mcp-oauth2/auth-core'
export type { AnthropicTool, AnthropicToolset, ToAnthropicToolOptions } from './anthropic-tools.js'
export { toAnthropicTool, toAnthropicTools } from './anthropic-tools.js'
export type { AuditRecord, AuditSeverity } from './audit-record.js'
export { AUDIT_SCHEMA, toAuditRecord } from './audit-record.js'
export type { AuditLineWriter, PinoLikeLogger } from './audit-sinks.js'
export { createJsonLinesAuditSink, createPinoAuditSink } from './audit-sinks.js'
export type { AuthFetch, AuthFetchEvent, AuthFetchOptions } from './auth-fetch.js'
export { authMiddleware, createAuthFetch } from './auth-fetch.js'
export type { CreateTransportOptions, McpClientTransport } from './create-transport.js'
export { createTransport } from './create-transport.js'
export type { McpCauseCode, RateLimitScope, ScopeDeniedReason } from './errors.js'
export {
  httpFailureCode,
  McpFailureCode,
  McpTransportError,
  McpTransportErrorCode,
  mcpFailureCode,
  RateLimitedError,
  ScopeDeniedError,
  ServerUnavailableError,
  UnknownToolError,
} from './errors.js'
export type { OpenAITool, OpenAIToolSource, OpenAIToolset, ToOpenAIToolOptions } from './openai-tools.js'
export { OPENAI_NAME_PATTERN, toOpenAIName, toOpenAITool, toOpenAITools } from './openai-tools.js'
export type {
  RateLimit,
  RateLimitRedisClient,
  RateLimitsFromConfigOptions,
  RateLimitsOptions,
  ScopedRateLimit,
} from './rate-limits.js'
export { rateLimitsFromConfig } from './rate-limits.js'
export type { ResponsesTool, ResponsesToolset, ToResponsesToolOptions } from './responses-tools.js'
export { toResponsesTool, toResponsesTools } from './responses-tools.js'
export type { McpAuthProvider, ToAuthProviderOptions } from './sdk-v2.js'
export { toAuthProvider } from './sdk-v2.js'
export type {
  CallToolOptions,
  ManagedTool,
  McpManagerEvent,
  McpSdk,
  McpServerDefinition,
  McpServerManagerBaseOptions,
  McpServerManagerConfigOptions,
  McpServerManagerOptions,
  McpVersionNegotiation,
  ReconnectOptions,
  ScopeVerifier,
  ServerState,
  ServerStatus,
} from './server-manager.js'
export { McpServerManager } from './server-manager.js'
export type { TelemetryOptions } from './telemetry.js'
export type { ResolvedTls, TlsFetch, TlsFetchOptions, TlsOptions } from './tls.js'
export { createTlsFetch, resolveTls } from './tls.js'
export type {
  AnthropicToolResult,
  AnthropicToolResultPart,
  AnthropicToolUse,
  ChatCompletionsCustomToolCall,
  ChatCompletionsFunctionToolCall,
  ChatCompletionsToolCall,
  ChatCompletionsToolMessage,
  ResponsesFunctionCall,
  ResponsesFunctionCallOutput,
  ResponsesOutputPart,
  ToolCall,
  ToolCallFormat,
  ToolResultFor,
  ToolResultMessage,
} from './tool-call-formats.js'
export type {
  RunToolCallsOptions,
  ToolCallEvent,
  ToolCallHost,
  ToolCallHostResult,
  ToolCallHostTool,
  ToolCallOutcome,
  ToolCallResult,
  ToolCallRun,
} from './tool-call-runner.js'
export { runToolCalls } from './tool-call-runner.js'
export type { UserContext } from './user-context.js'
export { getUserContext, withUserContext } from './user-context.js'
