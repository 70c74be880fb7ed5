/** Small helpers for raw configuration values and normalised objects, shared by the config files. */
import { parseBoolean } from './config-file-schema.js'

/** Whether `obj` has `key` set (neither absent, `undefined` nor YAML's `null`). */
export const present = (obj: Record<string, unknown>, key: string): boolean =>
  obj[key] !== undefined && obj[key] !== null
/** `true`, or text that reads as true (`"true"`, `"yes"`, … after interpolation). */
export const truthy = (value: unknown): boolean =>
  value === true || (typeof value === 'string' && parseBoolean(value) === true)

/** `items` without repeats, in their first order. */
export function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)]
}

/** Drop `undefined` properties, so normalised objects print and compare cleanly. */
export function compact<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key]
  return obj
}

/** A token type's URN from its short name (`id_token`, `id-jag`, …); a URN stays as it is. */
export function tokenTypeUrnOf(value: string): string {
  if (value.includes(':')) return value
  return `urn:ietf:params:oauth:token-type:${value}`
}
