import { createRequire } from 'node:module'

/** `@opentelemetry/api`, as this package uses it (a type import: nothing is loaded for it). */
export type OtelApi = typeof import('@opentelemetry/api')

/** Loads a module by name, synchronously; throws `MODULE_NOT_FOUND` when it is not installed. */
export type LoadModule = (id: string) => unknown

const requireHere: LoadModule = createRequire(import.meta.url)

let cached: OtelApi | null | undefined

/**
 * `@opentelemetry/api` (an optional peer) when it is installed, else `null`; loaded once, on
 * first use, never at import time, so an application without it loads nothing. It is loaded
 * with `require`, which every 1.x release supports, so this stays synchronous. Only "not
 * installed" counts as absent: any other load failure is thrown.
 */
export function loadOtelApi(load: LoadModule = requireHere): OtelApi | null {
  if (load === requireHere && cached !== undefined) return cached
  let api: OtelApi | null
  try {
    api = load('@opentelemetry/api') as OtelApi
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw error
    api = null
  }
  if (load === requireHere) cached = api
  return api
}
