import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { UnknownToolError } from '../../errors.js'

/** A tool of a managed server, as `listTools()` returns it. */
export interface ManagedTool {
  /** The server offering it. */
  readonly server: string
  /** The tool's own name on its server. */
  readonly name: string
  /** The name to call it by: `name`, or `<server>__<name>` when several servers offer `name`. */
  readonly qualifiedName: string
  readonly title: string | undefined
  readonly description: string | undefined
  /** JSON Schema of its arguments. */
  readonly inputSchema: Tool['inputSchema']
  readonly outputSchema: Tool['outputSchema'] | undefined
  readonly annotations: Tool['annotations'] | undefined
  /**
   * Scopes the tool scope policy requires; `[]` without a policy; `null` when the policy allows
   * no scope to call it.
   */
  readonly requiredScopes: readonly string[] | null
}

/** Between a server's name and a tool's in a qualified name. Server names may not contain it. */
export const SEPARATOR = '__'

/** What the index needs of a server. */
export interface IndexedServer {
  readonly name: string
  /** Its last listed tools (kept while it is down, to tell "unavailable" from "unknown"). */
  readonly tools: readonly Tool[]
  /** Whether its tools can be called now. */
  readonly usable: boolean
  /** The error for a call to it while it is not usable. */
  unavailable(): Error
}

/**
 * The tools of every usable server under collision-free names, and the lookup of a name a
 * caller or a model gives back. A tool keeps its own name unless several servers offer it (or it
 * equals another tool's `<server>__<tool>` form); then each becomes `<server>__<tool>`.
 * `resolve` also accepts `<server>__<tool>` for any tool.
 */
export class ToolIndex {
  #tools: readonly ManagedTool[] = Object.freeze([])
  #byQualifiedName = new Map<string, ManagedTool>()
  #servers: ReadonlyMap<string, IndexedServer> = new Map()
  readonly #requiredScopes: (server: string, tool: string) => readonly string[] | null

  constructor(requiredScopes: (server: string, tool: string) => readonly string[] | null) {
    this.#requiredScopes = requiredScopes
  }

  /** Every usable server's tools, in server order (a new array after each rebuild). */
  get tools(): readonly ManagedTool[] {
    return this.#tools
  }

  /** Names every usable server's tools afresh. */
  rebuild(servers: readonly IndexedServer[]): void {
    this.#servers = new Map(servers.map((s) => [s.name, s]))
    const usable = servers.filter((s) => s.usable)
    const count = new Map<string, number>()
    const fullNames = new Set<string>()
    for (const server of usable) {
      for (const tool of server.tools) {
        count.set(tool.name, (count.get(tool.name) ?? 0) + 1)
        fullNames.add(`${server.name}${SEPARATOR}${tool.name}`)
      }
    }
    const tools: ManagedTool[] = []
    const byQualifiedName = new Map<string, ManagedTool>()
    for (const { name: server, tools: listed } of usable) {
      for (const tool of listed) {
        // A plain name that equals another tool's `<server>__<tool>` form is namespaced as well,
        // so a qualified name always means one tool.
        const plain = count.get(tool.name) === 1 && !fullNames.has(tool.name)
        const qualifiedName = plain ? tool.name : `${server}${SEPARATOR}${tool.name}`
        if (byQualifiedName.has(qualifiedName)) continue // a server listing one name twice
        const managed: ManagedTool = Object.freeze({
          server,
          name: tool.name,
          qualifiedName,
          title: tool.title,
          description: tool.description,
          inputSchema: tool.inputSchema,
          outputSchema: tool.outputSchema,
          annotations: tool.annotations,
          requiredScopes: this.#requiredScopes(server, tool.name),
        })
        tools.push(managed)
        byQualifiedName.set(qualifiedName, managed)
      }
    }
    this.#tools = Object.freeze(tools)
    this.#byQualifiedName = byQualifiedName
  }

  /**
   * The tool a name means: a qualified name, `<server>__<tool>`, an unambiguous plain name, or a
   * name `alias` knows (the OpenAI name). Throws `UnknownToolError` (`ERR_UNKNOWN_TOOL`,
   * `ERR_AMBIGUOUS_TOOL`), or the server's `unavailable()` error when the name is a tool of a
   * server that is down.
   */
  resolve(name: string, alias?: (name: string) => ManagedTool | undefined): ManagedTool {
    if (typeof name !== 'string' || name === '') throw new TypeError('"name" must be a non-empty string')
    const exact = this.#byQualifiedName.get(name) ?? alias?.(name)
    if (exact) return exact
    const at = name.indexOf(SEPARATOR)
    if (at > 0) {
      const server = this.#servers.get(name.slice(0, at))
      if (server) {
        // Tools unknown while it is down: a typed "unavailable", not "unknown".
        if (!server.usable) throw server.unavailable()
        const toolName = name.slice(at + SEPARATOR.length)
        const tool = this.#tools.find((t) => t.server === server.name && t.name === toolName)
        if (tool) return tool
        throw new UnknownToolError(name)
      }
    }
    const matches = this.#tools.filter((t) => t.name === name)
    if (matches.length === 1) return matches[0] as ManagedTool
    if (matches.length > 1)
      throw new UnknownToolError(
        name,
        matches.map((t) => t.qualifiedName),
      )
    for (const server of this.#servers.values()) {
      if (!server.usable && server.tools.some((t) => t.name === name)) throw server.unavailable()
    }
    throw new UnknownToolError(name)
  }
}
