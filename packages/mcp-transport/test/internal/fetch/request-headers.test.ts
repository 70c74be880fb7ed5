import { describe, expect, it } from 'vitest'
import { RequestHeaders } from '../../../src/internal/fetch/request-headers.js'

/** What `Headers` makes of the same input: the reference. */
const asHeaders = (init: HeadersInit) => Object.fromEntries(new Headers(init))

describe('RequestHeaders', () => {
  it.each<[string, HeadersInit]>([
    ['a record', { 'Content-Type': 'application/json', accept: 'text/event-stream' }],
    ['a record with names differing in case', { Accept: 'a', accept: 'b' }],
    ['a record with outer whitespace', { 'x-a': '  padded\t', 'x-b': 'inner  space' }],
    [
      'pairs with a repeated name',
      [
        ['x-m', '1'],
        ['X-M', '2'],
        ['accept', 'b'],
      ],
    ],
    ['a Headers', new Headers({ 'X-Mixed': ' v ', accept: 'a' })],
  ])('copies %s as Headers would (lower-case names, trimmed values, repeats combined)', (_, init) => {
    // Read by name, it is normalised; handed over unread, what undici makes of it is the same.
    const read = RequestHeaders.from(init)
    read.get('accept')
    expect(read.toRecord()).toEqual(asHeaders(init))
    expect(asHeaders(RequestHeaders.from(init).toRecord())).toEqual(asHeaders(init))
  })

  it('hands a record over as it came until a header is read or set by name', () => {
    const record = { 'Content-Type': ' application/json ', Accept: 'a', accept: 'b', Cookie: 'mine=1' }
    const headers = RequestHeaders.from(record)
    headers.put('cookie', 'session_id=abc')
    headers.put('authorization', 'Bearer t')
    expect(headers.toRecord()).toEqual({
      'Content-Type': ' application/json ',
      Accept: 'a',
      accept: 'b',
      cookie: 'session_id=abc',
      authorization: 'Bearer t',
    })
    expect(asHeaders(headers.toRecord())).toEqual({
      'content-type': 'application/json',
      accept: 'a, b',
      cookie: 'session_id=abc',
      authorization: 'Bearer t',
    })
    const deleted = RequestHeaders.from({ COOKIE: 'a=1', cookie: 'b=2', 'x-a': '1' })
    deleted.delete('Cookie')
    expect(deleted.toRecord()).toEqual({ 'x-a': '1' })
    expect(record.Cookie).toBe('mine=1') // the caller's record is left alone
    // A symbol name goes along, and the fetch underneath refuses it, as it refuses the caller's.
    const symbol = { [Symbol('s')]: 'x', a: '1' } as unknown as Record<string, string>
    expect(() => new Headers(RequestHeaders.from(symbol).toRecord())).toThrow(TypeError)
    expect(() => new Headers(symbol)).toThrow(TypeError)
  })

  it("copies another implementation's Headers (an iterable with no own keys)", () => {
    const foreign = {
      *[Symbol.iterator]() {
        yield ['x-foreign', '1'] as [string, string]
        yield ['Accept', 'a'] as [string, string]
      },
    }
    expect(RequestHeaders.from(foreign as unknown as HeadersInit).toRecord()).toEqual({
      'x-foreign': '1',
      accept: 'a',
    })
  })

  it('is a copy: changing it leaves the caller alone', () => {
    const caller = new Headers({ cookie: 'a=1' })
    const headers = RequestHeaders.from(caller)
    headers.set('cookie', 'b=2')
    headers.delete('cookie')
    expect(caller.get('cookie')).toBe('a=1')
    expect(RequestHeaders.from(RequestHeaders.from({ x: '1' })).get('X')).toBe('1')
    // A copy of a copy, unread or read, is its own: a retry's new token leaves the sent headers alone.
    for (const source of [
      RequestHeaders.from({ Cookie: 'a=1', x: '1' }),
      RequestHeaders.from([['x', '1']]),
    ]) {
      const before = { ...source.toRecord() }
      const copy = RequestHeaders.from(source)
      copy.put('cookie', 'b=2')
      copy.set('x', '2')
      copy.put('authorization', 'Bearer new')
      expect(source.toRecord()).toEqual(before)
      expect(copy.toRecord()).toEqual({ cookie: 'b=2', x: '2', authorization: 'Bearer new' })
    }
  })

  it('reads, sets and deletes case-insensitively, with nothing from the prototype', () => {
    const headers = RequestHeaders.from([
      ['X-Api-Key', 'k'],
      ['x-api-key', 'l'],
    ])
    expect(headers.get('constructor')).toBeNull()
    expect(headers.has('toString')).toBe(false)
    expect(headers.get('x-api-key')).toBe('k, l')
    headers.set('X-Api-Key', 'k')
    expect(headers.get('x-api-key')).toBe('k')
    expect(headers.has('X-API-KEY')).toBe(true)
    headers.delete('X-Api-Key')
    expect(headers.has('x-api-key')).toBe(false)
  })

  it('puts a value it made as it is, replacing what the caller sent under any case', () => {
    const headers = RequestHeaders.from({ Cookie: 'mine=1', AUTHORIZATION: 'Basic x', 'Content-Type': 'a' })
    headers.put('cookie', 'session_id=abc; user_id=u-1')
    headers.put('authorization', 'Bearer t')
    headers.set('Content-Type', ' application/json ')
    headers.put('x-made', 'v')
    expect(headers.toRecord()).toEqual({
      cookie: 'session_id=abc; user_id=u-1',
      authorization: 'Bearer t',
      'content-type': 'application/json',
      'x-made': 'v',
    })
  })

  it('keeps `__proto__`, a valid header name, as a header (not the prototype)', () => {
    const record = JSON.parse('{"__proto__":"v","accept":"a"}') as Record<string, string>
    const headers = RequestHeaders.from(record)
    expect(headers.get('__proto__')).toBe('v')
    const out = headers.toRecord()
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.keys(out)).toEqual(['__proto__', 'accept'])
  })

  it('is read-only once handed to the fetch underneath', () => {
    const headers = RequestHeaders.from({ a: '1' })
    headers.toRecord()
    expect(() => headers.set('b', '2')).toThrow(/after they were sent/)
    expect(() => headers.delete('a')).toThrow(/after they were sent/)
    expect(() => headers.put('cookie', 'a=1')).toThrow(/after they were sent/)
    expect(RequestHeaders.from(headers).toRecord()).toEqual({ a: '1' })
  })

  it('refuses what is not headers, and a pair that is not a pair', () => {
    expect(() => RequestHeaders.from(42 as unknown as HeadersInit)).toThrow(TypeError)
    expect(() => RequestHeaders.from([['a', 'b', 'c']] as unknown as HeadersInit)).toThrow(TypeError)
  })
})
