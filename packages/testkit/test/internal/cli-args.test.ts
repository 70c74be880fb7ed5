import { describe, expect, it } from 'vitest'
import { closest, editDistance, parseCommandLine, unknownCommand } from '../../src/internal/cli-args.js'

const OPTIONS = {
  port: { type: 'string' },
  stateless: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

describe('cli-args', () => {
  it('measures edits, counting a transposition as one', () => {
    expect(editDistance('port', 'port')).toBe(0)
    expect(editDistance('prot', 'port')).toBe(1)
    expect(editDistance('--jsn', '--json')).toBe(1)
    expect(editDistance('abc', '')).toBe(3)
  })

  it('suggests only close names', () => {
    expect(closest('--prot', ['--port', '--stateless'])).toBe('--port')
    expect(closest('--statless', ['--port', '--stateless'])).toBe('--stateless')
    expect(closest('--banana', ['--port', '--stateless'])).toBeUndefined()
  })

  it('turns parseArgs errors into one-line ERR_TESTKIT_USAGE errors', () => {
    const fail = (argv: string[]) => {
      try {
        parseCommandLine(argv, OPTIONS)
      } catch (e) {
        return e as { code: string; message: string }
      }
      throw new Error('no error')
    }
    expect(fail(['--prot', '1'])).toMatchObject({
      code: 'ERR_TESTKIT_USAGE',
      message: 'unknown option --prot (did you mean --port?)',
    })
    expect(fail(['--banana'])).toMatchObject({ message: 'unknown option --banana' })
    expect(fail(['--port'])).toMatchObject({ message: 'option --port needs a value' })
    expect(fail(['--stateless=yes'])).toMatchObject({ message: 'option --stateless takes no value' })
    for (const argv of [['--prot'], ['--port'], ['--x']]) expect(fail(argv).message).not.toContain('\n')
  })

  it('parses valid command lines', () => {
    expect(parseCommandLine(['serve', '--port', '0', '-h'], OPTIONS)).toMatchObject({
      values: { port: '0', help: true },
      positionals: ['serve'],
    })
  })

  it('suggests the closest command', () => {
    expect(unknownCommand('srve', ['serve']).message).toBe('unknown command srve (did you mean serve?)')
    expect(unknownCommand('list', ['serve']).message).toBe('unknown command list')
  })
})
