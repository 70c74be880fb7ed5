import { z } from 'zod'
import { rawLiteLLMServerSchema, rawMcpConfigSchema, rawServerSchema } from './config-file-schema.js'
import { rawRateLimitsSchema } from './config-rate-limits-schema.js'

/**
 * The whole file, for documentation and JSON Schema: other top-level keys (LiteLLM's
 * `model_list`, `general_settings`, …) are ignored. Servers are checked one by one, in the shape
 * they are written in.
 */
export const rawConfigSchema = z.looseObject({
  mcp_config: rawMcpConfigSchema.optional(),
  rate_limits: rawRateLimitsSchema.optional(),
  mcp_servers: z.record(z.string(), z.union([rawServerSchema, rawLiteLLMServerSchema])),
})
