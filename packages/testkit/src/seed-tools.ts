import type { CallToolResult } from '@modelcontextprotocol/server'

/** What a {@link MockTool} handler learns about the call. */
export interface MockToolContext {
  /** Cookies of the HTTP request that carried the call, name → value. */
  cookies: Record<string, string>
  /** Request headers, lower-cased names. */
  headers: Record<string, string>
  /** `client_id` (or `azp`) of the access token. */
  clientId: string | undefined
  /** `sub` of the access token. */
  subject: string | undefined
  /** Scopes of the access token. */
  scopes: string[]
  /** All verified claims of the access token. */
  claims: Record<string, unknown>
}

/** A tool served by the mock MCP server. */
export interface MockTool {
  /** Tool name. */
  name: string
  /**
   * Tool description.
   * @default ''
   */
  description?: string
  /**
   * JSON Schema of the arguments (`type: 'object'`). Its `required` properties are checked.
   * @default { type: 'object', properties: {} }
   */
  inputSchema?: {
    type: 'object'
    properties?: Record<string, object>
    required?: string[]
    [k: string]: unknown
  }
  /**
   * Scopes the tool needs; `toolScopes` of the server overrides this.
   * @default []
   */
  scopes?: string[]
  /** Runs the tool. A string is returned as one text content item; an object as JSON text. */
  handler: (
    args: Record<string, unknown>,
    context: MockToolContext,
  ) =>
    | CallToolResult
    | string
    | Record<string, unknown>
    | Promise<CallToolResult | string | Record<string, unknown>>
}

const CUSTOMERS = [
  { customer_id: 'cust-001', name: 'Ada Lovelace', email: 'ada@example.test', tier: 'gold', balance: 12500 },
  { customer_id: 'cust-002', name: 'Alan Turing', email: 'alan@example.test', tier: 'silver', balance: 4200 },
  {
    customer_id: 'cust-003',
    name: 'Grace Hopper',
    email: 'grace@example.test',
    tier: 'platinum',
    balance: 98000,
  },
  {
    customer_id: 'cust-004',
    name: 'Edsger Dijkstra',
    email: 'edsger@example.test',
    tier: 'bronze',
    balance: 800,
  },
]

function findCustomer(id: unknown) {
  const key = String(id ?? '')
  const known = CUSTOMERS.find((c) => c.customer_id === key)
  if (known) return known
  // Unknown ids still answer deterministically, so any id works in demos.
  let hash = 0
  for (const ch of key) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
  return {
    customer_id: key,
    name: `Customer ${key}`,
    email: `${key.replace(/[^a-z0-9]/gi, '') || 'customer'}@example.test`,
    tier: ['bronze', 'silver', 'gold'][hash % 3] ?? 'bronze',
    balance: hash % 50000,
  }
}

function userOf(ctx: MockToolContext) {
  return {
    user_id: ctx.cookies['user_id'] ?? null,
    session_id: ctx.cookies['session_id'] ?? null,
    client_id: ctx.clientId ?? null,
  }
}

/**
 * The four demo tools of the LiteLLM MCP OAuth2 patch this kit descends from, with deterministic
 * answers. Each answer includes `seen_user` (the `user_id`/`session_id` cookies it received) so cookie
 * passthrough is visible.
 *
 * @example
 * createMockMcpServer({ oauth, tools: [...createSeedTools(), myTool] })
 */
export function createSeedTools(): MockTool[] {
  let ticketCounter = 0
  return [
    {
      name: 'get_customer_info',
      description: 'Get information about a customer by id',
      inputSchema: {
        type: 'object',
        properties: { customer_id: { type: 'string', description: 'Customer id, e.g. cust-001' } },
        required: ['customer_id'],
      },
      handler: (args, ctx) => ({ ...findCustomer(args['customer_id']), seen_user: userOf(ctx) }),
    },
    {
      name: 'create_support_ticket',
      description: 'Create a support ticket for a customer',
      inputSchema: {
        type: 'object',
        properties: {
          customer_id: { type: 'string' },
          subject: { type: 'string' },
          description: { type: 'string' },
          priority: { type: 'string', enum: ['low', 'medium', 'high'] },
        },
        required: ['customer_id', 'subject'],
      },
      handler: (args, ctx) => {
        ticketCounter += 1
        return {
          ticket_id: `TICKET-${String(ticketCounter).padStart(4, '0')}`,
          customer_id: String(args['customer_id']),
          subject: String(args['subject']),
          priority: typeof args['priority'] === 'string' ? args['priority'] : 'medium',
          status: 'open',
          created_by: ctx.cookies['user_id'] ?? ctx.clientId ?? null,
          seen_user: userOf(ctx),
        }
      },
    },
    {
      name: 'calculate_account_value',
      description: 'Calculate the total account value of a customer',
      inputSchema: {
        type: 'object',
        properties: {
          customer_id: { type: 'string' },
          include_pending: { type: 'boolean' },
        },
        required: ['customer_id'],
      },
      handler: (args, ctx) => {
        const customer = findCustomer(args['customer_id'])
        const pending = args['include_pending'] === true ? Math.round(customer.balance * 0.1) : 0
        return {
          customer_id: customer.customer_id,
          balance: customer.balance,
          pending,
          total_value: customer.balance + pending,
          currency: 'USD',
          seen_user: userOf(ctx),
        }
      },
    },
    {
      name: 'get_recent_customers',
      description: 'List the most recent customers',
      inputSchema: {
        type: 'object',
        properties: { limit: { type: 'number', minimum: 1, maximum: 10 } },
      },
      handler: (args, ctx) => {
        const limit = typeof args['limit'] === 'number' ? Math.max(1, Math.min(10, args['limit'])) : 3
        return {
          customers: CUSTOMERS.slice(0, limit).map(({ customer_id, name }) => ({ customer_id, name })),
          seen_user: userOf(ctx),
        }
      },
    },
  ]
}

/**
 * Scopes of the seed tools, the default `toolScopes` of the mock MCP server.
 *
 * @example
 * await oauth.issueToken({ scope: [...seedToolScopes.get_customer_info!] })
 */
export const seedToolScopes: Readonly<Record<string, readonly string[]>> = Object.freeze({
  get_customer_info: ['customer:read'],
  get_recent_customers: ['customer:read'],
  create_support_ticket: ['ticket:create'],
  calculate_account_value: ['account:calculate'],
})
