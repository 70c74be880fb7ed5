import { expect, it } from 'vitest'
import { isLoopbackHost } from '../../src/internal/loopback.js'

it('treats localhost, 127.0.0.0/8, ::1 and IPv4-mapped loopback as loopback, nothing else', () => {
  for (const host of [
    'localhost',
    'LOCALHOST',
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ]) {
    expect(isLoopbackHost(host), host).toBe(true)
  }
  for (const host of [
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '192.168.1.10',
    '128.0.0.1',
    'example.test',
    'localhost.evil.test',
    'app.localhost',
    '::ffff:10.0.0.1',
    '',
  ]) {
    expect(isLoopbackHost(host), host).toBe(false)
  }
})
