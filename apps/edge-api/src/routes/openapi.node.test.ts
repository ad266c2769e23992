import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { app } from '../app'

// Runs under Node: the validator compiles JSON Schemas with `new Function`, which workerd
// forbids. The app itself is Web-standard, so the same code produces the document here.
const bindings = {
  DATABASE_URL: 'postgres://u:p@db.example/app',
  UPSTASH_REDIS_REST_URL: 'https://redis.example',
  UPSTASH_REDIS_REST_TOKEN: 'redis-token-abcdef',
  QSTASH_TOKEN: 'qstash-token-abcdef',
  QSTASH_CURRENT_SIGNING_KEY: 'sig_current_abcdef',
  QSTASH_NEXT_SIGNING_KEY: 'sig_next_abcdef',
}

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document that lists /health', async () => {
    const res = await app.request('/openapi.json', {}, bindings)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> }
    const validator = new Validator()
    const result = await validator.validate(doc)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
    expect(doc.paths).toHaveProperty('/health')
  })

  it('the validator rejects a broken document (so the check can fail)', async () => {
    const result = await new Validator().validate({ openapi: '3.1.0', paths: { health: 1 } })
    expect(result.valid).toBe(false)
  })
})
