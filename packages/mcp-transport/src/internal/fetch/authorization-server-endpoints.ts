/**
 * The authorization server's endpoints on the MCP server's origin, known up front or learned
 * from the metadata documents that pass through the auth fetch: requests to them are the
 * authorization server's, whatever their shape (a JWKS GET, a JSON registration request), and get
 * nothing of ours.
 */

/** Endpoint URLs learned from metadata kept at most, per auth fetch (URLs given up front come on top). */
export const MAX_LEARNED_ENDPOINTS = 64

/** A metadata document is read up to this many bytes; a larger one teaches nothing. */
export const MAX_METADATA_BYTES = 64 * 1024

/** A URL in a metadata document longer than this (characters) is not recorded. */
const MAX_URL_LENGTH = 2048

/**
 * The well-known names whose documents name endpoints: RFC 8414 §3 authorization-server
 * metadata, OpenID Connect Discovery 1.0 §4, RFC 9728 §3 protected-resource metadata.
 */
const METADATA_NAMES = [
  'oauth-authorization-server',
  'openid-configuration',
  'oauth-protected-resource',
] as const

/**
 * Members of a metadata document that name an endpoint of the authorization server: every
 * `…_endpoint` (token, registration, revocation, introspection, pushed authorization requests,
 * device authorization, userinfo, end session, backchannel authentication, …), `jwks_uri`, the
 * `issuer` itself and `check_session_iframe`. Documentation and policy pages (`…_documentation`,
 * `op_policy_uri`, `…_tos_uri`) are not endpoints.
 *
 * @see RFC 8414 §2, RFC 9728 §2, OpenID Connect Discovery 1.0 §3
 */
function isEndpointMember(name: string): boolean {
  return (
    name.endsWith('_endpoint') || name === 'jwks_uri' || name === 'issuer' || name === 'check_session_iframe'
  )
}

/** Whether `url` asks for a metadata document (RFC 8414, OpenID Connect, RFC 9728), by its path. */
export function isMetadataRequest(url: string): boolean {
  const query = url.search(/[?#]/)
  const path = query === -1 ? url : url.slice(0, query)
  const at = path.indexOf('/.well-known/')
  if (at === -1) return false
  const name = path.slice(at + '/.well-known/'.length)
  for (const known of METADATA_NAMES) {
    if (name === known || name.startsWith(`${known}/`)) return true
  }
  return false
}

/** The endpoint URLs a metadata document names, unchecked. */
function namedUrls(document: unknown): string[] {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return []
  const urls: string[] = []
  for (const [name, value] of Object.entries(document)) {
    if (typeof value === 'string') {
      if (isEndpointMember(name)) urls.push(value)
    } else if (name === 'authorization_servers' && Array.isArray(value)) {
      // RFC 9728 §2: the issuer identifiers of the resource's authorization servers.
      for (const issuer of value) if (typeof issuer === 'string') urls.push(issuer)
    } else if (name === 'mtls_endpoint_aliases' && typeof value === 'object' && value !== null) {
      // RFC 8705 §5: the same endpoints for mutual-TLS clients.
      for (const [alias, url] of Object.entries(value)) {
        if (typeof url === 'string' && isEndpointMember(alias)) urls.push(url)
      }
    }
  }
  return urls
}

/** `origin + path` of an absolute http(s) URL (no query, no fragment), or `undefined`. */
function endpointKey(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined
  return parsed.origin + parsed.pathname
}

/**
 * Checks the `authorizationServerUrls` option: absolute http(s) URLs, none of them the MCP
 * server's own URL. Returns them as given (the endpoints object keys them).
 */
export function checkAuthorizationServerUrls(urls: unknown, serverUrl: URL): readonly string[] {
  if (urls === undefined) return []
  if (!Array.isArray(urls)) throw new TypeError('"authorizationServerUrls" must be an array of URLs')
  const server = serverUrl.origin + serverUrl.pathname
  return urls.map((url, i) => {
    const key = typeof url === 'string' ? endpointKey(url) : undefined
    if (key === undefined)
      throw new TypeError(`"authorizationServerUrls[${i}]" must be an absolute http(s) URL`)
    if (key === server)
      throw new TypeError(`"authorizationServerUrls[${i}]" must not be the MCP server's own URL`)
    return url as string
  })
}

/**
 * The authorization server's endpoints on the MCP server's origin, each as `origin + path` (the
 * query does not matter). Asked on every request to the origin, so {@link has} is a string
 * comparison (the MCP server's URL is never one) and a `Set` lookup, and nothing at all while
 * the set is empty. URLs on other origins are not kept: nothing of ours goes there anyway. The
 * MCP server's own URL is never kept, whatever a document says, so a metadata document can
 * never take the credentials off the MCP requests themselves.
 */
export class AuthorizationServerEndpoints {
  /** `origin/`: a URL that starts with it is on the origin, in its serialised form. */
  readonly #prefix: string
  /** The MCP server's URL as the transports send it (its `href`). */
  readonly #serverHref: string
  /** The MCP server's URL as a key (origin + path). */
  readonly #serverKey: string
  readonly #urls = new Set<string>()
  #learned = 0
  /** Metadata documents being read, and a promise of them all. */
  #reads = 0
  #reading: Promise<unknown> | undefined

  constructor(serverUrl: URL, known: readonly string[] = []) {
    this.#prefix = `${serverUrl.origin}/`
    this.#serverHref = serverUrl.href
    this.#serverKey = serverUrl.origin + serverUrl.pathname
    for (const url of known) this.#record(url)
  }

  /** How many URLs are kept. */
  get size(): number {
    return this.#urls.size
  }

  /** Whether `url` (absolute, on the MCP server's origin) is one of the authorization server's endpoints. */
  has(url: string): boolean {
    if (this.#urls.size === 0 || url === this.#serverHref) return false
    return this.#urls.has(this.#keyOf(url))
  }

  /**
   * While a metadata document is being read: a promise to wait on before deciding about `url`
   * (on the MCP server's origin), settled when the reads end, or at the next turn of the event
   * loop, whichever comes first. The caller's read of the body ends one microtask before ours,
   * so a request made right after it (the SDK registering a client) still finds the endpoints;
   * a document that is slow to arrive holds nothing up for more than a turn. `undefined` for
   * the MCP server's URL, other origins, and whenever nothing is being read.
   */
  pendingFor(url: string): Promise<unknown> | undefined {
    if (this.#reads === 0 || url === this.#serverHref) return undefined
    if (!url.startsWith(this.#prefix) && endpointKey(url)?.startsWith(this.#prefix) !== true) return undefined
    return Promise.race([this.#reading, new Promise((resolve) => setImmediate(resolve))])
  }

  /**
   * Learns from the answer to a metadata request on the MCP server's origin: reads a clone of
   * its body in the background (at most {@link MAX_METADATA_BYTES}) and records the endpoint
   * URLs the document names. The response itself is not touched, and not waited for: a body that
   * is too large, not JSON or cut off teaches nothing, and nothing fails.
   */
  learnFrom(response: Response): void {
    if (!response.ok || response.body === null || this.#learned >= MAX_LEARNED_ENDPOINTS) return
    const length = Number(response.headers.get('content-length') ?? 0)
    if (length > MAX_METADATA_BYTES) return
    let clone: Response
    try {
      clone = response.clone()
    } catch {
      return // a body already read: nothing to learn from
    }
    const read = this.#read(clone.body as ReadableStream<Uint8Array>)
    this.#reads++
    this.#reading = this.#reading === undefined ? read : Promise.all([this.#reading, read])
    void read.finally(() => {
      if (--this.#reads === 0) this.#reading = undefined
    })
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    try {
      for (;;) {
        // The first read is asked for before the caller gets the response: the document is
        // learned in the same turn as the caller's own read of the body ends.
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (size > MAX_METADATA_BYTES) {
          void reader.cancel().catch(() => {})
          return
        }
        chunks.push(value)
      }
      const bytes = new Uint8Array(size)
      let at = 0
      for (const chunk of chunks) {
        bytes.set(chunk, at)
        at += chunk.byteLength
      }
      for (const url of namedUrls(JSON.parse(new TextDecoder().decode(bytes)))) {
        if (this.#learned >= MAX_LEARNED_ENDPOINTS) break
        if (this.#record(url)) this.#learned++
      }
    } catch {
      // Not JSON, a broken stream, an aborted request: nothing learned, and nothing else happens.
      void reader.cancel().catch(() => {})
    }
  }

  /** Keeps `url` when it is on the MCP server's origin and is not the MCP server's URL. */
  #record(url: string): boolean {
    if (url.length > MAX_URL_LENGTH) return false
    const key = endpointKey(url)
    if (key === undefined || key === this.#serverKey || !key.startsWith(this.#prefix)) return false
    if (this.#urls.has(key)) return false
    this.#urls.add(key)
    return true
  }

  /** `origin + path` of a URL on the origin: cut at the query when it is in serialised form. */
  #keyOf(url: string): string {
    if (!url.startsWith(this.#prefix)) return endpointKey(url) ?? url
    // The path ends at the query or the fragment; a path the URL parser would rewrite (dot
    // segments, also percent-encoded, backslashes, tab/LF/CR it removes, space, controls and
    // non-ASCII it percent-encodes) is parsed, as fetch would. The transports pass serialised
    // URLs, so this is a scan of the path and a slice.
    const start = this.#prefix.length - 1
    let end = start
    for (; end < url.length; end++) {
      const c = url.charCodeAt(end)
      if (c === 0x3f || c === 0x23) break // ? #
      if (
        c < 0x21 ||
        c > 0x7e ||
        c === 0x5c ||
        c === 0x25 ||
        (c === 0x2e && url.charCodeAt(end - 1) === 0x2f)
      ) {
        return endpointKey(url) ?? url // controls, space, non-ASCII, \ % /.
      }
    }
    return end === url.length ? url : url.slice(0, end)
  }
}
