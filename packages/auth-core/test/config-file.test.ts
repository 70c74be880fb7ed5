import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../src/errors.js'
import { loadConfigFile } from '../src/node.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'mcp-oauth2-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ConfigError)
  return err as ConfigError
}

/** A private-key fixture, generated per run so no key lives in the repository. */
function writeKeyFixture(): { pem: string; yaml: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  mkdirSync(join(dir, 'keys'), { recursive: true })
  writeFileSync(join(dir, 'keys', 'client.pem'), pem)
  const yaml = join(dir, 'private-key-file.yaml')
  copyFileSync(join(fixtures, 'private-key-file.yaml'), yaml)
  return { pem, yaml }
}

describe('loadConfigFile', () => {
  it('loads a YAML file with environment interpolation', async () => {
    const config = await loadConfigFile(join(fixtures, 'seed-default-oauth2.yaml'), {
      env: { OAUTH2_CLIENT_SECRET: 'a', BILLING_CLIENT_SECRET: 'b' },
    })
    expect(Object.keys(config.servers)).toEqual(['user_context_server', 'billing', 'public_docs'])
  })

  it('loads a JSON file', async () => {
    const config = await loadConfigFile(join(fixtures, 'seed-default-oauth2.json'), {
      env: { OAUTH2_CLIENT_SECRET: 'a' },
    })
    expect(config.servers['user_context_server']?.oauth2?.clientSecret?.reveal()).toBe('a')
  })

  it('reads process.env when no env is given', async () => {
    process.env['OAUTH2_CLIENT_SECRET'] = 'from-process-env'
    try {
      const config = await loadConfigFile(join(fixtures, 'seed-default-oauth2.json'))
      expect(config.servers['user_context_server']?.oauth2?.clientSecret?.reveal()).toBe('from-process-env')
    } finally {
      delete process.env['OAUTH2_CLIENT_SECRET']
    }
  })

  it('resolves TLS paths against the file’s directory and checks they are readable', async () => {
    const config = await loadConfigFile(join(fixtures, 'seed-discover.yaml'), {
      env: { CRM_CLIENT_SECRET: 's' },
    })
    expect(config.servers['crm']?.tls?.caFile).toBe(join(fixtures, 'certs', 'company-ca.pem'))
  })

  it('reads private_key_file into a Secret, relative to the file', async () => {
    const { pem, yaml } = writeKeyFixture()
    const config = await loadConfigFile(yaml, { env: {} })
    const oauth2 = config.servers['signer']?.oauth2
    expect(oauth2?.privateKey?.reveal()).toBe(pem)
    expect(oauth2?.privateKeyFile).toBe(join(dir, 'keys', 'client.pem'))
    expect(oauth2).toMatchObject({ privateKeyAlgorithm: 'ES256', privateKeyId: 'key-1' })
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY')
    expect(inspect(config, { depth: 20 })).not.toContain('PRIVATE KEY')
  })

  it('names the file and the path when a key file is missing or not PKCS#8', async () => {
    const yaml = join(dir, 'missing-key.yaml')
    writeFileSync(
      yaml,
      [
        'mcp_config:',
        '  default_oauth2: { token_url: https://as.example/t, client_id: gw, private_key_file: nope.pem }',
        'mcp_servers:',
        '  a: { url: https://a.example/mcp }',
        '  b: { url: https://b.example/mcp, tls: { ca_file: missing-ca.pem } }',
        '  c:',
        '    url: https://c.example/mcp',
        '    auth: { oauth2: { token_url: https://as.example/t, client_id: gw, private_key_file: pkcs1.pem } }',
      ].join('\n'),
    )
    writeFileSync(
      join(dir, 'pkcs1.pem'),
      '-----BEGIN RSA PRIVATE KEY-----\nkey-material-leak\n-----END RSA PRIVATE KEY-----\n',
    )
    const err = await configErrorOf(loadConfigFile(yaml, { env: {} }))
    expect(err.file).toBe(yaml)
    expect(err.message).toContain(yaml)
    expect(err.message).not.toContain('key-material-leak')
    expect(err.issues.map((i) => i.path)).toEqual([
      'mcp_config.default_oauth2.private_key_file', // reported once, though two servers use the default
      'mcp_servers.b.tls.ca_file',
      'mcp_servers.c.auth.oauth2.private_key_file',
    ])
    expect(err.issues[0]?.message).toContain('ENOENT')
  })

  it('names the file and the path inside it for invalid content', async () => {
    const file = join(fixtures, 'seed-default-oauth2.yaml')
    const err = await configErrorOf(loadConfigFile(file, { env: {} }))
    expect(err.file).toBe(file)
    expect(err.issues).toEqual([
      {
        path: 'mcp_config.default_oauth2.client_secret',
        message: expect.stringContaining('OAUTH2_CLIENT_SECRET'),
      },
      {
        path: 'mcp_servers.billing.auth.oauth2.client_secret',
        message: expect.stringContaining('BILLING_CLIENT_SECRET'),
      },
    ])
  })

  it('reports an unreadable file as a ConfigError naming it', async () => {
    const file = join(dir, 'does-not-exist.yaml')
    const err = await configErrorOf(loadConfigFile(file))
    expect(err.file).toBe(file)
    expect(err.issues).toEqual([{ path: '(file)', message: expect.stringContaining('ENOENT') }])
  })

  it('reports YAML syntax errors with the file and a line number', async () => {
    const file = join(dir, 'broken.yaml')
    writeFileSync(file, 'mcp_servers:\n  a: [unclosed\n')
    const err = await configErrorOf(loadConfigFile(file))
    expect(err.file).toBe(file)
    expect(err.issues[0]?.path).toMatch(/^\(line \d+, column \d+\)$/)
  })

  describe('files that are not small regular files', () => {
    function configWithKeyFile(name: string, keyPath: string): string {
      const yaml = join(dir, `${name}.yaml`)
      writeFileSync(
        yaml,
        [
          'mcp_servers:',
          '  signer:',
          '    url: https://signer-mcp.company.com/mcp',
          '    auth:',
          '      oauth2:',
          '        token_url: https://auth.company.com/oauth2/token',
          '        client_id: signer',
          `        private_key_file: ${JSON.stringify(keyPath)}`,
          '',
        ].join('\n'),
      )
      return yaml
    }
    const keyPath = 'mcp_servers.signer.auth.oauth2.private_key_file'

    it('refuses a FIFO as private_key_file instead of hanging', async () => {
      const fifo = join(dir, 'key.fifo')
      execFileSync('mkfifo', [fifo])
      const error = await configErrorOf(loadConfigFile(configWithKeyFile('fifo', fifo)))
      expect(error.issues).toEqual([{ path: keyPath, message: `${fifo} is not a regular file` }])
    })

    it('refuses /dev/zero as private_key_file instead of reading forever', async () => {
      const error = await configErrorOf(loadConfigFile(configWithKeyFile('zero', '/dev/zero')))
      expect(error.issues).toEqual([{ path: keyPath, message: '/dev/zero is not a regular file' }])
    })

    it('refuses a private_key_file over 64 KiB without reading it as a key', async () => {
      const big = join(dir, 'big.pem')
      writeFileSync(big, `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(70_000)}\n-----END PRIVATE KEY-----\n`)
      const error = await configErrorOf(loadConfigFile(configWithKeyFile('big', big)))
      expect(error.issues).toEqual([{ path: keyPath, message: `${big} is larger than 64 KiB` }])
      expect(inspect(error)).not.toContain('AAAAAAAA')
    })

    it('refuses a FIFO as the configuration file itself', async () => {
      const fifo = join(dir, 'config.fifo')
      execFileSync('mkfifo', [fifo])
      const error = await configErrorOf(loadConfigFile(fifo))
      expect(error.issues).toEqual([{ path: '(file)', message: `${fifo} is not a regular file` }])
    })
  })
})
