/**
 * The headers of a request on its way to the MCP server, as the pipeline's steps read and change
 * them: a copy of the caller's headers (never the caller's object), read by name case-insensitively,
 * values without leading and trailing HTTP whitespace, a repeated name combined with `, ` (as
 * `Headers` does). Handed to the fetch underneath as a plain record, which undici copies with the
 * least work; undici checks names and values there, as it does for any record.
 *
 * A record is copied as it is and normalised only when a step first reads or sets a header by
 * name: the steps {@link put} the headers the auth fetch makes (the user's cookie, the token),
 * which replaces the caller's under any case, and undici lower-cases, trims and combines the rest
 * exactly as this class would. Cheaper than a `Headers`: no name or value checks twice, no sorted
 * copy. (The fast lane copies a caller's record or `Headers` itself when no step sets a header
 * by name.)
 *
 * @see https://fetch.spec.whatwg.org/#concept-header-list
 */
export class RequestHeaders {
  #values: Record<string, string>
  /** Whether {@link RequestHeaders.#values} is still the caller's record as it came (see the class comment). */
  #raw: boolean
  #sent = false

  private constructor(values: Record<string, string>, raw = false) {
    this.#values = values
    this.#raw = raw
  }

  /**
   * A copy of `init`: a `Headers` (of any implementation), any iterable of name and value pairs,
   * or a record; nothing for `null` and `undefined`.
   */
  static from(init: HeadersInit | RequestHeaders | null | undefined): RequestHeaders {
    if (init === undefined || init === null) return new RequestHeaders({})
    // A spread keeps an own `__proto__` an own property.
    if (init instanceof RequestHeaders) return new RequestHeaders({ ...init.#values }, init.#raw)
    if (typeof init !== 'object') {
      throw new TypeError('headers must be a Headers, an iterable of pairs or a record')
    }
    // A record (a `Headers` is iterable): its own enumerable names and values, as fetch would take
    // them; normalised when read.
    if (typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      return new RequestHeaders({ ...(init as Record<string, string>) }, true)
    }
    const headers = new RequestHeaders({})
    if (init instanceof Headers) {
      // Names come in lower case, values normalised, repeated names combined.
      init.forEach((value, name) => {
        headers.#put(name, value)
      })
      return headers
    }
    // Arrays of pairs, and another implementation's Headers (which has no own keys to read).
    for (const pair of init as Iterable<ArrayLike<unknown>>) {
      if (pair === null || typeof pair !== 'object' || pair.length !== 2)
        throw new TypeError('a header pair must have a name and a value')
      headers.#append(String(pair[0]), String(pair[1]))
    }
    return headers
  }

  get(name: string): string | null {
    this.#normalise()
    const key = name.toLowerCase()
    return Object.hasOwn(this.#values, key) ? (this.#values[key] as string) : null
  }

  has(name: string): boolean {
    this.#normalise()
    return Object.hasOwn(this.#values, name.toLowerCase())
  }

  set(name: string, value: string): void {
    this.#writable()
    this.#normalise()
    this.#put(name.toLowerCase(), trimHttpWhitespace(value))
  }

  /** Adds `value` to a name already there as `, value`, as `Headers.append` does. */
  #append(name: string, value: string): void {
    const key = name.toLowerCase()
    const trimmed = trimHttpWhitespace(value)
    this.#put(key, Object.hasOwn(this.#values, key) ? `${this.#values[key]}, ${trimmed}` : trimmed)
  }

  /**
   * Sets a header the auth fetch makes (the user's allowed cookies, the token after its scheme):
   * `name` in lower case, `value` as it is to go. Unlike {@link set}, nothing of either is read:
   * no lower-casing, no trimming. (The fetch underneath trims and checks every value when it
   * copies the headers, so a custom cookie filter's padded answer goes out as `set` would send it.)
   */
  put(name: string, value: string): void {
    this.#writable()
    if (this.#raw) dropOtherSpellings(this.#values, name)
    this.#put(name, value)
  }

  delete(name: string): void {
    this.#writable()
    const key = name.toLowerCase()
    if (this.#raw) dropOtherSpellings(this.#values, key)
    delete this.#values[key]
  }

  /**
   * The headers for the fetch underneath. From then on this object is read-only: a retry works
   * on a copy ({@link RequestHeaders.from}).
   */
  toRecord(): Record<string, string> {
    this.#sent = true
    return this.#values
  }

  #put(key: string, value: string): void {
    putHeader(this.#values, key, value)
  }

  /** Makes a record copied as it came what the class comment says: names lower-cased, values trimmed, repeats combined. */
  #normalise(): void {
    if (!this.#raw) return
    const raw = this.#values
    this.#values = {}
    this.#raw = false
    for (const name of Object.keys(raw)) this.#append(name, String(raw[name]))
  }

  #writable(): void {
    if (this.#sent) throw new Error('internal: request headers changed after they were sent')
  }
}

/**
 * Sets header `key` (lower case) in a record of request headers: an own property for every name,
 * `__proto__` included (not the prototype).
 */
export function putHeader(values: Record<string, string>, key: string, value: string): void {
  // The names on every MCP request have a store each, which keeps one shape and stays fast;
  // a single store for all names goes megamorphic (undici has its well-known names too).
  switch (key) {
    case 'content-type':
      values['content-type'] = value
      return
    case 'accept':
      values.accept = value
      return
    case 'authorization':
      values.authorization = value
      return
    case 'cookie':
      values.cookie = value
      return
  }
  if (key === '__proto__') {
    Object.defineProperty(values, key, { value, writable: true, enumerable: true, configurable: true })
  } else values[key] = value
}

/**
 * In a record of request headers with the names as a caller wrote them: removes the names that
 * are `key` (lower case) spelled in another case, which undici would combine with `key`.
 */
export function dropOtherSpellings(values: Record<string, string>, key: string): void {
  // for…in makes no array of names per call; an inherited name is never deleted, `delete`
  // removes own properties only.
  for (const name in values) {
    if (name.length === key.length && name !== key && name.toLowerCase() === key) delete values[name]
  }
}

/** Tab, line feed, carriage return and space: HTTP whitespace (Fetch §2.2). */
function isHttpWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

/** `value` without leading and trailing HTTP whitespace (the header value normalisation of Fetch). */
export function trimHttpWhitespace(value: string): string {
  const length = value.length
  if (length === 0) return value
  if (!isHttpWhitespace(value.charCodeAt(0)) && !isHttpWhitespace(value.charCodeAt(length - 1))) return value
  let start = 0
  let end = length
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--
  return value.slice(start, end)
}
