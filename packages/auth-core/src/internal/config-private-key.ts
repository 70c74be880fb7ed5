/**
 * Private-key text of a configuration (`private_key`, `private_key_file`'s contents), checked
 * without ever echoing it, and its value (PEM text or a JWK).
 */
import type { JWK } from 'jose'
import { isPlainObject } from './config-interpolate.js'
import type { ConfigPath, IssueList } from './config-issues.js'

/**
 * Check private-key text without ever echoing it: PKCS#8 PEM (`BEGIN PRIVATE KEY`) or a JWK as JSON.
 * Also used by the Node loader for `private_key_file` contents.
 */
export function checkPrivateKeyText(text: string, path: ConfigPath | string, issues: IssueList): void {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) {
    let jwk: unknown
    try {
      jwk = JSON.parse(trimmed)
    } catch {
      issues.add(path, 'looks like a JWK but is not valid JSON')
      return
    }
    if (isPlainObject(jwk)) checkJwk(jwk, path, issues)
    else issues.add(path, 'must be a PKCS#8 PEM private key or a private JWK')
    return
  }
  if (/-----BEGIN (RSA |EC |OPENSSH )PRIVATE KEY-----/.test(trimmed)) {
    issues.add(path, 'must be PKCS#8 PEM (BEGIN PRIVATE KEY); convert with: openssl pkcs8 -topk8 -nocrypt')
    return
  }
  if (!trimmed.includes('-----BEGIN PRIVATE KEY-----')) {
    issues.add(path, 'must be a PKCS#8 PEM private key (BEGIN PRIVATE KEY) or a private JWK')
  }
}

export function checkJwk(jwk: Record<string, unknown>, path: ConfigPath | string, issues: IssueList): void {
  if (typeof jwk['kty'] !== 'string') issues.add(path, 'is not a JWK (no kty)')
  else if (jwk['d'] === undefined) issues.add(path, 'is a public JWK: a private key (with d) is needed')
}

/** The private key value: a JWK when it is JSON text or a mapping, else PEM text. */
export function privateKeyValue(value: string | Record<string, unknown>): string | JWK {
  if (typeof value !== 'string') return value as JWK
  const trimmed = value.trim()
  if (!trimmed.startsWith('{')) return value
  try {
    return JSON.parse(trimmed) as JWK
  } catch {
    return value // reported by checkPrivateKeyText
  }
}
