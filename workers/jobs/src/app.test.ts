import { env } from 'cloudflare:workers'
import { listJobTypes } from '@synthstack/jobs'
import { describe, expect, it } from 'vitest'
import { signDelivery } from '../test/support/qstash-token'
import { createApp } from './app'

const BASE = 'http://jobs.test'

describe('app (workerd)', () => {
  it('GET /health reports the service and its job types without a signature', async () => {
    const response = await createApp().request(`${BASE}/health`, {}, env)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      status: 'ok',
      service: 'synthstack-jobs',
      environment: 'test',
      job_types: listJobTypes(true),
    })
    expect(response.headers.get('x-request-id')).toMatch(/\S/)
  })

  it('names a missing variable in the error, never a value, and still answers JSON', async () => {
    const bindings = { ...env, QSTASH_NEXT_SIGNING_KEY: '' }
    const app = createApp()
    const health = await app.request(`${BASE}/health`, {}, bindings)
    expect(health.status).toBe(503)
    const json = (await health.json()) as { error: { code: string; message: string } }
    expect(json.error.code).toBe('config_invalid')
    expect(json.error.message).toContain('QSTASH_NEXT_SIGNING_KEY')
    expect(JSON.stringify(json)).not.toContain(env.QSTASH_CURRENT_SIGNING_KEY)

    const job = await app.request(
      `${BASE}/jobs/system.echo`,
      { method: 'POST', body: '{}' },
      bindings,
    )
    expect(job.status).toBe(500)
    expect(await job.json()).toMatchObject({
      error: { type: 'server_error', code: 'config_invalid' },
    })
  })

  it('verifies against JOBS_PUBLIC_URL when the worker sits behind a proxy', async () => {
    const bindings = { ...env, JOBS_PUBLIC_URL: 'https://jobs.example.com/worker' }
    const app = createApp()
    const body = JSON.stringify({ message: 'via proxy' })
    const publicToken = await signDelivery({
      url: 'https://jobs.example.com/worker/jobs/system.echo',
      body,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
    })
    const internalUrl = 'http://10.0.0.7:8787/jobs/system.echo'
    const ok = await app.request(
      internalUrl,
      { method: 'POST', body, headers: { 'upstash-signature': publicToken } },
      bindings,
    )
    expect(ok.status).toBe(200)

    const internalToken = await signDelivery({
      url: internalUrl,
      body,
      key: env.QSTASH_CURRENT_SIGNING_KEY,
    })
    const rejected = await app.request(
      internalUrl,
      { method: 'POST', body, headers: { 'upstash-signature': internalToken } },
      bindings,
    )
    expect(rejected.status).toBe(401)
  })
})
