import type { ManagedServer } from './managed-server.js'
import { type IndexedServer, ToolIndex } from './tool-index.js'

/** Users whose tool views the manager keeps at most (the oldest is dropped). */
export const MAX_USER_VIEWS = 1000

/** A server's shared list, as the shared index and the users' views read it. */
export function sharedEntry(server: ManagedServer): IndexedServer {
  return {
    name: server.name,
    tools: server.tools,
    usable: server.usable,
    unavailable: () => server.unavailable(),
  }
}

/**
 * The users' views of the tools, for managers with servers whose lists are private: servers
 * with private lists contribute the user's own list (listed in the user's context, kept for that
 * user only), the others their shared list. Kept for `callTool`'s name lookup, for at most
 * {@link MAX_USER_VIEWS} users, oldest first; a user nobody can tell apart (no id) gets a fresh
 * view each time, kept for nobody.
 */
export class UserViews {
  readonly #views = new Map<string, ToolIndex>()
  readonly #requiredScopes: ConstructorParameters<typeof ToolIndex>[0]

  constructor(requiredScopes: ConstructorParameters<typeof ToolIndex>[0]) {
    this.#requiredScopes = requiredScopes
  }

  /** Whether any view is kept. */
  get size(): number {
    return this.#views.size
  }

  /** The user's kept view, if any. */
  get(user: string | undefined): ToolIndex | undefined {
    return user === undefined ? undefined : this.#views.get(user)
  }

  /** The user's view of `servers`, made afresh (their private lists listed as needed) and kept. */
  async build(
    user: string | undefined,
    servers: readonly ManagedServer[],
    refresh: boolean,
  ): Promise<ToolIndex> {
    const lists = await Promise.all(
      servers.map(async (s) => {
        const tools = s.state === 'connected' && s.privateList ? await s.toolsFor(user, refresh) : s.tools
        return { ...sharedEntry(s), tools }
      }),
    )
    const view = new ToolIndex(this.#requiredScopes)
    view.rebuild(lists)
    if (user !== undefined) {
      this.#views.delete(user)
      if (this.#views.size >= MAX_USER_VIEWS) {
        const oldest = this.#views.keys().next().value
        if (oldest !== undefined) this.#views.delete(oldest)
      }
      this.#views.set(user, view)
    }
    return view
  }

  /** A server's tools or usability changed: every view is rebuilt at its user's next listing. */
  clear(): void {
    this.#views.clear()
  }
}
