import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { signDelivery } from '../../test/support/qstash-token'
import { createApp } from '../app'

const BASE = 'http://jobs.test'
const URL_ = `${BASE}/workflows/document.summarize`
// an unreachable QStash: a request that got past verification would fail to publish its step
const bindings = { ...env, QSTASH_URL: 'http://127.0.0.1:9', QSTASH_TOKEN: 'test-token' }
const history = JSON.stringify([
  {
    messageId: 'msg_1',
    callType: 'step',
    body: btoa(JSON.stringify({ job_id: crypto.randomUUID(), attempt: 1, workflow: 'x' })),
  },
])
const callHeaders = { 'Upstash-Workflow-RunId': 'wfr_t', 'Upstash-Workflow-Sdk-Version': '1' }

describe('workflow endpoint (workerd)', () => {
  it('refuses an unsigned call with 401, like every worker route', async () => {
    const response = await createApp().request(
      URL_,
      { method: 'POST', body: history, headers: callHeaders },
      bindings,
    )
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'missing_signature' },
    })
  })

  it('lets the SDK refuse a call signed with another key, before any step runs', async () => {
    const signature = await signDelivery({ url: URL_, body: history, key: 'sig_not_the_key' })
    const response = await createApp().request(
      URL_,
      {
        method: 'POST',
        body: history,
        headers: { ...callHeaders, 'Upstash-Signature': signature },
      },
      bindings,
    )
    expect(response.status).toBe(500)
    expect(((await response.json()) as { message: string }).message).toMatch(
      /Failed to verify that the Workflow request comes from QStash/,
    )
  })

  it('answers an unknown workflow with a non-retryable 489', async () => {
    const body = '[]'
    const url = `${BASE}/workflows/no.such`
    const signature = await signDelivery({ url, body, key: env.QSTASH_CURRENT_SIGNING_KEY })
    const response = await createApp().request(
      url,
      { method: 'POST', body, headers: { 'Upstash-Signature': signature } },
      bindings,
    )
    expect(response.status).toBe(489)
    expect(response.headers.get('Upstash-NonRetryable-Error')).toBe('true')
    expect(await response.json()).toMatchObject({ error: { code: 'unknown_workflow' } })
  })
})
