import { dropOtherSpellings, putHeader } from './request-headers.js'

/**
 * The fast lane's own copy of a request's headers: a copy of the caller's record with the names
 * as they came, or a copy of the caller's `Headers`.
 */
export type HeaderCopy = Record<string, string> | Headers

/**
 * Sets header `name` (lower case) on the lane's copy to `value`, or with `undefined` removes it,
 * as `RequestHeaders` `put` and `delete` do on the pipeline's: on a record the same name in any
 * other spelling goes first (undici would combine the two). A `Headers` checks the value as it is
 * set and throws on one it refuses, as undici throws when it copies a record.
 */
export function setOnCopy(copy: HeaderCopy, name: string, value: string | undefined): void {
  if (copy instanceof Headers) {
    if (value === undefined) copy.delete(name)
    else copy.set(name, value)
    return
  }
  dropOtherSpellings(copy, name)
  if (value === undefined) delete copy[name]
  else putHeader(copy, name, value)
}
