/**
 * Private helpers of `JwtScopeVerifier`: the asymmetric JWS algorithms we accept, key import
 * (through jose) and signature verification.
 *
 * Signatures are checked with Node's synchronous `crypto.verify` when the runtime exposes it via
 * `process.getBuiltinModule` (Node >= 20.16), and with WebCrypto everywhere else. WebCrypto's
 * `subtle.verify` is asynchronous and costs about twice as much per RS256 verification on Node, which
 * is the difference between missing and meeting the 20,000 verifications/s goal (see the
 * project's docs/performance.md). Both paths use the same CryptoKey, imported and checked once per
 * key and algorithm, so they accept exactly the same tokens. No `node:` module is imported: the root entry
 * stays runtime-agnostic.
 */
import type * as NodeCrypto from 'node:crypto'
import { base64url, importJWK, importSPKI, importX509, type JWK } from 'jose'
import type { JwtAlgorithmName } from './protocol.js'

/** A JWS algorithm the verifier can accept (see `JWT_ALGORITHMS`). */
export type SupportedAlgorithm = JwtAlgorithmName

interface AlgorithmSpec {
  readonly kty: 'RSA' | 'EC' | 'OKP'
  /** JWK `crv` for EC and OKP keys. */
  readonly crv?: string
  /** Digest for `crypto.verify` (`null` for EdDSA, which hashes internally). */
  readonly digest: string | null
  /** Hash length in bytes (the RSA-PSS salt length, RFC 7518 §3.5). */
  readonly hashBytes: number
  /** WebCrypto verify parameters. */
  readonly webcrypto: AlgorithmIdentifier | RsaPssParams | EcdsaParams
  /** Expected `CryptoKey#algorithm` name and hash or curve. */
  readonly keyName: string
  readonly keyHash?: string
  readonly keyCurve?: string
}

function rsa(bits: 256 | 384 | 512, pss: boolean): AlgorithmSpec {
  const name = pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5'
  return {
    kty: 'RSA',
    digest: `sha${bits}`,
    hashBytes: bits / 8,
    webcrypto: pss ? { name, saltLength: bits / 8 } : { name },
    keyName: name,
    keyHash: `SHA-${bits}`,
  }
}

function ec(bits: 256 | 384 | 512, crv: string): AlgorithmSpec {
  return {
    kty: 'EC',
    crv,
    digest: `sha${bits}`,
    hashBytes: bits / 8,
    webcrypto: { name: 'ECDSA', hash: `SHA-${bits}` },
    keyName: 'ECDSA',
    keyCurve: crv,
  }
}

const ed25519: AlgorithmSpec = {
  kty: 'OKP',
  crv: 'Ed25519',
  digest: null,
  hashBytes: 0,
  webcrypto: { name: 'Ed25519' },
  keyName: 'Ed25519',
}

const SPECS: Readonly<Record<SupportedAlgorithm, AlgorithmSpec>> = {
  RS256: rsa(256, false),
  RS384: rsa(384, false),
  RS512: rsa(512, false),
  PS256: rsa(256, true),
  PS384: rsa(384, true),
  PS512: rsa(512, true),
  ES256: ec(256, 'P-256'),
  ES384: ec(384, 'P-384'),
  ES512: ec(512, 'P-521'),
  EdDSA: ed25519,
  Ed25519: ed25519,
}

export function isSupportedAlgorithm(alg: unknown): alg is SupportedAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(SPECS, alg)
}

export function algorithmSpec(alg: SupportedAlgorithm): AlgorithmSpec {
  return SPECS[alg]
}

type NodeCryptoModule = typeof NodeCrypto

function loadNodeCrypto(): NodeCryptoModule | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCryptoModule | undefined
    return typeof mod?.verify === 'function' && typeof mod.KeyObject?.from === 'function' ? mod : undefined
  } catch {
    return undefined
  }
}

/** Node's crypto module, when the runtime offers it without a static import. */
const nodeCrypto = loadNodeCrypto()

interface BufferLike {
  from(input: string, encoding: string): Uint8Array & { toString(encoding?: string): string }
}
const NodeBuffer = nodeCrypto ? (globalThis as { Buffer?: BufferLike }).Buffer : undefined

/** A public key ready to verify one algorithm. */
export interface ImportedKey {
  readonly alg: SupportedAlgorithm
  readonly cryptoKey: CryptoKey
  /** The same key as a Node `KeyObject`, for the synchronous path. */
  readonly nodeKey: NodeCrypto.KeyObject | undefined
}

/** Whether `key` is a public CryptoKey usable for `alg` (type, hash, curve, RSA >= 2048 bits). */
export function cryptoKeyFits(key: CryptoKey, alg: SupportedAlgorithm): boolean {
  const spec = SPECS[alg]
  if (key.type !== 'public') return false
  const algorithm = key.algorithm as KeyAlgorithm & {
    hash?: { name?: string }
    namedCurve?: string
    modulusLength?: number
  }
  if (algorithm.name !== spec.keyName) return false
  if (spec.keyHash && algorithm.hash?.name !== spec.keyHash) return false
  if (spec.keyCurve && algorithm.namedCurve !== spec.keyCurve) return false
  if (spec.kty === 'RSA' && !((algorithm.modulusLength ?? 0) >= 2048)) return false
  return key.usages.length === 0 || key.usages.includes('verify')
}

/** Wrap a checked CryptoKey; returns `undefined` when it does not fit `alg`. */
export function toImportedKey(cryptoKey: CryptoKey, alg: SupportedAlgorithm): ImportedKey | undefined {
  if (!cryptoKeyFits(cryptoKey, alg)) return undefined
  let nodeKey: NodeCrypto.KeyObject | undefined
  if (nodeCrypto) {
    try {
      nodeKey = nodeCrypto.KeyObject.from(cryptoKey)
    } catch {
      nodeKey = undefined
    }
  }
  return Object.freeze({ alg, cryptoKey, nodeKey })
}

/** Import a public JWK for `alg`; `undefined` when the key cannot serve `alg`. */
export async function importJwkFor(jwk: JWK, alg: SupportedAlgorithm): Promise<ImportedKey | undefined> {
  try {
    const key = await importJWK({ ...jwk, alg }, alg)
    if (key instanceof Uint8Array) return undefined
    return toImportedKey(key, alg)
  } catch {
    return undefined
  }
}

/** Import a PEM SPKI public key or X.509 certificate for `alg`; `undefined` when it cannot serve `alg`. */
export async function importPemFor(pem: string, alg: SupportedAlgorithm): Promise<ImportedKey | undefined> {
  try {
    const key = pem.includes('-----BEGIN CERTIFICATE-----')
      ? await importX509(pem, alg)
      : await importSPKI(pem, alg)
    return toImportedKey(key, alg)
  } catch {
    return undefined
  }
}

/** Whether a public JWK could serve `alg` (without importing it). */
export function jwkFits(jwk: JWK, alg: SupportedAlgorithm): boolean {
  const spec = SPECS[alg]
  if (jwk.kty !== spec.kty) return false
  if (spec.crv !== undefined && jwk.crv !== spec.crv) return false
  if (jwk.alg !== undefined && jwk.alg !== alg) return false
  if (jwk.use !== undefined && jwk.use !== 'sig') return false
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return false
  return true
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Strict base64url (no padding, no other characters) to bytes; `undefined` when invalid. */
export function decodeBase64url(input: string): Uint8Array | undefined {
  if (input.length % 4 === 1 || !BASE64URL.test(input)) return undefined
  if (NodeBuffer) return NodeBuffer.from(input, 'base64url')
  try {
    return base64url.decode(input)
  } catch {
    return undefined
  }
}

const utf8 = new TextDecoder()

/** Strict base64url to UTF-8 text; `undefined` when invalid. */
export function decodeBase64urlText(input: string): string | undefined {
  if (input.length % 4 === 1 || !BASE64URL.test(input)) return undefined
  if (NodeBuffer) return NodeBuffer.from(input, 'base64url').toString('utf8')
  const bytes = decodeBase64url(input)
  return bytes === undefined ? undefined : utf8.decode(bytes)
}

const ascii = new TextEncoder()

/** The bytes of an ASCII string (the JWS signing input). */
export function asciiBytes(input: string): Uint8Array {
  return NodeBuffer ? NodeBuffer.from(input, 'latin1') : ascii.encode(input)
}

/** Which implementation `verifySignature` uses. */
export type SignatureBackend = 'node' | 'webcrypto'

/** The backend `verifySignature` picks by default in this runtime. */
export const defaultBackend: SignatureBackend = nodeCrypto ? 'node' : 'webcrypto'

/**
 * Verify a JWS signature. Returns a boolean synchronously on the Node path and a promise on the
 * WebCrypto path; never throws (a malformed signature is simply not valid).
 */
export function verifySignature(
  key: ImportedKey,
  signingInput: Uint8Array,
  signature: Uint8Array,
  backend: SignatureBackend = defaultBackend,
): boolean | Promise<boolean> {
  const spec = SPECS[key.alg]
  if (backend === 'node' && nodeCrypto && key.nodeKey) {
    try {
      if (spec.kty === 'RSA') {
        const pss = spec.keyName === 'RSA-PSS'
        return nodeCrypto.verify(
          spec.digest,
          signingInput,
          pss
            ? {
                key: key.nodeKey,
                padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
                saltLength: spec.hashBytes,
              }
            : key.nodeKey,
          signature,
        )
      }
      if (spec.kty === 'EC') {
        return nodeCrypto.verify(
          spec.digest,
          signingInput,
          { key: key.nodeKey, dsaEncoding: 'ieee-p1363' },
          signature,
        )
      }
      return nodeCrypto.verify(null, signingInput, key.nodeKey, signature)
    } catch {
      return false
    }
  }
  return crypto.subtle
    .verify(spec.webcrypto, key.cryptoKey, signature as BufferSource, signingInput as BufferSource)
    .catch(() => false)
}
