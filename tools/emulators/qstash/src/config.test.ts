import { describe, expect, it } from 'vitest'
import { DEV_CREDENTIALS, qstashEmulatorOptionsFromEnv, resolveOptions } from './config'

describe('options', () => {
  it('defaults to the dev server port and its published credentials', () => {
    const o = resolveOptions()
    expect(o).toMatchObject({ port: 8080, host: '127.0.0.1', timeScale: 1, ...DEV_CREDENTIALS })
    expect(o.dataDir).toBeUndefined()
  })

  it('reads every variable from the environment', () => {
    expect(
      qstashEmulatorOptionsFromEnv({
        QSTASH_EMULATOR_PORT: '9090',
        QSTASH_EMULATOR_HOST: '0.0.0.0',
        QSTASH_EMULATOR_DATA_DIR: '.data/qstash',
        QSTASH_EMULATOR_TIME_SCALE: '0.01',
        QSTASH_TOKEN: 't',
        QSTASH_CURRENT_SIGNING_KEY: 'c',
        QSTASH_NEXT_SIGNING_KEY: 'n',
      }),
    ).toEqual({
      port: 9090,
      host: '0.0.0.0',
      dataDir: '.data/qstash',
      timeScale: 0.01,
      token: 't',
      currentSigningKey: 'c',
      nextSigningKey: 'n',
    })
    expect(qstashEmulatorOptionsFromEnv({})).toEqual({})
  })

  it('names the variable when a value is bad, and never echoes secrets', () => {
    expect(() => qstashEmulatorOptionsFromEnv({ QSTASH_EMULATOR_PORT: 'http' })).toThrow(
      /QSTASH_EMULATOR_PORT/,
    )
    expect(() => qstashEmulatorOptionsFromEnv({ QSTASH_EMULATOR_PORT: '70000' })).toThrow(
      /QSTASH_EMULATOR_PORT/,
    )
    expect(() => qstashEmulatorOptionsFromEnv({ QSTASH_EMULATOR_TIME_SCALE: '0' })).toThrow(
      /QSTASH_EMULATOR_TIME_SCALE/,
    )
    expect(() => qstashEmulatorOptionsFromEnv({ QSTASH_EMULATOR_TIME_SCALE: 'x' })).toThrow(
      /QSTASH_EMULATOR_TIME_SCALE/,
    )
    expect(() => qstashEmulatorOptionsFromEnv({ QSTASH_TOKEN: ' ' })).toThrow(/QSTASH_TOKEN/)
    expect(() => resolveOptions({ timeScale: -1 })).toThrow(/timeScale/)
  })
})
