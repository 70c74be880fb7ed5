import { inspect } from 'node:util'
import { AuthCoreError, ErrorCode } from '@mcp-oauth2/auth-core'
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { describe, expect, it } from 'vitest'
import { failureCode } from '../../../src/internal/manager/failure-code.js'
import {
  MAX_ERROR_TEXT,
  sanitizeError,
  userContextSecrets,
} from '../../../src/internal/manager/sanitize-error.js'
import { storeUserContext } from '../../../src/internal/user-context-store.js'

const SECRET = 'sk-live-0123456789abcdef'

describe('sanitizeError', () => {
  it('keeps the class, code and stack frames of an SDK error and redacts its message, data and causes', () => {
    const root = new TypeError(`socket said ${SECRET}`)
    const err = new McpError(-32603, `tool crashed: ${SECRET}`, { echo: `x-api-key: ${SECRET}`, n: 1 })
    ;(err as { cause?: unknown }).cause = root
    const safe = sanitizeError(err, [SECRET]) as McpError
    expect(safe).toBeInstanceOf(McpError)
    expect(safe).not.toBe(err)
    expect(safe.code).toBe(-32603)
    expect(failureCode(safe)).toBe('ERR_MCP_-32603')
    expect(safe.message).toContain('tool crashed: [redacted]')
    expect(safe.data).toEqual({ echo: 'x-api-key: [redacted]', n: 1 })
    expect(safe.cause).toBeInstanceOf(TypeError)
    expect(safe.stack?.split('\n')[1]).toMatch(/^\s+at /)
    for (const text of [String(safe), safe.stack, inspect(safe, { depth: 10 }), JSON.stringify(safe)])
      expect(text).not.toContain(SECRET)
  })

  it('drops lines of a message that pose as stack frames, and caps the length', () => {
    const err = new StreamableHTTPError(500, `body\n    at Bearer ${SECRET}\n${'x'.repeat(5000)}`)
    const safe = sanitizeError(err, []) as StreamableHTTPError
    expect(safe).toBeInstanceOf(StreamableHTTPError)
    expect(safe.code).toBe(500)
    expect(safe.message.length).toBeLessThanOrEqual(MAX_ERROR_TEXT)
    expect(safe.message).not.toContain('\n')
    expect(safe.stack).not.toContain(SECRET)
    // The header is one line (the redacted message); every line after it is a real frame.
    const frames = String(safe.stack).split('\n').slice(1)
    expect(frames.length).toBeGreaterThan(0)
    for (const frame of frames) expect(frame).not.toContain('Bearer')
  })

  it('passes errors of ours through, copies a DOMException, and survives a cause cycle', () => {
    const ours = new AuthCoreError(ErrorCode.Timeout, 'token request timed out')
    expect(sanitizeError(ours, [SECRET])).toBe(ours)
    const abort = new DOMException(`aborted ${SECRET}`, 'AbortError')
    const safeAbort = sanitizeError(abort, [SECRET]) as DOMException
    expect(safeAbort.name).toBe('AbortError')
    expect(safeAbort.message).toBe('aborted [redacted]')
    const loop = new Error(`loop ${SECRET}`)
    ;(loop as { cause?: unknown }).cause = loop
    const safeLoop = sanitizeError(loop, [SECRET])
    expect(inspect(safeLoop, { depth: 20 })).not.toContain(SECRET)
    expect(sanitizeError(safeLoop, [])).toBe(safeLoop)
  })

  it('removes a secret in its JSON-escaped form', () => {
    const quoted = 'va"lue\\with-quote'
    const err = new Error(JSON.stringify({ header: quoted }))
    expect((sanitizeError(err, [quoted]) as Error).message).toBe('{"header":"[redacted]"}')
  })
})

describe('userContextSecrets', () => {
  it('lists the cookie header, each pair and value, header values and the tokens', () => {
    const context = storeUserContext({
      cookie: 'session_id=abc123; theme="dark-mode"',
      headers: { 'x-user': 'user-header', 'x-list': ['one-value', 'two-value'] },
      userId: 'alice',
      subjectToken: 'subject-token',
      idToken: 'id-token-value',
    })
    expect(userContextSecrets(context)).toEqual(
      expect.arrayContaining([
        'session_id=abc123; theme="dark-mode"',
        'session_id=abc123',
        'abc123',
        '"dark-mode"',
        'dark-mode',
        'user-header',
        'one-value',
        'two-value',
        'subject-token',
        'id-token-value',
      ]),
    )
    expect(userContextSecrets(undefined)).toEqual([])
  })
})
