import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { Env } from '../env'
import worker from '../index'

interface HealthBody {
  status: 'ok' | 'degraded' | 'down'
  version: string
  checks: Record<
    'postgres' | 'redis' | 'qstash' | 'ml_node' | 'vectors',
    { status: string; latency_ms: number | null; error?: string; detail?: string }
  >
}

/** Calls the Worker with bindings changed from the test stack's. */
async function healthWith(changes: Partial<Env>) {
  const ctx = createExecutionContext()
  const res = await worker.fetch(
    new Request('http://edge.test/health'),
    { ...env, ...changes } as Env,
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return { res, body: (await res.json()) as HealthBody }
}

/** A port nothing listens on (tcpmux). */
const CLOSED = 'http://127.0.0.1:1'

describe('GET /health', () => {
  it('is ok when every configured dependency answers', async () => {
    const res = await SELF.fetch('http://edge.test/health')
    const body = (await res.json()) as HealthBody
    expect(body.checks.postgres).toMatchObject({ status: 'ok' })
    expect(body.checks.redis).toMatchObject({ status: 'ok' })
    expect(body.checks.qstash).toMatchObject({ status: 'ok' })
    expect(body.checks.vectors.status).toBe('ok')
    expect(body.checks.vectors.detail).toMatch(/^pgvector \d+\.\d+/)
    // The test setup starts a real ml-node (test/global-setup.ts).
    expect(body.checks.ml_node).toMatchObject({ status: 'ok' })
    expect(body.status).toBe('ok')
    expect(res.status).toBe(200)
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(body.checks.postgres.latency_ms).toBeGreaterThanOrEqual(0)
    expect(res.headers.get('X-Request-Id')).toMatch(/^req_[0-9a-f]{32}$/)
    expect(res.headers.get('Cache-Control')).toBe('no-store')
  })

  it('answers 503 degraded when Redis points at a closed port', async () => {
    const { res, body } = await healthWith({ UPSTASH_REDIS_REST_URL: CLOSED })
    expect(res.status).toBe(503)
    expect(body.status).toBe('degraded')
    expect(body.checks.redis.status).toBe('error')
    expect(body.checks.redis.error).toBeTruthy()
    expect(body.checks.postgres.status).toBe('ok')
    expect(JSON.stringify(body)).not.toContain(env.UPSTASH_REDIS_REST_TOKEN as string)
  })

  it('reports a rejected Redis token without echoing either token', async () => {
    const wrong = 'wrong-token-7d1f0c2a9b'
    const { res, body } = await healthWith({ UPSTASH_REDIS_REST_TOKEN: wrong })
    expect(res.status).toBe(503)
    expect(body.checks.redis.status).toBe('error')
    const text = JSON.stringify(body)
    expect(text).not.toContain(wrong)
    expect(text).not.toContain(env.UPSTASH_REDIS_REST_TOKEN as string)
  })

  it('reports QStash and the ml-node when they cannot be reached', async () => {
    const { res, body } = await healthWith({
      QSTASH_TOKEN: 'wrong-qstash-token-123',
      ML_NODE_URL: CLOSED,
      ML_NODE_API_KEY: 'ml-secret-key-456',
    })
    expect(res.status).toBe(503)
    expect(body.checks.qstash.status).toBe('error')
    expect(body.checks.ml_node.status).toBe('error')
    const text = JSON.stringify(body)
    expect(text).not.toContain('wrong-qstash-token-123')
    expect(text).not.toContain('ml-secret-key-456')
  })

  it('is down when every configured dependency fails', async () => {
    const { res, body } = await healthWith({
      NEON_EMULATOR_URL: CLOSED,
      UPSTASH_REDIS_REST_URL: CLOSED,
      QSTASH_URL: CLOSED,
      ML_NODE_URL: CLOSED,
    })
    expect(res.status).toBe(503)
    expect(body.status).toBe('down')
    expect(body.checks.postgres.status).toBe('error')
    expect(body.checks.vectors.status).toBe('error')
    expect(JSON.stringify(body)).not.toContain('postgres:postgres@')
  })
})
