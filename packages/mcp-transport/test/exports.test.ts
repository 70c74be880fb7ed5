import { expect, it } from 'vitest'
import * as api from '../src/index.js'

// Every runtime export is public API: a change here must be deliberate (and shows in review).
it('exports exactly the public API', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "AUDIT_SCHEMA",
      "McpFailureCode",
      "McpServerManager",
      "McpTransportError",
      "McpTransportErrorCode",
      "OPENAI_NAME_PATTERN",
      "RateLimitedError",
      "ScopeDeniedError",
      "ServerUnavailableError",
      "UnknownToolError",
      "authMiddleware",
      "createAuthFetch",
      "createJsonLinesAuditSink",
      "createPinoAuditSink",
      "createTlsFetch",
      "createTransport",
      "getUserContext",
      "httpFailureCode",
      "mcpFailureCode",
      "rateLimitsFromConfig",
      "resolveTls",
      "runToolCalls",
      "toAnthropicTool",
      "toAnthropicTools",
      "toAuditRecord",
      "toAuthProvider",
      "toOpenAIName",
      "toOpenAITool",
      "toOpenAITools",
      "toResponsesTool",
      "toResponsesTools",
      "withUserContext",
    ]
  `)
})
