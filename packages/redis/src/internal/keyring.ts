/**
 * The encryption keys of a store and everything derived from them. Each 32-byte key gives, by
 * HKDF-SHA256 with distinct labels, an AES-256-GCM key, a key that turns cache keys into Redis key
 * names (HMAC), a key for token fingerprints in invalidation notices (HMAC), and a public key id.
 * The first key encrypts and names new entries; every key decrypts and is looked up, so a list
 * `[new, old]` rotates without losing the tokens the fleet already holds.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'

const VERSION = 'v1'
const LABEL = 'mcp-oauth2-kit/redis/v1'

interface Key {
  readonly id: string
  readonly encrypt: Buffer
  readonly name: Buffer
  readonly fingerprint: Buffer
}

function derive(raw: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', raw, new Uint8Array(0), `${LABEL}/${purpose}`, 32))
}

function parseKey(value: string | Uint8Array, index: number): Uint8Array {
  const where = index < 0 ? '"encryptionKey"' : `"encryptionKey[${index}]"`
  if (value instanceof Uint8Array) {
    if (value.length !== 32) throw new TypeError(`${where} must be 32 bytes (got ${value.length})`)
    return new Uint8Array(value)
  }
  if (typeof value !== 'string') throw new TypeError(`${where} must be 32 bytes or their base64`)
  const text = value.trim()
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))
    throw new TypeError(`${where} must be 32 bytes or their base64 (it is not base64)`)
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.length !== 32)
    throw new TypeError(
      `${where} must decode to 32 bytes (got ${bytes.length}); make one with: openssl rand -base64 32`,
    )
  return new Uint8Array(bytes)
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

/** A stored entry's plaintext, before JSON. Short names keep records small. */
export interface RecordBody {
  /** token value */
  v: string
  /** token type */
  t: string
  /** expires at, epoch ms */
  e: number
  /** scopes */
  s: string[]
  /** refresh at, epoch ms */
  r: number
}

export class Keyring {
  readonly #keys: readonly Key[]
  readonly #byId: ReadonlyMap<string, Key>

  constructor(encryptionKey: string | Uint8Array | readonly (string | Uint8Array)[]) {
    const list = Array.isArray(encryptionKey) ? encryptionKey : [encryptionKey]
    if (list.length === 0) throw new TypeError('"encryptionKey" must not be an empty list')
    const keys: Key[] = []
    const byId = new Map<string, Key>()
    list.forEach((value: string | Uint8Array, index: number) => {
      const raw = parseKey(value, Array.isArray(encryptionKey) ? index : -1)
      const id = b64url(createHash('sha256').update(`${LABEL}/key-id\0`).update(raw).digest().subarray(0, 9))
      if (byId.has(id)) return
      const key = {
        id,
        encrypt: derive(raw, 'encrypt'),
        name: derive(raw, 'name'),
        fingerprint: derive(raw, 'fingerprint'),
      }
      keys.push(key)
      byId.set(id, key)
    })
    this.#keys = keys
    this.#byId = byId
  }

  /** The id of the key that encrypts (not secret: a digest of the key). */
  get currentId(): string {
    return this.#keys[0]!.id
  }

  /** The Redis name of `cacheKey` under each key, the encrypting key's first. */
  names(cacheKey: string): string[] {
    return this.#keys.map((key) =>
      b64url(createHmac('sha256', key.name).update(cacheKey).digest().subarray(0, 24)),
    )
  }

  /** `v1.<key id>.<iv>.<ciphertext+tag>`, AES-256-GCM with the key id and the cache key as associated data. */
  seal(cacheKey: string, body: RecordBody): string {
    const key = this.#keys[0]!
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key.encrypt, iv)
    cipher.setAAD(aad(key.id, cacheKey))
    const sealed = Buffer.concat([
      cipher.update(JSON.stringify(body), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ])
    return `${VERSION}.${key.id}.${b64url(iv)}.${b64url(sealed)}`
  }

  /** The body of a record written by {@link seal} for `cacheKey`; throws when it does not open. */
  open(cacheKey: string, record: string): RecordBody {
    const [version, id, iv, sealed, extra] = record.split('.')
    if (version !== VERSION || !id || !iv || !sealed || extra !== undefined)
      throw new Error('not a token record')
    const key = this.#byId.get(id)
    if (key === undefined) throw new Error('record encrypted with an unknown key')
    const bytes = Buffer.from(sealed, 'base64url')
    if (bytes.length < 17) throw new Error('record too short')
    const decipher = createDecipheriv('aes-256-gcm', key.encrypt, Buffer.from(iv, 'base64url'))
    decipher.setAAD(aad(id, cacheKey))
    decipher.setAuthTag(bytes.subarray(bytes.length - 16))
    const text = Buffer.concat([
      decipher.update(bytes.subarray(0, bytes.length - 16)),
      decipher.final(),
    ]).toString('utf8')
    const body = JSON.parse(text) as RecordBody
    if (
      typeof body.v !== 'string' ||
      typeof body.t !== 'string' ||
      typeof body.e !== 'number' ||
      typeof body.r !== 'number' ||
      !Array.isArray(body.s)
    ) {
      throw new Error('record body malformed')
    }
    return body
  }

  /** A keyed fingerprint of a token value (for invalidation notices), with the encrypting key. */
  fingerprint(value: string): { id: string; fingerprint: string } {
    const key = this.#keys[0]!
    return { id: key.id, fingerprint: b64url(fingerprintOf(key, value)) }
  }

  /**
   * Whether `value` has the fingerprint `fingerprint` under key `id`. A key this replica lacks
   * cannot be checked: it answers true, so the local copy is dropped (and read again from the
   * store), which is safe.
   */
  matches(id: string, fingerprint: string, value: string): boolean {
    const key = this.#byId.get(id)
    if (key === undefined) return true
    const expected = fingerprintOf(key, value)
    const given = Buffer.from(fingerprint, 'base64url')
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
}

function aad(id: string, cacheKey: string): Buffer {
  return Buffer.from(`${LABEL}\0${id}\0${cacheKey}`, 'utf8')
}

function fingerprintOf(key: Key, value: string): Buffer {
  return createHmac('sha256', key.fingerprint).update(value).digest().subarray(0, 16)
}
