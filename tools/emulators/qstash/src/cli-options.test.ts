import { describe, expect, it } from 'vitest'
import { cliOptions, DEFAULT_CLI_DATA_DIR } from './cli-options'

describe('CLI options', () => {
  it('keeps state in .data/qstash unless told otherwise', () => {
    expect(DEFAULT_CLI_DATA_DIR).toBe('.data/qstash')
    expect(cliOptions([], {})).toEqual({ dataDir: '.data/qstash' })
    expect(cliOptions([], { QSTASH_EMULATOR_PORT: '9090' })).toEqual({
      port: 9090,
      dataDir: '.data/qstash',
    })
  })

  it('takes the folder from QSTASH_EMULATOR_DATA_DIR, and --data-dir over it', () => {
    expect(cliOptions([], { QSTASH_EMULATOR_DATA_DIR: '/var/q' })).toEqual({ dataDir: '/var/q' })
    expect(cliOptions(['--data-dir', 'here'], { QSTASH_EMULATOR_DATA_DIR: '/var/q' })).toEqual({
      dataDir: 'here',
    })
    expect(cliOptions(['--data-dir', 'here'], { QSTASH_EMULATOR_MEMORY: '1' })).toEqual({
      dataDir: 'here',
    })
  })

  it('runs in memory with --memory or QSTASH_EMULATOR_MEMORY, even where a folder is set', () => {
    expect(cliOptions(['--memory'], {})).toEqual({})
    expect(cliOptions(['--memory'], { QSTASH_EMULATOR_DATA_DIR: '/var/q' })).toEqual({})
    for (const value of ['1', 'true', 'TRUE', ' 1 ']) {
      expect(cliOptions([], { QSTASH_EMULATOR_MEMORY: value }), value).toEqual({})
      expect(
        cliOptions([], { QSTASH_EMULATOR_MEMORY: value, QSTASH_EMULATOR_DATA_DIR: '/var/q' }),
        value,
      ).toEqual({})
    }
    for (const value of ['0', 'false', '']) {
      expect(cliOptions([], { QSTASH_EMULATOR_MEMORY: value }), value).toEqual({
        dataDir: '.data/qstash',
      })
    }
  })

  it('answers help, and names the flag or variable that is wrong', () => {
    expect(cliOptions(['--help'], {})).toBe('help')
    expect(cliOptions(['--', '--help'], {})).toBe('help')
    expect(cliOptions(['--', '--memory'], {})).toEqual({})
    expect(() => cliOptions([], { QSTASH_EMULATOR_MEMORY: 'yes' })).toThrow(
      /QSTASH_EMULATOR_MEMORY/,
    )
    expect(() => cliOptions(['--data-dir', 'x'], { QSTASH_EMULATOR_MEMORY: 'please' })).toThrow(
      /QSTASH_EMULATOR_MEMORY/,
    )
    expect(() => cliOptions(['--data-dir', 'x', '--memory'], {})).toThrow(/--data-dir or --memory/)
    expect(() => cliOptions(['--data-dir', ' '], {})).toThrow(/--data-dir/)
    expect(() => cliOptions(['--data-dir'], {})).toThrow(/--data-dir/)
    expect(() => cliOptions(['--port', '1'], {})).toThrow(/--port/)
    expect(() => cliOptions([], { QSTASH_EMULATOR_TIME_SCALE: 'fast' })).toThrow(
      /QSTASH_EMULATOR_TIME_SCALE/,
    )
  })
})
