import { parseCookie } from 'cookie'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCookieFilter } from '../src/cookie-filter.js'

const ALLOW = ['session_id', 'user_id', '1']
const filter = createCookieFilter({ allow: ALLOW })

/** Pieces a hostile or sloppy Cookie header is made of. */
const piece = fc.oneof(
  fc.constantFrom(
    'session_id',
    'user_id',
    'Session_ID',
    '1',
    'sess_a',
    'sess_',
    'theme',
    '=',
    ';',
    '; ',
    ' ',
    '\t',
    '\r',
    '\n',
    '\r\n',
    '\0',
    '\x7f',
    '"',
    ',',
    '%20',
    'é',
    '€',
    '\u212a',
    'X-Evil: 1',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
)
const cookieHeader = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(''))

function names(header: string | undefined): string[] {
  if (header === undefined) return []
  return header.split('; ').map((pair) => pair.slice(0, pair.indexOf('=')))
}

describe('createCookieFilter', () => {
  it('keeps only allowed cookies, in order, re-joined with "; "', () => {
    expect(filter('theme=dark; session_id=abc;user_id=42; lang=en')).toBe('session_id=abc; user_id=42')
    expect(filter('user_id=42; session_id=abc')).toBe('user_id=42; session_id=abc')
  })

  it('keeps the order of integer-like names, which cookie.parse would reorder', () => {
    expect(filter('user_id=u; 1=one')).toBe('user_id=u; 1=one')
    expect(Object.keys(parseCookie('user_id=u; 1=one'))).toEqual(['1', 'user_id'])
  })

  it('keeps values byte for byte: no URI decoding, no unquoting, "=" inside values', () => {
    expect(filter('session_id=a%20b%3D')).toBe('session_id=a%20b%3D')
    expect(filter('session_id="quoted value"')).toBe('session_id="quoted value"')
    expect(filter('session_id=eyJ.a==.b=')).toBe('session_id=eyJ.a==.b=')
    expect(filter('session_id=caf\u00e9')).toBe('session_id=caf\u00e9')
  })

  it('matches names exactly and case-sensitively', () => {
    expect(filter('Session_ID=x; session_idx=y; xsession_id=z')).toBeUndefined()
  })

  it('strips spaces and tabs around names and values, as cookie.parse does', () => {
    expect(filter('  session_id = abc \t;\tuser_id=\t1')).toBe('session_id=abc; user_id=1')
  })

  it('keeps empty values', () => {
    expect(filter('session_id=; user_id=""')).toBe('session_id=; user_id=""')
  })

  it('returns undefined when nothing is left, never an empty header', () => {
    expect(filter('theme=dark')).toBeUndefined()
    expect(filter('')).toBeUndefined()
    expect(filter(';;; ;')).toBeUndefined()
    expect(filter('session_id')).toBeUndefined()
  })

  it('returns undefined for null, undefined and anything that is not a string', () => {
    expect(filter(null)).toBeUndefined()
    expect(filter(undefined)).toBeUndefined()
    for (const input of [42, {}, ['session_id=a'], new String('session_id=a'), Symbol('x'), () => 'x']) {
      expect(filter(input as unknown as string)).toBeUndefined()
    }
  })

  it('drops a pair that smuggles a header through CR/LF', () => {
    expect(filter('a=1; session_id=x\r\nX-Evil: 1')).toBeUndefined()
    expect(filter('session_id=ok; user_id=x\r\nX-Evil: 1')).toBe('session_id=ok')
    expect(filter('session_id=ok\nuser_id=1')).toBeUndefined()
  })

  it('drops pairs with control characters or characters above 0xFF in the value', () => {
    for (const bad of ['\0', '\r', '\n', '\x01', '\x1f', '\x7f', '\t', '\u20ac', '\ud83d']) {
      expect(filter(`session_id=a${bad}b; user_id=1`)).toBe('user_id=1')
    }
  })

  it('drops pairs whose name is not a token, or that have no "="', () => {
    expect(filter('session id=x; "user_id"=y; (1)=z; session_id')).toBeUndefined()
    const prefixed = createCookieFilter({ allow: [], allowPrefixes: ['sess_'] })
    expect(prefixed('sess_a b=1; sess_(x)=2; sess_\u00e9=3; sess_ok=4')).toBe('sess_ok=4')
  })

  it('keeps the first of duplicate names', () => {
    expect(filter('session_id=a;session_id=b')).toBe('session_id=a')
    expect(filter('session_id=a; user_id=1; session_id=b; user_id=2')).toBe('session_id=a; user_id=1')
  })

  it('does not let a later duplicate stand in for a dropped first occurrence', () => {
    expect(filter('session_id=a\0; session_id=b')).toBeUndefined()
    const small = createCookieFilter({ allow: ['session_id'], maxBytes: 16 })
    expect(small('session_id=toolongvalue; session_id=b')).toBeUndefined()
  })

  it('forgets duplicates between calls', () => {
    expect(filter('session_id=a')).toBe('session_id=a')
    expect(filter('session_id=b')).toBe('session_id=b')
  })

  it('answers a header it just filtered again with the same string, and any other header anew', () => {
    const own = createCookieFilter({ allow: ALLOW })
    const header = 'theme=dark; session_id=a; user_id=1'
    const first = own(header)
    expect(first).toBe('session_id=a; user_id=1')
    // An equal header that is another string object (as from another request) is the same text.
    expect(own(['theme=dark', 'session_id=a', 'user_id=1'].join('; '))).toBe(first)
    expect(own('theme=dark; session_id=b; user_id=1')).toBe('session_id=b; user_id=1')
    expect(own('theme=dark')).toBeUndefined()
    expect(own('theme=dark')).toBeUndefined()
    expect(own(undefined)).toBeUndefined()
    expect(own(header)).toBe(first)
  })

  it('caps the result at maxBytes by dropping whole pairs, keeping later pairs that fit', () => {
    const capped = createCookieFilter({ allow: ['a', 'b', 'c'], maxBytes: 12 })
    expect(capped('a=1; b=12345678901; c=3')).toBe('a=1; c=3')
    expect(capped('a=123; b=123')).toBe('a=123; b=123') // exactly 12
    expect(capped('a=123; b=1234')).toBe('a=123')
    expect(capped('a=12345678901')).toBeUndefined() // 13 bytes: dropped, not truncated
  })

  it('applies an 8000-byte cap by default', () => {
    const value = 'v'.repeat(8000 - 'session_id='.length)
    expect(filter(`session_id=${value}`)).toBe(`session_id=${value}`)
    expect(filter(`session_id=${value}x; user_id=1`)).toBe('user_id=1')
  })

  it('handles a megabyte header in linear time', () => {
    const junk = 'junk=x; '.repeat(131_072) // 1 MiB
    const noEquals = 'a;'.repeat(500_000)
    const started = performance.now()
    expect(filter(`${junk}session_id=a`)).toBe('session_id=a')
    expect(filter(`${noEquals}session_id=a`)).toBe('session_id=a')
    expect(filter(`session_id=${'x'.repeat(1 << 20)}; user_id=1`)).toBe('user_id=1')
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('matches prefixes only through allowPrefixes, case-sensitively', () => {
    const prefixed = createCookieFilter({ allow: ['user_id'], allowPrefixes: ['sess_'] })
    expect(prefixed('sess_a=1; Sess_b=2; sess_=3; user_id=4; sess=5; sess_a=6')).toBe(
      'sess_a=1; sess_=3; user_id=4',
    )
  })

  it('refuses an allow entry ending in "*", pointing at allowPrefixes', () => {
    expect(() => createCookieFilter({ allow: ['sess_*'] })).toThrow(/allowPrefixes/)
  })

  it('validates its options once, with a TypeError naming the option', () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /options/],
      [{}, /"allow"/],
      [{ allow: 'session_id' }, /"allow"/],
      [{ allow: ['session id'] }, /"allow"/],
      [{ allow: [''] }, /"allow"/],
      [{ allow: [42] }, /"allow"/],
      [{ allow: ['a=b'] }, /"allow"/],
      [{ allow: ['a'], allowPrefixes: [''] }, /"allowPrefixes"/],
      [{ allow: ['a'], allowPrefixes: 'sess_' }, /"allowPrefixes"/],
      [{ allow: ['a'], maxBytes: 0 }, /"maxBytes"/],
      [{ allow: ['a'], maxBytes: 1.5 }, /"maxBytes"/],
      [{ allow: ['a'], maxBytes: Number.NaN }, /"maxBytes"/],
      [{ allow: ['a'], maxBytes: '100' }, /"maxBytes"/],
    ]
    for (const [options, message] of cases) {
      expect(() => createCookieFilter(options as never)).toThrow(TypeError)
      expect(() => createCookieFilter(options as never)).toThrow(message)
    }
  })

  it('forwards nothing with an empty allow list', () => {
    expect(createCookieFilter({ allow: [] })('session_id=a')).toBeUndefined()
  })

  it('returns a named function', () => {
    expect(filter.name).toBe('cookieFilter')
  })

  it('behaves as its @example says', () => {
    const filterCookies = createCookieFilter({ allow: ['session_id', 'user_id'] })
    expect(filterCookies('theme=dark; session_id=abc; user_id=42')).toBe('session_id=abc; user_id=42')
    expect(filterCookies('theme=dark')).toBeUndefined()
  })

  describe('properties', () => {
    const prefixed = createCookieFilter({ allow: ALLOW, allowPrefixes: ['sess_'], maxBytes: 40 })

    it('never throws, and never returns an empty string', () => {
      fc.assert(
        fc.property(fc.oneof(cookieHeader, fc.anything()), (input) => {
          for (const f of [filter, prefixed]) {
            const out = f(input as string)
            expect(out === undefined || (typeof out === 'string' && out.length > 0)).toBe(true)
          }
        }),
        { numRuns: 2000 },
      )
    })

    it('outputs only allowed names, each once', () => {
      fc.assert(
        fc.property(cookieHeader, (header) => {
          const out = names(filter(header))
          expect(out.every((name) => ALLOW.includes(name))).toBe(true)
          expect(new Set(out).size).toBe(out.length)
          const outPrefixed = names(prefixed(header))
          expect(outPrefixed.every((name) => ALLOW.includes(name) || name.startsWith('sess_'))).toBe(true)
          expect(new Set(outPrefixed).size).toBe(outPrefixed.length)
        }),
        { numRuns: 2000 },
      )
    })

    it('outputs no control characters and stays within maxBytes', () => {
      fc.assert(
        fc.property(cookieHeader, (header) => {
          for (const out of [filter(header), prefixed(header)]) {
            if (out === undefined) continue
            // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
            expect(out).not.toMatch(/[\x00-\x1f\x7f]|[^\x00-\xff]/)
          }
          expect((prefixed(header) ?? '').length).toBeLessThanOrEqual(40)
        }),
        { numRuns: 2000 },
      )
    })

    it('answers a run of headers, repeats among them, as a fresh filter answers each', () => {
      const run = fc.array(fc.oneof(cookieHeader, fc.constantFrom('session_id=a; user_id=1', 'x=1')), {
        maxLength: 12,
      })
      fc.assert(
        fc.property(run, fc.array(fc.nat(11), { maxLength: 12 }), (headers, repeats) => {
          const shared = createCookieFilter({ allow: ALLOW, allowPrefixes: ['sess_'], maxBytes: 40 })
          // Each header, then now and then one seen before again (right after itself, or later).
          const calls = headers.flatMap((header, i) => [header, headers[repeats[i] ?? i] ?? header])
          for (const header of calls) {
            const fresh = createCookieFilter({ allow: ALLOW, allowPrefixes: ['sess_'], maxBytes: 40 })
            expect(shared(header)).toBe(fresh(header))
          }
        }),
        { numRuns: 1000 },
      )
    })

    it('is idempotent', () => {
      fc.assert(
        fc.property(cookieHeader, (header) => {
          const once = filter(header)
          expect(filter(once)).toBe(once)
          const oncePrefixed = prefixed(header)
          expect(prefixed(oncePrefixed)).toBe(oncePrefixed)
        }),
        { numRuns: 2000 },
      )
    })

    it('keeps exactly the values cookie.parse (identity decode) gives', () => {
      fc.assert(
        fc.property(cookieHeader, (header) => {
          const parsed = parseCookie(header, { decode: (value) => value })
          for (const pair of filter(header)?.split('; ') ?? []) {
            const eq = pair.indexOf('=')
            expect(parsed[pair.slice(0, eq)]).toBe(pair.slice(eq + 1))
          }
        }),
        { numRuns: 2000 },
      )
    })
  })
})
