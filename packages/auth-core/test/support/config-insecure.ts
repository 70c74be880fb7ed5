// Shared by the insecure-http configuration tests: the refusal's shape, and the secret values
// none of its parts may hold.
import { inspect } from 'node:util'
import { expect } from 'vitest'
import { AuthCoreError, ConfigError, ErrorCode } from '../../src/errors.js'

/** The ConfigError `fn` throws. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

/** Every value below that is secret: none may appear in an error, its issues or its cause. */
export const SECRET_VALUES = [
  'cs-leak-1',
  'assertion-leak-2',
  'idp-secret-leak-3',
  'static-leak-4',
  'redis-pw-leak-5',
  'jag-secret-leak-6',
]

/** An insecure-http refusal: at `path`, with the code in its message and as the error's cause. */
export function expectInsecure(fn: () => unknown, path: string): ConfigError {
  const err = configErrorOf(fn)
  expect(err.issues).toContainEqual({ path, message: expect.stringContaining(ErrorCode.InsecureHttp) })
  expect(err.cause).toBeInstanceOf(AuthCoreError)
  expect(err.cause).toMatchObject({ code: ErrorCode.InsecureHttp })
  expect((err.cause as Error).message).toContain(path)
  const printed = [err.message, JSON.stringify(err.issues), inspect(err, { depth: 5 })].join('\n')
  for (const secret of SECRET_VALUES) expect(printed).not.toContain(secret)
  return err
}
