/**
 * OpenTelemetry semantic-convention names, copied (the MCP and GenAI conventions are in
 * Development status upstream, and `@opentelemetry/semantic-conventions/incubating` must not be
 * imported at run time by a library). Sources: semantic-conventions-genai `docs/gen-ai/mcp.md`,
 * `gen-ai-spans.md` (execute_tool); the stable HTTP, server, URL and error attributes.
 */

// MCP (Development)
export const ATTR_MCP_METHOD_NAME = 'mcp.method.name'
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version'
export const ATTR_MCP_SESSION_ID = 'mcp.session.id'
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id'
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code'
export const METRIC_MCP_CLIENT_OPERATION_DURATION = 'mcp.client.operation.duration'
/** Advisory buckets of the MCP duration histograms, seconds. */
export const MCP_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
]
export const MCP_METHOD_TOOLS_CALL = 'tools/call'
export const MCP_METHOD_TOOLS_LIST = 'tools/list'
export const MCP_METHOD_INITIALIZE = 'initialize'

// GenAI (Development)
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name'
export const GEN_AI_OPERATION_EXECUTE_TOOL = 'execute_tool'
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name'
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id'
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type'
/** `error.type` of a `CallToolResult` with `isError: true`. */
export const ERROR_TYPE_TOOL_ERROR = 'tool_error'

// Stable
export const ATTR_ERROR_TYPE = 'error.type'
export const ATTR_SERVER_ADDRESS = 'server.address'
export const ATTR_SERVER_PORT = 'server.port'
export const ATTR_URL_FULL = 'url.full'
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method'
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code'
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count'
export const ATTR_NETWORK_TRANSPORT = 'network.transport'
export const ATTR_NETWORK_PROTOCOL_NAME = 'network.protocol.name'
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]

// This kit's own (no convention covers OAuth token requests, caches, limits or policy)
export const ATTR_SERVER_NAME = 'mcp_oauth2.server.name'
export const ATTR_TOKEN_GRANT_TYPE = 'mcp_oauth2.token.grant_type'
export const ATTR_TOKEN_REASON = 'mcp_oauth2.token.reason'
export const ATTR_TOKEN_SCOPES = 'mcp_oauth2.token.scopes'
export const ATTR_TOKEN_ATTEMPTS = 'mcp_oauth2.token.attempts'
export const ATTR_TOKEN_OUTCOME = 'mcp_oauth2.token.outcome'
export const ATTR_TOKEN_CACHE = 'mcp_oauth2.token.cache'
export const ATTR_OAUTH_ERROR = 'mcp_oauth2.oauth.error'
export const ATTR_AUTH_RETRY = 'mcp_oauth2.auth.retry'
export const ATTR_DENIAL_REASON = 'mcp_oauth2.denial.reason'
export const ATTR_RATE_LIMIT_SCOPE = 'mcp_oauth2.rate_limit.scope'
export const ATTR_STORE = 'mcp_oauth2.store'
export const METRIC_TOKEN_REQUESTS = 'mcp_oauth2.token.requests'
export const METRIC_TOKEN_DURATION = 'mcp_oauth2.token.duration'
export const METRIC_TOKEN_CACHE_LOOKUPS = 'mcp_oauth2.token.cache.lookups'
export const METRIC_UNAUTHORIZED_RETRIES = 'mcp_oauth2.auth.unauthorized_retries'
export const METRIC_STEP_UPS = 'mcp_oauth2.auth.step_ups'
export const METRIC_SCOPE_DENIALS = 'mcp_oauth2.tool.scope_denials'
export const METRIC_RATE_LIMITED = 'mcp_oauth2.tool.rate_limited'
export const METRIC_STORE_OUTAGES = 'mcp_oauth2.store.outages'
