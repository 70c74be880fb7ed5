import { describe, expect, it } from 'vitest'
import { AuthCoreError, InsufficientScopeError, InvalidTokenError, TokenRequestError } from '../src/errors.js'

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
