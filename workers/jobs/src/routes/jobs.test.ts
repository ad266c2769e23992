import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { signDelivery } from '../../test/support/qstash-token'
import { createApp } from '../app'

const BASE = 'http://jobs.test'

async function deliver(type: string, body: string, headers: Record<string, string> = {}) {
  const url = `${BASE}/jobs/${type}`
  const token = await signDelivery({ url, body, key: env.QSTASH_CURRENT_SIGNING_KEY })
  return exports.default.fetch(
    new Request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'upstash-signature': token, ...headers },
    }),
  )
}

type ErrorJson = { error: { type: string; code: string; message: string; param?: string } }

async function expectNonRetryable(response: Response, code: string): Promise<ErrorJson> {
  expect(response.status).toBe(489)
  expect(response.headers.get('upstash-nonretryable-error')).toBe('true')
  const json = (await response.json()) as ErrorJson
  expect(json.error.code).toBe(code)
  return json
}

describe('POST /jobs/:type (workerd)', () => {
  it('runs system.echo and reports message id and retry count', async () => {
    const body = JSON.stringify({ message: 'ping', data: { sent_at: 123, tags: ['a'] } })
    const response = await deliver('system.echo', body, {
      'upstash-message-id': 'msg_123',
      'upstash-retried': '2',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      type: 'system.echo',
      message_id: 'msg_123',
      retried: 2,
      result: { message: 'ping', data: { sent_at: 123, tags: ['a'] } },
    })
  })

  it('answers an unknown type with a non-retryable not_found_error', async () => {
    const json = await expectNonRetryable(await deliver('system.nope', '{}'), 'unknown_job_type')
    expect(json.error.type).toBe('not_found_error')
    expect(json.error.message).toContain('system.nope')
  })

  it('answers a bad payload with a non-retryable error naming the field', async () => {
    const wrongType = await expectNonRetryable(
      await deliver('system.echo', JSON.stringify({ message: 42 })),
      'invalid_payload',
    )
    expect(wrongType.error).toMatchObject({ type: 'invalid_request_error', param: 'message' })
    expect(wrongType.error.message).toContain('message')

    const missing = await expectNonRetryable(await deliver('system.echo', '{}'), 'invalid_payload')
    expect(missing.error.param).toBe('message')

    const extra = await expectNonRetryable(
      await deliver('system.echo', JSON.stringify({ message: 'x', surprise: true })),
      'invalid_payload',
    )
    expect(extra.error.param).toBe('surprise')
  })

  it('answers a body that is not JSON with a non-retryable invalid_json', async () => {
    await expectNonRetryable(await deliver('system.echo', '{"message":'), 'invalid_json')
  })

  it('answers a handler failure with 500 so QStash retries, without leaking the error text', async () => {
    const response = await deliver('system.flaky', JSON.stringify({ fail_times: 1 }))
    expect(response.status).toBe(500)
    expect(response.headers.get('upstash-nonretryable-error')).toBeNull()
    const json = (await response.json()) as ErrorJson
    expect(json.error).toMatchObject({ type: 'job_error', code: 'job_failed' })
    expect(json.error.message).not.toContain('attempt')
  })

  it('succeeds on the retry that QStash marks with Upstash-Retried', async () => {
    const response = await deliver('system.flaky', JSON.stringify({ fail_times: 1, data: 'ok' }), {
      'upstash-retried': '1',
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ retried: 1, result: { attempts: 2, data: 'ok' } })
  })

  it('answers a signed request to an unknown route with a non-retryable 489', async () => {
    await expectNonRetryable(await deliver('system.echo/extra', '{}'), 'route_not_found')
  })
})

describe('test-only jobs', () => {
  it('are not registered where JOBS_ENABLE_TEST_JOBS is false', async () => {
    const app = createApp()
    const bindings = { ...env, JOBS_ENABLE_TEST_JOBS: 'false' }
    const url = `${BASE}/jobs/system.flaky`
    const body = JSON.stringify({ fail_times: 0 })
    const token = await signDelivery({ url, body, key: env.QSTASH_CURRENT_SIGNING_KEY })
    const response = await app.request(
      url,
      { method: 'POST', body, headers: { 'upstash-signature': token } },
      bindings,
    )
    await expectNonRetryable(response, 'unknown_job_type')
    const health = await app.request(`${BASE}/health`, {}, bindings)
    const types = ((await health.json()) as { job_types: string[] }).job_types
    expect(types).toContain('system.echo')
    expect(types).not.toContain('system.flaky')
    expect(types).not.toContain('system.sleep')
  })
})
