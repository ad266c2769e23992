import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Json, jobsClient } from './support/client'
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

describe('outbound webhooks (Standard Webhooks, delivered and retried through QStash)', () => {
  interface Received {
    path: string
    headers: Record<string, string>
    body: string
  }
  const received: Received[] = []
  let receiver: Server
  let receiverUrl = ''
  let failuresLeft = 1

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      req.on('end', () => {
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
        received.push({ path: req.url ?? '', headers, body })
        // /flaky fails its first delivery, slowly (past the next second): QStash must retry it,
        // and the retry must come with a signature made when it was sent.
        if (req.url === '/flaky' && failuresLeft > 0) {
          failuresLeft--
          setTimeout(() => res.writeHead(500).end('try again'), 1100)
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
      })
    })
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((r) => receiver?.close(r))
  })

  const until = async <T>(what: string, check: () => Promise<T | undefined> | T | undefined) => {
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      const value = await check()
      if (value !== undefined) return value
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`timed out waiting for ${what}`)
  }

  it('registers endpoints (secret shown once), signs each event, retries a failing receiver', async () => {
    const bad = await client.call('/v1/webhook-endpoints', {
      method: 'POST',
      body: JSON.stringify({ url: `${receiverUrl}/ok`, events: ['job.exploded'] }),
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.param).toMatch(/^events/)
    const create = (path: string, events: string[]) =>
      client.call('/v1/webhook-endpoints', {
        method: 'POST',
        body: JSON.stringify({ url: `${receiverUrl}${path}`, events }),
      })
    const ok = await create('/ok', ['job.succeeded', 'job.dead'])
    expect(ok.status).toBe(201)
    expect(ok.body.secret).toMatch(/^whsec_/)
    const flaky = await create('/flaky', ['job.succeeded'])
    const listed = await client.call('/v1/webhook-endpoints')
    expect(listed.body.data).toHaveLength(2)
    expect(JSON.stringify(listed.body)).not.toContain(ok.body.secret.slice(6))

    // Another workspace cannot see, read the log of, or delete them.
    const other = jobsClient(s.api.url, (await s.newWorkspace()).apiKey)
    expect((await other.call('/v1/webhook-endpoints')).body.data).toEqual([])
    expect(
      (await other.call(`/v1/webhook-endpoints/${ok.body.id}`, { method: 'DELETE' })).status,
    ).toBe(404)
    expect((await other.call(`/v1/webhook-endpoints/${ok.body.id}/deliveries`)).status).toBe(404)

    const job = await client.enqueue({ type: 'system.echo', payload: { message: 'out' } })
    await client.waitFor(job.body.id, ['succeeded'])
    const event = await until('the /ok delivery', () => received.find((r) => r.path === '/ok'))
    const verified = new Webhook(ok.body.secret).verify(event.body, event.headers) as Json
    expect(verified).toMatchObject({
      type: 'job.succeeded',
      data: { id: job.body.id, status: 'succeeded', result: { message: 'out' } },
    })
    expect(event.headers['webhook-id']).toBe(`evt_${job.body.id}_succeeded`)
    // Signed with the other endpoint's secret, it does not verify.
    expect(() => new Webhook(flaky.body.secret).verify(event.body, event.headers)).toThrow()

    // The flaky receiver answered 500 once; QStash retried the same event, signed anew: a later
    // timestamp (so a receiver's 5-minute window never refuses a late retry), same webhook-id.
    const flakyHits = await until('the /flaky retry', () => {
      const hits = received.filter((r) => r.path === '/flaky')
      return hits.length >= 2 ? hits : undefined
    })
    expect(flakyHits[1]?.headers['webhook-id']).toBe(flakyHits[0]?.headers['webhook-id'])
    expect(Number(flakyHits[1]?.headers['webhook-timestamp'])).toBeGreaterThan(
      Number(flakyHits[0]?.headers['webhook-timestamp']),
    )
    expect(flakyHits[1]?.headers['webhook-signature']).not.toBe(
      flakyHits[0]?.headers['webhook-signature'],
    )
    expect(flakyHits[1]?.body).toBe(flakyHits[0]?.body)
    expect(
      new Webhook(flaky.body.secret).verify(flakyHits[1]?.body ?? '', flakyHits[1]?.headers ?? {}),
    ).toMatchObject({ type: 'job.succeeded' })

    // The delivery log shows both attempts.
    const log = await until('the delivery log', async () => {
      const r = await client.call(`/v1/webhook-endpoints/${flaky.body.id}/deliveries`)
      const d = r.body.data?.[0]
      return d?.status === 'delivered' ? d : undefined
    })
    expect(log).toMatchObject({ event_type: 'job.succeeded', attempts: 2, response_status: 200 })

    // A dead job is announced to the endpoint subscribed to job.dead only.
    const doomed = await client.enqueue({
      type: 'system.flaky',
      payload: { fail_times: 5 },
      max_attempts: 1,
    })
    await client.waitFor(doomed.body.id, ['dead'])
    const dead = await until('the job.dead delivery', () =>
      received.find((r) => r.path === '/ok' && r.body.includes('"job.dead"')),
    )
    expect(new Webhook(ok.body.secret).verify(dead.body, dead.headers)).toMatchObject({
      data: { id: doomed.body.id, status: 'dead' },
    })
    expect(received.filter((r) => r.path === '/flaky' && r.body.includes('job.dead'))).toEqual([])

    expect(
      (await client.call(`/v1/webhook-endpoints/${ok.body.id}`, { method: 'DELETE' })).status,
    ).toBe(200)
  })
})

describe('GET /v1/outbox', () => {
  it('lists what email.send wrote locally, only in the caller workspace', async () => {
    const job = await client.enqueue({
      type: 'email.send',
      payload: { to: 'ada@example.com', subject: 'Hello', text: 'From the outbox' },
    })
    await client.waitFor(job.body.id, ['succeeded'])
    const outbox = await client.call(`/v1/outbox?job_id=${job.body.id}`)
    expect(outbox.status).toBe(200)
    expect(outbox.body.data).toEqual([
      expect.objectContaining({
        object: 'email',
        job_id: job.body.id,
        to: ['ada@example.com'],
        subject: 'Hello',
        provider: 'outbox',
      }),
    ])
    const other = jobsClient(s.api.url, (await s.newWorkspace()).apiKey)
    expect((await other.call('/v1/outbox')).body.data).toEqual([])
    expect((await fetch(`${s.api.url}/v1/outbox`)).status).toBe(401)
  })
})
