import { describe, expect, it } from 'vitest'
import { maskCredentials, neonEmulatorOptionsFromEnv } from './options'

describe('neonEmulatorOptionsFromEnv', () => {
  it('returns no options for an empty environment', () => {
    expect(neonEmulatorOptionsFromEnv({})).toEqual({})
  })

  it('reads every variable', () => {
    expect(
      neonEmulatorOptionsFromEnv({
        NEON_EMULATOR_PORT: '5555',
        NEON_EMULATOR_HOST: '0.0.0.0',
        NEON_EMULATOR_BACKEND: 'postgres',
        NEON_EMULATOR_DATA_DIR: '/tmp/x',
        NEON_EMULATOR_POSTGRES_URL: 'postgresql://u:p@db:6543/app',
        NEON_EMULATOR_USER: 'app',
        NEON_EMULATOR_PASSWORD: ' spaced pw ',
        NEON_EMULATOR_DATABASE: 'appdb',
      }),
    ).toEqual({
      port: 5555,
      host: '0.0.0.0',
      backend: 'postgres',
      dataDir: '/tmp/x',
      postgresUrl: 'postgresql://u:p@db:6543/app',
      user: 'app',
      password: ' spaced pw ',
      database: 'appdb',
    })
  })

  it('treats empty values as unset', () => {
    expect(
      neonEmulatorOptionsFromEnv({ NEON_EMULATOR_PORT: '', NEON_EMULATOR_BACKEND: ' ' }),
    ).toEqual({})
  })

  it.each([
    ['NEON_EMULATOR_PORT', 'abc'],
    ['NEON_EMULATOR_PORT', '70000'],
    ['NEON_EMULATOR_PORT', '-1'],
    ['NEON_EMULATOR_PORT', '12.5'],
    ['NEON_EMULATOR_BACKEND', 'mysql'],
    ['NEON_EMULATOR_POSTGRES_URL', 'not a url'],
    ['NEON_EMULATOR_POSTGRES_URL', 'mysql://u@h/db'],
    ['NEON_EMULATOR_USER', 'x'.repeat(64)],
    ['NEON_EMULATOR_USER', 'a\0b'],
    ['NEON_EMULATOR_DATABASE', 'é'.repeat(32)],
    ['NEON_EMULATOR_PASSWORD', 'a\0b'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => neonEmulatorOptionsFromEnv({ [name]: value })).toThrow(name)
  })

  it('never puts a password into its errors', () => {
    expect(() =>
      neonEmulatorOptionsFromEnv({ NEON_EMULATOR_POSTGRES_URL: 'mysql://u:hunter2@h/db' }),
    ).toThrow(/^((?!hunter2).)*$/)
    expect(() => neonEmulatorOptionsFromEnv({ NEON_EMULATOR_PASSWORD: 'hunter2\0' })).toThrow(
      /^((?!hunter2).)*$/,
    )
  })

  it('accepts 63-byte names, the most PostgreSQL keeps', () => {
    const name = 'x'.repeat(63)
    expect(neonEmulatorOptionsFromEnv({ NEON_EMULATOR_USER: name }).user).toBe(name)
  })
})

describe('maskCredentials', () => {
  it('hides passwords and keeps the rest', () => {
    expect(maskCredentials('postgres://user:s3cret@host:5432/db')).toBe(
      'postgres://user:***@host:5432/db',
    )
    expect(maskCredentials('postgres://user@host/db')).toBe('postgres://user@host/db')
  })
})
