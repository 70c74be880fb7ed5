import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { redactServerText } from '../src/server-text.js'

describe('redactServerText', () => {
  it('removes given secrets in their raw, form-urlencoded and percent-encoded forms', () => {
    const secret = 'p+q/r s%t'
    const text = `raw ${secret} form ${new URLSearchParams([['', secret]]).toString().slice(1)} pct ${encodeURIComponent(secret)}`
    expect(redactServerText(text, { secrets: [secret] })).toBe(
      'raw [redacted] form [redacted] pct [redacted]',
    )
  })

  it('removes JWT-like strings, credentials after auth schemes and credential-named parameters', () => {
    expect(
      redactServerText(
        'jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.sig, Bearer abc.def~ghi, basic dXNlcjpwdw==, client_secret=hunter2&x=1, {"access_token": "tok"}',
      ),
    ).toBe(
      'jwt [redacted], Bearer [redacted], basic [redacted], client_secret=[redacted]&x=1, {"access_token": "[redacted]"}',
    )
  })

  it('turns control characters into spaces and caps the length after redacting', () => {
    expect(redactServerText('line1\r\nline2\u0000end')).toBe('line1 line2 end')
    const secret = 'abcdefghij'
    const cut = redactServerText(`${'x'.repeat(15)}${secret}`, { secrets: [secret], maxLength: 20 })
    expect(cut).toBe(`${'x'.repeat(15)}[red…`)
    expect(cut).not.toContain('abcd')
    expect(redactServerText('y'.repeat(10_000)).length).toBe(256)
  })

  it('ignores secrets shorter than 4 characters and rejects a bad maxLength', () => {
    expect(redactServerText('a b c', { secrets: ['a', undefined] })).toBe('a b c')
    expect(() => redactServerText('x', { maxLength: 0 })).toThrow('"maxLength"')
    expect(() => redactServerText(42 as never)).toThrow(TypeError)
  })

  it('never lets a secret through, wherever it sits in arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 4, maxLength: 40 }).filter((s) => s.trim().length >= 4),
        fc.string(),
        fc.integer({ min: 16, max: 400 }),
        (before, secret, after, maxLength) => {
          const out = redactServerText(`${before}${secret}${after}`, { secrets: [secret], maxLength })
          expect(out.length).toBeLessThanOrEqual(maxLength)
          expect(out).not.toContain(secret)
          for (let i = 0; i < out.length; i++) {
            const c = out.charCodeAt(i)
            expect(c >= 0x20 && c !== 0x7f).toBe(true)
          }
        },
      ),
    )
  })
})
