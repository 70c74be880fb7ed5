// Which counters a call counts on: the limits that apply to it, and its key under each (the
// user's key from its identity: `u:<userId or sha256:…>`, or `service`).
import type { UserIdentity } from '../user-identity.js'
import type { ResolvedRateLimits, Rule } from './rate-limit-options.js'

const SEPARATOR = '__'

/** The call being checked. */
export interface LimitedCall {
  readonly server: string
  readonly tool: string
  readonly qualifiedName: string
  readonly identity: UserIdentity
  /** Whether the call runs inside `withUserContext`. */
  readonly user: boolean
}

/** The user's part of a key: `u:<id>`, or `service` for a call with no identified user. */
export function userKeyOf(identity: UserIdentity): string {
  return identity.id === undefined ? 'service' : `u:${identity.id}`
}

/** The limits that apply to `call`: the user's, its tool's, its server's and the global one. */
export function rulesFor(limits: ResolvedRateLimits, call: LimitedCall): Rule[] {
  const rules: Rule[] = []
  if (limits.user) rules.push(limits.user)
  const tool =
    limits.tools.get(`${call.server}${SEPARATOR}${call.tool}`) ??
    limits.tools.get(call.tool) ??
    limits.tools.get('*')
  if (tool) rules.push(tool)
  const server = limits.servers.get(call.server) ?? limits.servers.get('*')
  if (server) rules.push(server)
  if (limits.global) rules.push(limits.global)
  return rules
}

/** The key of `call` under `rule`'s counter. */
export function keyOf(rule: Rule, call: LimitedCall, userKey: string): string {
  // Under the rule's own prefix (`<keyPrefix>:<rule id>:`): `u:<user>`, `crm__search`, `crm`, `all`.
  switch (rule.scope) {
    case 'user':
      return userKey
    case 'global':
      return 'all'
    case 'tool': {
      const key = `${call.server}${SEPARATOR}${call.tool}`
      return rule.perUser ? `${key}:${userKey}` : key
    }
    case 'server':
      return rule.perUser ? `${call.server}:${userKey}` : call.server
  }
}
