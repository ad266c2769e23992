import { describe, expect, it } from 'vitest'
import { ConfigError, DEV_SIGNING_KEYS, loadConfig } from './config'

const KEYS = {
  QSTASH_CURRENT_SIGNING_KEY: 'sig_current_abcdef',
  QSTASH_NEXT_SIGNING_KEY: 'sig_next_abcdef',
}

function configError(env: object): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(loadConfig({ ...KEYS })).toMatchObject({
      ENVIRONMENT: 'development',
      QSTASH_CLOCK_TOLERANCE_SECONDS: 0,
      JOBS_MAX_BODY_BYTES: 1024 * 1024,
      JOBS_ENABLE_TEST_JOBS: false,
    })
  })

  it('names each missing variable; empty counts as missing', () => {
    const error = configError({ QSTASH_CURRENT_SIGNING_KEY: '  ' })
    expect(error.variables).toEqual(['QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY'])
    expect(error.message).toContain('QSTASH_CURRENT_SIGNING_KEY is missing')
  })

  it('names an invalid variable without echoing its value', () => {
    const secretish = 'not-a-url-but-a-secret-123'
    const error = configError({ ...KEYS, JOBS_PUBLIC_URL: secretish, JOBS_MAX_BODY_BYTES: '-5' })
    expect(error.variables).toEqual(['JOBS_PUBLIC_URL', 'JOBS_MAX_BODY_BYTES'])
    expect(error.message).not.toContain(secretish)
    expect(error.message).not.toContain('-5')
  })

  it('refuses the public dev signing keys in production', () => {
    const [current, next] = DEV_SIGNING_KEYS
    const error = configError({
      ENVIRONMENT: 'production',
      QSTASH_CURRENT_SIGNING_KEY: current,
      QSTASH_NEXT_SIGNING_KEY: next,
    })
    expect(error.variables).toEqual(['QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY'])
    expect(error.message).not.toContain(String(current))
    expect(
      loadConfig({
        ENVIRONMENT: 'staging',
        QSTASH_CURRENT_SIGNING_KEY: current,
        QSTASH_NEXT_SIGNING_KEY: next,
      }).ENVIRONMENT,
    ).toBe('staging')
  })
})
