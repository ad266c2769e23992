import { describe, expect, it } from 'vitest'
import { DEFAULT_TOKEN, redisEmulatorOptionsFromEnv, resolveOptions } from './config.js'

describe('redisEmulatorOptionsFromEnv', () => {
  it('reads every variable', () => {
    expect(
      redisEmulatorOptionsFromEnv({
        REDIS_EMULATOR_PORT: '9001',
        REDIS_EMULATOR_HOST: '0.0.0.0',
        REDIS_EMULATOR_TOKEN: 'secret-token',
        REDIS_EMULATOR_BACKEND: 'redis',
        REDIS_EMULATOR_REDIS_URL: 'redis://127.0.0.1:6380/2',
      }),
    ).toEqual({
      port: 9001,
      host: '0.0.0.0',
      token: 'secret-token',
      backend: 'redis',
      redisUrl: 'redis://127.0.0.1:6380/2',
    })
  })

  it('keeps defaults for unset or empty variables', () => {
    expect(redisEmulatorOptionsFromEnv({ REDIS_EMULATOR_PORT: '' })).toEqual({})
    expect(resolveOptions(redisEmulatorOptionsFromEnv({}))).toEqual({
      port: 8079,
      host: '127.0.0.1',
      token: DEFAULT_TOKEN,
      backend: 'mock',
      redisUrl: 'redis://127.0.0.1:6379',
    })
  })

  it.each([
    ['REDIS_EMULATOR_PORT', 'abc'],
    ['REDIS_EMULATOR_PORT', '70000'],
    ['REDIS_EMULATOR_PORT', '-1'],
    ['REDIS_EMULATOR_HOST', 'a b'],
    ['REDIS_EMULATOR_BACKEND', 'memcached'],
    ['REDIS_EMULATOR_REDIS_URL', 'http://x'],
    ['REDIS_EMULATOR_REDIS_URL', 'not a url'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => redisEmulatorOptionsFromEnv({ [name]: value })).toThrow(name)
  })

  it('never echoes a token or a Redis password in its errors', () => {
    expect(() => redisEmulatorOptionsFromEnv({ REDIS_EMULATOR_TOKEN: 'sec ret' })).toThrow(
      /^REDIS_EMULATOR_TOKEN must not contain whitespace$/,
    )
    const url = 'ftp://user:hunter2@host'
    expect(() => redisEmulatorOptionsFromEnv({ REDIS_EMULATOR_REDIS_URL: url })).not.toThrow(
      /hunter2/,
    )
  })
})
