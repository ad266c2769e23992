import { createExecutionContext, env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { ConfigError, getConfig, parseConfig } from './config'
import type { Env } from './env'
import worker from './index'

const valid: Env = {
  DATABASE_URL: 'postgres://app:db-password-123@db.example/app',
  UPSTASH_REDIS_REST_URL: 'https://redis.example',
  UPSTASH_REDIS_REST_TOKEN: 'redis-token-abcdef',
  QSTASH_TOKEN: 'qstash-token-abcdef',
  QSTASH_CURRENT_SIGNING_KEY: 'sig_current_abcdef',
  QSTASH_NEXT_SIGNING_KEY: 'sig_next_abcdef',
}

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('parseConfig', () => {
  it('applies defaults for optional variables', () => {
    const config = parseConfig(valid)
    expect(config).toMatchObject({
      ENVIRONMENT: 'development',
      VECTOR_BACKEND: 'pgvector',
      QSTASH_URL: 'https://qstash.upstash.io',
      CORS_ORIGINS: [],
      HEALTH_CHECK_TIMEOUT_MS: 2000,
    })
    expect(config.ML_NODE_URL).toBeUndefined()
  })

  it('parses lists and numbers from strings', () => {
    const config = parseConfig({
      ...valid,
      CORS_ORIGINS: 'http://localhost:3050, https://app.example ,',
      HEALTH_CHECK_TIMEOUT_MS: '750',
    })
    expect(config.CORS_ORIGINS).toEqual(['http://localhost:3050', 'https://app.example'])
    expect(config.HEALTH_CHECK_TIMEOUT_MS).toBe(750)
  })

  it('names a missing variable; an empty one counts as missing', () => {
    expect(errorOf(() => parseConfig({ ...valid, DATABASE_URL: undefined })).message).toBe(
      'Invalid configuration: DATABASE_URL is required',
    )
    expect(errorOf(() => parseConfig({ ...valid, QSTASH_TOKEN: '' })).message).toBe(
      'Invalid configuration: QSTASH_TOKEN is required',
    )
  })

  it('names a bad variable without echoing its value', () => {
    const error = errorOf(() =>
      parseConfig({
        ...valid,
        DATABASE_URL: 'mysql://root:leaked-pw@db/app',
        VECTOR_BACKEND: 'faiss-leak',
        HEALTH_CHECK_TIMEOUT_MS: 'soon',
      }),
    )
    expect(error.issues.map((i) => i.variable).sort()).toEqual([
      'DATABASE_URL',
      'HEALTH_CHECK_TIMEOUT_MS',
      'VECTOR_BACKEND',
    ])
    expect(error.message).toContain('DATABASE_URL must be a postgres:// connection string')
    expect(error.message).not.toMatch(/leaked-pw|faiss-leak|soon/)
  })

  it('requires QDRANT_URL for the qdrant backend and refuses the emulator in production', () => {
    expect(errorOf(() => parseConfig({ ...valid, VECTOR_BACKEND: 'qdrant' })).message).toBe(
      'Invalid configuration: QDRANT_URL is required when VECTOR_BACKEND is qdrant',
    )
    const prod = { ...valid, ENVIRONMENT: 'production', NEON_EMULATOR_URL: 'http://127.0.0.1:4444' }
    expect(errorOf(() => parseConfig(prod)).issues[0]?.variable).toBe('NEON_EMULATOR_URL')
  })

  it('validates once per env object', () => {
    const bindings: Env = { ...valid }
    const first = getConfig(bindings)
    bindings.DATABASE_URL = undefined // bindings never change within an isolate
    expect(getConfig(bindings)).toBe(first)
    const broken: Env = { ...valid, UPSTASH_REDIS_REST_URL: 'redis.example' }
    expect(() => getConfig(broken)).toThrow(ConfigError)
    expect(() => getConfig(broken)).toThrow(/UPSTASH_REDIS_REST_URL must be an http\(s\) URL/)
  })
})

describe('a request with invalid configuration', () => {
  it('answers 500 config_invalid naming the variable, never a value', async () => {
    const bindings = { ...env, DATABASE_URL: undefined } as Env
    const res = await worker.fetch(
      new Request('http://edge.test/health'),
      bindings,
      createExecutionContext(),
    )
    expect(res.status).toBe(500)
    const body = (await res.json()) as { error: Record<string, unknown> }
    expect(body.error).toMatchObject({
      type: 'server_error',
      code: 'config_invalid',
      message: 'Invalid configuration: DATABASE_URL is required',
      param: 'DATABASE_URL',
    })
    expect(body.error.request_id).toBe(res.headers.get('X-Request-Id'))
    const text = JSON.stringify(body)
    for (const secret of [env.UPSTASH_REDIS_REST_TOKEN, env.QSTASH_TOKEN]) {
      expect(text).not.toContain(secret as string)
    }
  })
})
