import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobsClient } from './support/client'
import { type JobsStack, startJobsStack } from './support/jobs-stack'

// Inbound webhooks end to end: a source configured through the API, deliveries signed the way
// each sender signs them, the mapped job run by the worker.

let s: JobsStack
let client: ReturnType<typeof jobsClient>

beforeAll(async () => {
  s = await startJobsStack({ timeScale: 0.01 })
  client = jobsClient(s.api.url, (await s.newWorkspace()).apiKey)
})
afterAll(async () => {
  await s?.close()
})

async function newSource(scheme: string, secret?: string) {
  const created = await client.call('/v1/webhook-sources', {
    method: 'POST',
    body: JSON.stringify({ name: `${scheme} sender`, scheme, ...(secret && { secret }) }),
  })
  expect(created.status).toBe(201)
  return created.body as { id: string; secret: string; url_path: string }
}

const post = (path: string, body: string, headers: Record<string, string>) =>
  fetch(`${s.api.url}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('POST /webhooks/:source', () => {
  it('Standard Webhooks: 202 with a job that runs; a duplicate answers 200 with the same job', async () => {
    const source = await newSource('standard')
    const listed = await client.call('/v1/webhook-sources')
    expect(JSON.stringify(listed.body)).not.toContain(source.secret)
    const body = JSON.stringify({ type: 'invoice.paid', data: { amount: 42 } })
    const sign = (id: string, at = new Date()) => ({
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(source.secret).sign(id, at, body),
    })
    const first = await post(source.url_path, body, sign('msg_1'))
    expect(first.status).toBe(202)
    const { job_id } = (await first.json()) as { job_id: string }
    const done = await client.waitFor(job_id, ['succeeded'])
    expect(done).toMatchObject({
      type: 'webhook.received',
      result: { event_id: 'msg_1', event_type: 'invoice.paid' },
    })
    const again = await post(source.url_path, body, sign('msg_1'))
    expect(again.status).toBe(200)
    expect(await again.json()).toMatchObject({ job_id, duplicate: true })

    const tampered = await post(source.url_path, body.replace('42', '43'), sign('msg_2'))
    expect(tampered.status).toBe(401)
    expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_signature',
    )
    const stale = await post(
      source.url_path,
      body,
      sign('msg_3', new Date(Date.now() - 10 * 60_000)),
    )
    expect(stale.status).toBe(401)
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe('stale_timestamp')
    const forged = await post(source.url_path, body, {
      ...sign('msg_4'),
      'webhook-signature': new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign(
        'msg_4',
        new Date(),
        body,
      ),
    })
    expect(forged.status).toBe(401)
  })

  it('Stripe-style and GitHub-style signatures', async () => {
    const stripe = await newSource('stripe', 'whsec_stripe_test_secret_123456')
    const body = JSON.stringify({ id: 'evt_1', type: 'charge.succeeded', data: {} })
    const t = Math.floor(Date.now() / 1000)
    const v1 = createHmac('sha256', 'whsec_stripe_test_secret_123456')
      .update(`${t}.${body}`)
      .digest('hex')
    const ok = await post(stripe.url_path, body, { 'stripe-signature': `t=${t},v1=${v1}` })
    expect(ok.status).toBe(202)
    const old = t - 600
    const oldSig = createHmac('sha256', 'whsec_stripe_test_secret_123456')
      .update(`${old}.${body}`)
      .digest('hex')
    expect(
      (await post(stripe.url_path, body, { 'stripe-signature': `t=${old},v1=${oldSig}` })).status,
    ).toBe(401)
    expect(
      (await post(stripe.url_path, body, { 'stripe-signature': `t=${t},v1=${'0'.repeat(64)}` }))
        .status,
    ).toBe(401)

    const github = await newSource('github', 'github-secret-0123456789')
    const push = JSON.stringify({ ref: 'refs/heads/main' })
    const sig = `sha256=${createHmac('sha256', 'github-secret-0123456789').update(push).digest('hex')}`
    const headers = {
      'x-hub-signature-256': sig,
      'x-github-delivery': 'd-1',
      'x-github-event': 'push',
    }
    const accepted = await post(github.url_path, push, headers)
    expect(accepted.status).toBe(202)
    const { job_id } = (await accepted.json()) as { job_id: string }
    expect((await client.waitFor(job_id, ['succeeded'])).result).toMatchObject({
      event_type: 'push',
    })
    const dup = await post(github.url_path, push, headers)
    expect(await dup.json()).toMatchObject({ job_id, duplicate: true })
    expect((await post(github.url_path, `${push} `, headers)).status).toBe(401)
  })

  it('unknown source → 404; a mapping to a job type that takes no webhooks → 400', async () => {
    const unknown = await post('/webhooks/00000000-0000-4000-8000-000000000000', '{}', {})
    expect(unknown.status).toBe(404)
    expect((await post('/webhooks/not-a-uuid', '{}', {})).status).toBe(404)
    const bad = await client.call('/v1/webhook-sources', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scheme: 'standard', mappings: { '*': 'email.send' } }),
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.param).toBe('mappings.*')
  })
})
