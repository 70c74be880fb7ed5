import { collectHeaders, EMPTY } from './internal/header-collect.js'
import {
  type HeaderFilterOptionsInput,
  NEVER_FORWARDED_NAMES,
  NEVER_FORWARDED_PREFIXES,
  resolveHeaderFilterOptions,
} from './internal/header-filter-options.js'

/** Options of {@link createHeaderFilter}. */
export interface HeaderFilterOptions {
  /**
   * Header names to forward, case-insensitive. An entry ending in `*` is a prefix
   * (`x-user-*` forwards `x-user-id`, `x-user-email`, …); a bare `*` is refused.
   *
   * Names that are never forwarded are refused here with a `TypeError`: hop-by-hop headers
   * (`connection`, `keep-alive`, `te`, `trailer`, `transfer-encoding`, `upgrade`, `proxy-*`,
   * `http2-settings`), `host`, `content-length`, `cookie` and `set-cookie` (cookies go through
   * the cookie filter), and `authorization` (configure it as a `rename` target instead). A prefix
   * that happens to match such a name is allowed, and the name is still dropped at run time.
   */
  allow: readonly string[]
  /**
   * Headers to forward under another name, case-insensitive: `{ 'x-upstream-authorization':
   * 'authorization' }`. A renamed header is forwarded only under its new name. Its source is
   * allowed implicitly (it need not be in `allow`). This is the only way a user header can become
   * `authorization`.
   *
   * Refused with a `TypeError`: a source or target that is never forwarded (see `allow`; only
   * `authorization` may be a target), two sources with one target, or a target that `allow` also
   * matches (each forwarded name has exactly one source).
   *
   * @default {}
   */
  rename?: Readonly<Record<string, string>>
  /**
   * Maximum length in bytes of one forwarded value (after duplicates are combined). A longer
   * value drops the header; it is never truncated. Every character kept is a single byte on the
   * wire, so length in characters is length in bytes.
   *
   * @default 8000
   */
  maxValueBytes?: number
  /**
   * Maximum sum, in bytes, of the names and values forwarded. Headers are taken in input order
   * (a `Headers` has no order of its own; it is taken in sorted or configuration order); one that
   * would push the sum over the cap is dropped and later ones that fit are kept.
   *
   * @default 16384 (Node's default `--max-http-header-size`)
   */
  maxTotalBytes?: number
}

/**
 * What a {@link HeaderFilter} accepts: anything `new Headers(…)` accepts (a `Headers`, an array
 * of `[name, value]` pairs, a record), and also Node's `IncomingHttpHeaders` (array values are
 * joined with `", "`). Non-string values are ignored.
 */
export type HeaderFilterInput =
  | HeadersInit
  | Headers
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | null
  | undefined

/**
 * The forwarded headers: `[name, value]` pairs with lowercase, unique names, ready to be
 * `set` on an outgoing `Headers`. Do not mutate it (the empty result is shared and frozen).
 */
export type FilteredHeaders = ReadonlyArray<readonly [name: string, value: string]>

/**
 * Filters a user's request headers down to the allowed ones. It never throws: input it cannot
 * read gives an empty result.
 */
export type HeaderFilter = (headers: HeaderFilterInput) => FilteredHeaders

/**
 * Request headers never forwarded from a user's request, whatever the options say (lower case).
 * Any name starting with one of {@link NEVER_FORWARD_HEADER_PREFIXES} is never forwarded either,
 * nor is any header that the request's own `Connection` header names. `authorization` is not
 * in the list: it can be the target of an explicit `rename`, never an `allow` entry.
 *
 * - hop-by-hop and framing: `connection`, `keep-alive`, `te`, `trailer`, `transfer-encoding`,
 *   `upgrade` (RFC 9110 §7.6.1), `http2-settings` (RFC 9113 §8.2.2), `host`, `content-length`;
 * - cookies, which only the cookie filter forwards: `cookie`, `set-cookie`;
 * - the MCP transport's own protocol headers, so a user can never steer a session or a stream:
 *   `mcp-session-id`, `mcp-protocol-version`, `last-event-id`.
 *
 * The configuration refuses these names (but `cookie`) as static headers too, and
 * `@mcp-oauth2/mcp-transport` applies the same list.
 *
 * @see RFC 9110 §7.6.1
 */
export const NEVER_FORWARD_HEADERS: readonly string[] = NEVER_FORWARDED_NAMES

/** Name prefixes never forwarded from a user's request: `proxy-` (`proxy-authorization`, …). */
export const NEVER_FORWARD_HEADER_PREFIXES: readonly string[] = NEVER_FORWARDED_PREFIXES

/**
 * Create a filter that keeps only the allowed headers of a user's request, for an upstream
 * request made on the user's behalf.
 *
 * The filter:
 * - matches names case-insensitively and returns them lowercase;
 * - never forwards hop-by-hop headers (the fixed list in {@link HeaderFilterOptions.allow},
 *   `proxy-*`, and any header the request's own `Connection` header names, RFC 9110 §7.6.1),
 *   `host`, `content-length`, `cookie`/`set-cookie`, or `authorization` unless it is a `rename`
 *   target;
 * - drops a header whose name is not an RFC 9110 token or whose value holds CR, LF, NUL or another
 *   control character (HTAB excepted) or a character above 0xFF;
 * - trims spaces and tabs around values (as `Headers` does) and otherwise keeps them byte for byte;
 * - combines repeated names in input order with `", "` (as `Headers` does, RFC 9110 §5.3, but
 *   skipping empty values), so filtering a record or pair list gives what filtering
 *   `new Headers(it)` gives;
 * - drops a value over `maxValueBytes` and, in input order, headers past `maxTotalBytes`.
 *
 * It returns `[name, value]` pairs rather than a `Headers`: building a `Headers` costs more
 * than the filtering, and the caller merges into its own outgoing `Headers` anyway:
 * `for (const [name, value] of filter(userHeaders)) outgoing.set(name, value)`.
 *
 * Without `rename`, the filter is idempotent: filtering its output again gives the same output.
 *
 * @example
 * ```ts
 * const filterHeaders = createHeaderFilter({
 *   allow: ['x-request-id', 'x-user-*'],
 *   rename: { 'x-upstream-authorization': 'authorization' },
 * })
 * filterHeaders({ 'X-User-Id': '42', Host: 'evil', 'x-upstream-authorization': 'Bearer u' })
 * // [['x-user-id', '42'], ['authorization', 'Bearer u']]
 * ```
 *
 * @see RFC 9110 §5 (fields), §7.6.1 (Connection)
 */
export function createHeaderFilter(options: HeaderFilterOptions): HeaderFilter {
  const config = resolveHeaderFilterOptions(options)

  return function headerFilter(headers) {
    if (typeof headers !== 'object' || headers === null) return EMPTY
    try {
      return collectHeaders(config, headers)
    } catch {
      // A throwing getter or iterator: forward nothing rather than fail the caller's request.
      return EMPTY
    }
  }
}

// The resolver reads its own input type (internal/ imports nothing public), so an option added
// here but not there would be silently ignored: that is a compile error instead.
type NoneMissing<Missing extends never> = Missing
type _EveryOptionResolved = NoneMissing<Exclude<keyof HeaderFilterOptions, keyof HeaderFilterOptionsInput>>
