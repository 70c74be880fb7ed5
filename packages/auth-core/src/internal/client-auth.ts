import { importJWK, importPKCS8, type JWK, SignJWT } from 'jose'
import type { ClientAuth } from 'oauth4webapi'
import { ConfigError } from '../errors.js'
import {
  type BasicCredentialEncodingName,
  isOneOf,
  PRIVATE_KEY_ALGORITHMS,
  type PrivateKeyAlgorithmName,
} from './protocol.js'

/**
 * application/x-www-form-urlencoded serialisation of one value, the WHATWG way: letters, digits
 * and `*-._` unchanged, space as `+`, everything else percent-encoded (UTF-8).
 */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1)
}

/** Base64 of the UTF-8 bytes of `text` (`btoa` alone takes Latin-1 only). */
function base64Utf8(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/**
 * The `Authorization` value of `client_secret_basic`. `form-urlencoded` (RFC 6749 §2.3.1): id and
 * secret are form-urlencoded before base64 (oauth4webapi's built-in Basic escapes `-` as `%2D`,
 * which some servers do not decode). `raw`: the UTF-8 bytes as they are, for servers that do not
 * form-decode (glewlwyd, @node-oauth/oauth2-server).
 */
export function basicAuthorization(
  clientId: string,
  clientSecret: string,
  encoding: BasicCredentialEncodingName,
): string {
  return encoding === 'raw'
    ? `Basic ${base64Utf8(`${clientId}:${clientSecret}`)}`
    : `Basic ${btoa(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`)}`
}

/** `client_secret_basic` with one encoding of the credentials (see {@link basicAuthorization}). */
export function clientSecretBasic(
  clientId: string,
  clientSecret: string,
  encoding: BasicCredentialEncodingName = 'form-urlencoded',
): ClientAuth {
  const header = basicAuthorization(clientId, clientSecret, encoding)
  return function clientSecretBasicAuth(_as, _client, _body, headers) {
    headers.set('authorization', header)
  }
}

/** `client_secret_post`: credentials in the form body (RFC 6749 §2.3.1). */
export function clientSecretPost(clientId: string, clientSecret: string): ClientAuth {
  return function clientSecretPostAuth(_as, _client, body) {
    body.set('client_id', clientId)
    body.set('client_secret', clientSecret)
  }
}

/** Infer the JWS algorithm of a private key when not configured. */
export function inferAlgorithm(key: string | JWK | CryptoKey): PrivateKeyAlgorithmName {
  if (typeof key === 'string') {
    // PKCS#8 does not name the curve in a way worth parsing here; RSA is the common default.
    return 'RS256'
  }
  if ('kty' in key && typeof key.kty === 'string') {
    const jwk = key as JWK
    if (isOneOf(PRIVATE_KEY_ALGORITHMS, jwk.alg)) return jwk.alg
    if (jwk.kty === 'EC') return 'ES256'
    if (jwk.kty === 'OKP') return 'EdDSA'
    return 'RS256'
  }
  const algorithm = (key as CryptoKey).algorithm as { name: string; namedCurve?: string }
  if (algorithm.name === 'ECDSA') return 'ES256'
  if (algorithm.name === 'Ed25519') return 'EdDSA'
  if (algorithm.name === 'RSA-PSS') return 'PS256'
  return 'RS256'
}

export interface PrivateKeyJwtOptions {
  clientId: string
  key: string | JWK | CryptoKey
  algorithm: PrivateKeyAlgorithmName
  keyId: string | undefined
  /** Audience of the assertion, resolved per request (issuer, or token endpoint without metadata). */
  audience: (tokenEndpoint: string) => string
  now: () => number
  /** Assertion lifetime, seconds. */
  lifetimeSeconds?: number
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a fresh assertion per request with a random
 * `jti`, a short `exp`, `iss` = `sub` = client_id.
 */
export function privateKeyJwt(options: PrivateKeyJwtOptions): ClientAuth {
  let keyPromise: Promise<CryptoKey | Uint8Array> | undefined
  const loadKey = () => {
    const { key, algorithm } = options
    const load = () =>
      typeof key === 'string'
        ? importPKCS8(key, algorithm)
        : 'kty' in key && typeof (key as JWK).kty === 'string'
          ? importJWK(key as JWK, algorithm)
          : Promise.resolve(key as CryptoKey)
    // Node's OpenSSL binding can report an error left on its error queue by an earlier, unrelated
    // operation as the failure of the next key parse (seen on Node 22, 24 and 26: a valid P-256
    // PKCS#8 key failing once with "asn1 … too long"). A second attempt gives the real answer.
    // A key that still fails is a configuration error, reported without the key or jose's text.
    keyPromise ??= load()
      .catch(load)
      .catch((cause: unknown) => {
        throw new ConfigError(`the private_key_jwt key cannot be used as a ${algorithm} private key`, {
          issues: [{ path: 'privateKey', message: `cannot be imported as a ${algorithm} private key` }],
          cause: cause instanceof Error ? new Error(cause.name) : undefined,
        })
      })
    // A key that fails to import fails every request the same way: don't cache the rejection.
    keyPromise.catch(() => {
      keyPromise = undefined
    })
    return keyPromise
  }
  const lifetime = options.lifetimeSeconds ?? 60
  return async function privateKeyJwtAuth(as, _client, body) {
    const key = await loadKey()
    const now = Math.floor(options.now() / 1000)
    const assertion = await new SignJWT({})
      .setProtectedHeader({
        alg: options.algorithm,
        typ: 'JWT',
        ...(options.keyId ? { kid: options.keyId } : {}),
      })
      .setIssuer(options.clientId)
      .setSubject(options.clientId)
      .setAudience(options.audience(String(as.token_endpoint)))
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetime)
      .sign(key)
    body.set('client_id', options.clientId)
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    body.set('client_assertion', assertion)
  }
}
