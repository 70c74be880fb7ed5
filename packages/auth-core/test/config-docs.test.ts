import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CONFIG_ENV_VARS, configFromEnv } from '../src/config-from-env.js'
import { rawConfigSchema } from '../src/internal/config-document-schema.js'
import {
  rawLiteLLMServerSchema,
  rawOAuth2Schema,
  rawServerSchema,
  rawUserTokenSchema,
} from '../src/internal/config-file-schema.js'
import { rawRateLimitsSchema } from '../src/internal/config-rate-limits-schema.js'
import { loadConfigFile } from '../src/node.js'

const docPath = new URL('../../../docs/configuration.md', import.meta.url)
const doc = readFileSync(docPath, 'utf8')

/** Keys in the first column of the table that follows `<!-- keys: section -->`. */
function documentedKeys(section: string): string[] {
  const start = doc.indexOf(`<!-- keys: ${section} -->`)
  expect(start, `section ${section} in docs/configuration.md`).toBeGreaterThan(-1)
  const keys: string[] = []
  const lines = doc.slice(start).split('\n').slice(1)
  for (const line of lines.slice(2)) {
    const match = /^\| `([^`]+)` \|/.exec(line)
    if (!match?.[1]) break
    keys.push(match[1])
  }
  return keys
}

type JsonSchema = {
  properties?: Record<string, JsonSchema>
  anyOf?: JsonSchema[]
  additionalProperties?: JsonSchema | boolean
}

/**
 * Dotted property paths of a JSON Schema, through unions; `stop` paths are not descended into.
 * With `records`, a mapping of names (`tools`) has a `<name>` key with the value's keys.
 */
function schemaKeys(
  schema: JsonSchema,
  prefix = '',
  stop: readonly string[] = [],
  records = false,
): string[] {
  const keys: string[] = []
  for (const branch of schema.anyOf ?? [schema]) {
    const entries = Object.entries(branch.properties ?? {})
    const value = branch.additionalProperties
    if (records && entries.length === 0 && typeof value === 'object') entries.push(['<name>', value])
    for (const [key, child] of entries) {
      const path = prefix === '' ? key : `${prefix}.${key}`
      keys.push(path)
      if (!stop.includes(path)) keys.push(...schemaKeys(child, path, stop, records))
    }
  }
  return [...new Set(keys)]
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema

describe('docs/configuration.md reference', () => {
  it('documents exactly the top-level keys of the schema', () => {
    const keys = schemaKeys(jsonSchema(rawConfigSchema), '', [
      'mcp_config.default_oauth2',
      'mcp_servers',
      'rate_limits',
    ])
    expect(documentedKeys('root').sort()).toEqual(keys.sort())
  })

  it('documents exactly the rate_limits keys', () => {
    const keys = schemaKeys(jsonSchema(rawRateLimitsSchema), '', [], true)
    expect(documentedKeys('rate_limits').sort()).toEqual(keys.sort())
  })

  it('documents exactly the keys of a seed-shaped server', () => {
    const keys = schemaKeys(jsonSchema(rawServerSchema), '', ['auth.oauth2', 'auth.user_token'])
    expect(documentedKeys('server').sort()).toEqual(keys.sort())
  })

  it('documents exactly the per-user token keys', () => {
    expect(documentedKeys('user_token').sort()).toEqual(schemaKeys(jsonSchema(rawUserTokenSchema)).sort())
  })

  it('documents exactly the OAuth2 keys', () => {
    expect(documentedKeys('oauth2').sort()).toEqual(schemaKeys(jsonSchema(rawOAuth2Schema)).sort())
  })

  it('documents exactly the LiteLLM keys that are read or accepted', () => {
    expect(documentedKeys('litellm').sort()).toEqual(schemaKeys(jsonSchema(rawLiteLLMServerSchema)).sort())
  })

  it('documents exactly the environment variables configFromEnv reads', () => {
    const documented = documentedKeys('env')
    expect(documented.filter((k) => !k.includes('<NAME>')).sort()).toEqual([...CONFIG_ENV_VARS].sort())
    expect(documented).toContain('MCP_SERVER_<NAME>_URL')
    expect(documented).toContain('MCP_SERVER_<NAME>_TRANSPORT')
    // The per-server variables really are read.
    const config = configFromEnv({
      MCP_SERVER_WIKI_URL: 'https://wiki.example/sse',
      MCP_SERVER_WIKI_TRANSPORT: 'sse',
    })
    expect(config.servers['wiki']?.transport).toBe('sse')
  })

  it('has YAML examples that load', async () => {
    const { parseConfig } = await import('../src/config.js')
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
    expect(blocks.length).toBeGreaterThanOrEqual(2)
    const env = {
      OAUTH2_CLIENT_SECRET: 's',
      CRM_SECRET: 's',
      MCP_CLIENT_ID: 'c',
      MCP_CLIENT_SECRET: 's',
      REDIS_URL: 'rediss://gateway:p@redis.internal:6380',
      TOKEN_STORE_KEY: btoa('k'.repeat(32)),
    }
    for (const block of blocks)
      expect(Object.keys(parseConfig(block, { env }).servers).length).toBeGreaterThan(0)
  })
})

describe('examples/config.yaml', () => {
  it('loads with the variables the demo sets, against loopback mock servers', async () => {
    const config = await loadConfigFile(new URL('../../../examples/config.yaml', import.meta.url).pathname, {
      env: {
        OAUTH2_TOKEN_URL: 'http://127.0.0.1:4001/token',
        MCP_SERVER_URL: 'http://127.0.0.1:4002/mcp',
        OAUTH2_CLIENT_SECRET: 'test-secret',
      },
    })
    const server = config.servers['user_context_server']
    expect(server).toMatchObject({
      url: 'http://127.0.0.1:4002/mcp',
      transport: 'streamable-http',
      cookiePassthrough: { allow: ['session_id', 'user_id'] },
      oauth2: {
        clientId: 'test-client',
        tokenUrl: 'http://127.0.0.1:4001/token',
        scopes: ['mcp:read', 'customer:read', 'ticket:create'],
      },
    })
    expect(server?.oauth2?.clientSecret?.reveal()).toBe('test-secret')
  })

  it('names the missing variables when the demo has not set them', async () => {
    const err = await loadConfigFile(new URL('../../../examples/config.yaml', import.meta.url).pathname, {
      env: {},
    }).catch((e: unknown) => e as { issues: { path: string; message: string }[] })
    const messages = (err as { issues: { message: string }[] }).issues.map((i) => i.message).join('\n')
    for (const name of ['OAUTH2_TOKEN_URL', 'OAUTH2_CLIENT_SECRET', 'MCP_SERVER_URL'])
      expect(messages).toContain(name)
  })
})
