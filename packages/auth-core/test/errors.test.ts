import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  AuthCoreError,
  type AuthCoreErrorCode,
  ConfigError,
  ErrorCode,
  InsufficientScopeError,
  InvalidTokenError,
  type KnownAuthCoreError,
  TokenRequestError,
  type TokenRequestErrorCode,
} from '../src/errors.js'

describe('errors', () => {
  it('carries a stable code and the subclass name', () => {
    const err = new TokenRequestError('ERR_OAUTH_ERROR_RESPONSE', 'token request failed: invalid_client', {
      endpoint: 'https://as.example/token',
      status: 401,
      error: 'invalid_client',
    })
    expect(err).toBeInstanceOf(AuthCoreError)
    expect(err.name).toBe('TokenRequestError')
    expect(err.code).toBe('ERR_OAUTH_ERROR_RESPONSE')
    expect(err.status).toBe(401)
    expect(err.error).toBe('invalid_client')
  })

  it('builds RFC 6750 challenges with quoted values', () => {
    const scope = new InsufficientScopeError('missing scopes', {
      missingScopes: ['b'],
      requiredScopes: ['a', 'b'],
      resourceMetadata: 'https://mcp.example/.well-known/oauth-protected-resource',
    })
    expect(scope.wwwAuthenticate).toBe(
      'Bearer error="insufficient_scope", scope="a b", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource"',
    )
    const invalid = new InvalidTokenError('token "expired"', { reason: 'expired' })
    expect(invalid.wwwAuthenticate).toBe(
      'Bearer error="invalid_token", error_description="token \\"expired\\""',
    )
    expect(invalid.reason).toBe('expired')
  })
})

describe('error codes', () => {
  it('has one registry whose values are distinct codes (one meaning per code)', () => {
    const values = Object.values(ErrorCode)
    expect(new Set(values).size).toBe(values.length)
    for (const code of values) expect(code).toMatch(/^ERR_[A-Z_]+$/)
  })

  it('narrows KnownAuthCoreError by code at compile time', () => {
    const errors: KnownAuthCoreError[] = [
      new TokenRequestError(ErrorCode.Timeout, 'timed out', { endpoint: 'https://as.example/token' }),
      new InvalidTokenError('bad', { reason: 'signature' }),
      new ConfigError('bad config', { issues: [] }),
      new AuthCoreError(ErrorCode.KeysUnavailable, 'no keys') as KnownAuthCoreError,
    ]
    const seen = errors.map((err) => {
      switch (err.code) {
        case 'ERR_TIMEOUT':
          expectTypeOf(err).toEqualTypeOf<TokenRequestError>()
          return err.endpoint
        case 'ERR_INVALID_TOKEN':
          expectTypeOf(err).toEqualTypeOf<InvalidTokenError>()
          return err.reason
        case 'ERR_CONFIG':
          return err.issues.length
        default:
          return err.code
      }
    })
    expect(seen).toEqual(['https://as.example/token', 'signature', 0, 'ERR_KEYS_UNAVAILABLE'])
    // Open for the future (and for other packages' subclasses), like jose's JOSEErrorCode.
    expectTypeOf<AuthCoreError['code']>().toEqualTypeOf<AuthCoreErrorCode | (string & {})>()
    expectTypeOf<TokenRequestError['code']>().toEqualTypeOf<TokenRequestErrorCode>()
  })
})
