/**
 * Signing key material for the mock authorization server. RSA-2048 generation costs ~250 ms of
 * CPU on small CI machines, and suites often create a server per test, so the *initial* key of
 * every server in a process shares one key pair per algorithm (each server still has its own
 * `kid`, so a token from one server never matches another server's JWKS). Rotation always makes
 * fresh material, off the main thread. Never re-exported.
 */
import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto'

export interface KeyMaterial {
  privateKey: KeyObject
  publicKey: KeyObject
}

const initial = new Map<string, KeyMaterial>()

/** The process-wide initial key pair for `algorithm`. */
export function initialKeyMaterial(algorithm: 'RS256' | 'ES256'): KeyMaterial {
  let material = initial.get(algorithm)
  if (!material) {
    material =
      algorithm === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' })
    initial.set(algorithm, material)
  }
  return material
}

/** A fresh key pair, generated off the main thread. */
export function freshKeyMaterial(algorithm: 'RS256' | 'ES256'): Promise<KeyMaterial> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) => {
      if (error) reject(error)
      else resolve({ publicKey, privateKey })
    }
    if (algorithm === 'RS256') generateKeyPair('rsa', { modulusLength: 2048 }, done)
    else generateKeyPair('ec', { namedCurve: 'P-256' }, done)
  })
}
