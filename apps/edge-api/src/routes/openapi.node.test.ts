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

  it('lists every route of the app, with security schemes on the protected ones', async () => {
    const res = await app.request('/openapi.json', {}, bindings)
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>
      components: { securitySchemes: Record<string, { type: string }> }
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map(
        (method) => `${method.toUpperCase()} ${path.replace(/{(\w+)}/g, ':$1')}`,
      ),
    )
    // Every route the app serves, except the document itself and the reference page.
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && !['/openapi.json', '/docs'].includes(r.path))
      .filter((r) => !r.path.startsWith('/_bench/')) // bench-only, off unless BENCH_ROUTES=true
      .map((r) => `${r.method} ${r.path}`)
    expect([...new Set(served)].sort()).toEqual(documented.sort())
    for (const route of [
      'POST /v1/auth/signup',
      'POST /v1/auth/login',
      'POST /v1/auth/logout',
      'GET /v1/me',
      'GET /v1/workspaces',
      'POST /v1/workspaces/:workspace_id/members',
      'DELETE /v1/api-keys/:key_id',
      'GET /v1/usage',
      'POST /v1/embeddings',
    ]) {
      expect(documented).toContain(route)
    }
    expect(doc.components.securitySchemes.bearerAuth?.type).toBe('http')
    expect(doc.components.securitySchemes.cookieAuth?.type).toBe('apiKey')
    expect(doc.paths['/v1/api-keys']?.post?.security).toEqual([
      { bearerAuth: [] },
      { cookieAuth: [] },
    ])
    expect(doc.paths['/v1/auth/login']?.post?.security).toBeUndefined()
  })

  it('the validator rejects a broken document (so the check can fail)', async () => {
    const result = await new Validator().validate({ openapi: '3.1.0', paths: { health: 1 } })
    expect(result.valid).toBe(false)
  })
})
