import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { signDelivery } from '../../test/support/qstash-token'

// Delivery itself (sign, send, retry signed anew, log) runs end to end in
// tests/e2e/jobs-webhooks.test.ts, against a real receiver and the QStash emulator.
const BASE = 'http://jobs.test'

async function post(path: string, signed = true) {
  const url = `${BASE}${path}`
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (signed) {
    headers['upstash-signature'] = await signDelivery({
      url,
      body: '',
      key: env.QSTASH_CURRENT_SIGNING_KEY,
    })
  }
  return exports.default.fetch(new Request(url, { method: 'POST', headers }))
}

describe('POST /webhooks/deliver (workerd)', () => {
  it('refuses an unsigned request', async () => {
    const response = await post(`/webhooks/deliver?delivery_id=${crypto.randomUUID()}`, false)
    expect(response.status).toBe(401)
  })

  it('refuses a bad delivery_id without a retry, naming the parameter', async () => {
    for (const path of ['/webhooks/deliver', '/webhooks/deliver?delivery_id=42']) {
      const response = await post(path)
      expect(response.status).toBe(489)
      expect(response.headers.get('upstash-nonretryable-error')).toBe('true')
      const json = (await response.json()) as { error: { code: string; param?: string } }
      expect(json.error).toMatchObject({ code: 'invalid_delivery_id', param: 'delivery_id' })
    }
  })
})
