/**
 * Helpers of the per-user and assertion grants: a digest that stands for a user's token in cache
 * keys (the token itself is never a key, in memory or in a store), and the expiry a JWT claims
 * for itself (read without verifying: it only shortens how long we use or cache something, the
 * authorization server verifies the token).
 */
import { decodeJwt } from 'jose'

interface NodeHash {
  update(data: string): NodeHash
  digest(encoding: 'base64url'): string
}

interface NodeCrypto {
  createHash(algorithm: 'sha256'): NodeHash
}

function loadNodeCrypto(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
  } catch {
    return undefined
  }
}

const nodeCrypto = loadNodeCrypto()
const encoder = new TextEncoder()

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * SHA-256 of `parts` (joined with NUL, which no token contains), base64url. Synchronous on Node
 * (`node:crypto`, looked up at run time so the root entry imports no `node:` module), WebCrypto
 * elsewhere.
 */
export async function digest(parts: readonly string[]): Promise<string> {
  const text = parts.join('\u0000')
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(text).digest('base64url')
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))
}

/** {@link digest} at once where it is synchronous (Node); `undefined` where only WebCrypto has it. */
export function digestNow(parts: readonly string[]): string | undefined {
  return nodeCrypto?.createHash('sha256').update(parts.join('\u0000')).digest('base64url')
}

/** The claims of a JWT, unverified; `undefined` for a token that is not one (an opaque token). */
export function peekClaims(token: string): Record<string, unknown> | undefined {
  if (token.split('.').length !== 3) return undefined
  try {
    return decodeJwt(token) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** `exp` of a JWT in epoch milliseconds, or `undefined` (not a JWT, or no numeric `exp`). */
export function jwtExpiresAt(token: string): number | undefined {
  const exp = peekClaims(token)?.['exp']
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
}
