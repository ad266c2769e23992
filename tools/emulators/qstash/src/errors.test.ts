import { Client, type Message, QstashError, type Schedule } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type QStashEmulator, startQStashEmulator } from './index'
import { type Endpoint, sleep, startEndpoint, waitFor } from './test-support'

let emu: QStashEmulator
let endpoint: Endpoint
let client: Client

/** What is stored before any bad request, as the API shows it then. */
let stored: {
  delayed: Message
  schedule: Schedule
  dlqEntry: Awaited<ReturnType<Client['dlq']['listMessages']>>['messages'][number]
  queue: Awaited<ReturnType<ReturnType<Client['queue']>['get']>>
}

beforeAll(async () => {
  emu = await startQStashEmulator({ port: 0, timeScale: 0.01, token: 'secret-token-123' })
  endpoint = await startEndpoint((d) => (d.path === '/dead' ? { status: 500 } : undefined))
  client = new Client({ baseUrl: emu.url, token: emu.token, retry: false })
  // 200 s at timeScale 0.01: due 2 s from now, after the bad requests below on most machines
  const { messageId } = await client.publish({
    url: `${endpoint.url}/delayed`,
    body: 'later',
    delay: 200,
  })
  const { scheduleId } = await client.schedules.create({
    destination: `${endpoint.url}/scheduled`,
    cron: '0 0 1 1 *',
  })
  const dead = await client.publish({ url: `${endpoint.url}/dead`, body: 'dead', retries: 0 })
  await client.queue({ queueName: 'kept' }).upsert({ parallelism: 3 })
  const dlq = await waitFor(async () => {
    const list = await client.dlq.listMessages({ filter: { messageId: dead.messageId } })
    return list.messages[0]
  })
  stored = {
    delayed: await client.messages.get(messageId),
    schedule: await client.schedules.get(scheduleId),
    dlqEntry: dlq,
    queue: await client.queue({ queueName: 'kept' }).get(),
  }
})

afterAll(async () => {
  await emu.close()
  await endpoint.close()
})

async function call(path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers = new Headers(init.headers)
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? emu.token}`)
  const res = await fetch(`${emu.url}${path}`, { ...init, headers })
  const text = await res.text()
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined }
}

const deliveriesOf = (messageId: string) =>
  endpoint.deliveries.filter((d) => d.headers['upstash-message-id'] === messageId)

/** Everything stored before the bad requests is still there, unchanged. */
async function storedStateIsIntact() {
  const id = stored.delayed.messageId
  const pending = await client.messages.get(id).catch((error: unknown) => error)
  if (pending instanceof QstashError) {
    // only once it was delivered (a slow run can reach its due time): the endpoint records a
    // delivery before answering, and the message is removed after the answer
    expect(pending.status).toBe(404)
    expect(deliveriesOf(id)).toHaveLength(1)
  } else {
    expect(pending).toEqual(stored.delayed)
  }
  expect(await client.schedules.get(stored.schedule.scheduleId)).toEqual(stored.schedule)
  const dlq = await client.dlq.listMessages({ filter: { messageId: stored.dlqEntry.messageId } })
  expect(dlq.messages).toEqual([stored.dlqEntry])
  expect(await client.queue({ queueName: 'kept' }).get()).toEqual(stored.queue)
}

/** The emulator still answers and delivers, and lost nothing it held before. */
async function stillWorks() {
  const { messageId } = await client.publish({ url: `${endpoint.url}/alive`, body: 'ok' })
  await waitFor(() => deliveriesOf(messageId)[0])
  await storedStateIsIntact()
}

describe('bad input gets QStash error bodies and the emulator keeps working', () => {
  it('401 for a missing or wrong token, without echoing it', async () => {
    const missing = await call('/v2/messages/x', { token: null })
    expect(missing).toMatchObject({ status: 401, json: { error: 'Unauthorized' } })
    const wrong = await call(`/v2/publish/${endpoint.url}/x`, {
      method: 'POST',
      token: 'guess-123',
    })
    expect(wrong.status).toBe(401)
    expect(wrong.text).not.toContain('guess-123')
    expect(wrong.text).not.toContain('secret-token-123')
    const sdk = new Client({ baseUrl: emu.url, token: 'nope', retry: false })
    await expect(sdk.publish({ url: `${endpoint.url}/x`, body: '' })).rejects.toBeInstanceOf(
      QstashError,
    )
    await stillWorks()
  })

  it('400 for a bad destination', async () => {
    const noScheme = await call('/v2/publish/example.com/hook', { method: 'POST', body: 'x' })
    expect(noScheme).toEqual({
      status: 400,
      text: expect.any(String),
      json: {
        error: 'invalid destination url: endpoint has invalid scheme, add http:// or https://',
      },
    })
    const ftp = await call('/v2/publish/ftp://example.com/x', { method: 'POST' })
    expect(ftp.status).toBe(400)
    await expect(client.publish({ url: 'not a url', body: '' })).rejects.toMatchObject({
      status: 400,
    })
    await stillWorks()
  })

  it('400 for bad delay, retries, method, not-before, timeout, retry delay and callback', async () => {
    const dest = `/v2/publish/${endpoint.url}/never`
    const cases: Record<string, string>[] = [
      { 'Upstash-Delay': 'soon' },
      { 'Upstash-Delay': '10' },
      { 'Upstash-Delay': '-5s' },
      { 'Upstash-Retries': 'many' },
      { 'Upstash-Retries': '-1' },
      { 'Upstash-Method': 'TELEPORT' },
      { 'Upstash-Not-Before': 'tomorrow' },
      { 'Upstash-Timeout': '0s' },
      { 'Upstash-Retry-Delay': 'pow(2,' },
      { 'Upstash-Retry-Delay': 'process.exit(1)' },
      { 'Upstash-Callback': 'localhost:1234/cb' },
      { 'Upstash-Content-Based-Deduplication': 'maybe' },
      { 'Upstash-Flow-Control-Key': 'k', 'Upstash-Flow-Control-Value': 'parallelism=zero' },
    ]
    for (const headers of cases) {
      const res = await call(dest, { method: 'POST', headers, body: 'x' })
      expect(res.status, JSON.stringify(headers)).toBe(400)
      expect(res.json, JSON.stringify(headers)).toEqual({ error: expect.any(String) })
    }
    await expect(
      client.publish({ url: `${endpoint.url}/never`, body: '', delay: 'later' as never }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Upstash-Delay') })
    expect(endpoint.deliveries.filter((d) => d.path === '/never')).toHaveLength(0)
    await stillWorks()
  })

  it('400 for bad changes to the stored queue and schedule, which stay as they were', async () => {
    const json = { 'content-type': 'application/json' }
    for (const body of [
      JSON.stringify({ queueName: 'kept', parallelism: 0 }),
      JSON.stringify({ queueName: 'kept', parallelism: 1, paused: 'yes' }),
      '{"queueName":"kept",',
    ]) {
      const res = await call('/v2/queues', { method: 'POST', headers: json, body })
      expect(res.status, body).toBe(400)
      expect(res.json, body).toEqual({ error: expect.any(String) })
    }
    const id = stored.schedule.scheduleId
    const badUpdates: Record<string, string>[] = [
      { 'Upstash-Cron': 'every minute', 'Upstash-Schedule-Id': id },
      { 'Upstash-Cron': '* * * * *', 'Upstash-Schedule-Id': id, 'Upstash-Delay': 'soon' },
      { 'Upstash-Cron': '* * * * *', 'Upstash-Schedule-Id': id, 'Upstash-Retries': '-1' },
    ]
    for (const headers of badUpdates) {
      const res = await call(`/v2/schedules/${endpoint.url}/scheduled`, {
        method: 'POST',
        headers,
        body: 'replaced',
      })
      expect(res.status, JSON.stringify(headers)).toBe(400)
      expect(res.json, JSON.stringify(headers)).toEqual({ error: expect.any(String) })
    }
    await stillWorks()
  })

  it('404 with the error shape for unknown message, DLQ entry, queue and schedule ids', async () => {
    for (const [method, path] of [
      ['GET', '/v2/messages/msg_missing'],
      ['DELETE', '/v2/messages/msg_missing'],
      ['GET', '/v2/dlq/1-1'],
      ['DELETE', '/v2/dlq/1-1'],
      ['POST', '/v2/dlq/retry/1-1'],
      ['GET', '/v2/queues/none'],
      ['GET', '/v2/schedules/none'],
      ['DELETE', '/v2/schedules/none'],
    ] as const) {
      const res = await call(path, { method })
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.json, `${method} ${path}`).toEqual({ error: expect.any(String) })
    }
    await expect(client.messages.get('msg_missing')).rejects.toMatchObject({ status: 404 })
    await stillWorks()
  })

  it('400 for a malformed batch, and nothing from a partly bad batch is published', async () => {
    const headers = { 'content-type': 'application/json' }
    const notJson = await call('/v2/batch', { method: 'POST', headers, body: '[{"destination":' })
    expect(notJson).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining('parse') },
    })
    const notArray = await call('/v2/batch', {
      method: 'POST',
      headers,
      body: '{"destination":"x"}',
    })
    expect(notArray.status).toBe(400)
    const partlyBad = await call('/v2/batch', {
      method: 'POST',
      headers,
      body: JSON.stringify([
        { destination: `${endpoint.url}/batch-ok`, body: 'a' },
        { destination: 'nope', body: 'b' },
      ]),
    })
    expect(partlyBad.status).toBe(400)
    expect(partlyBad.json.error).toMatch(/^batch\[1\]: invalid destination url/)
    const badHeaders = await call('/v2/batch', {
      method: 'POST',
      headers,
      body: JSON.stringify([
        { destination: `${endpoint.url}/batch-ok`, headers: { 'Upstash-Delay': 'x' } },
      ]),
    })
    expect(badHeaders.status).toBe(400)
    await stillWorks()
    expect(endpoint.deliveries.filter((d) => d.path === '/batch-ok')).toHaveLength(0)
  })

  it('answers unknown routes with 404 JSON and oversize bodies with 413', async () => {
    expect(await call('/v2/nothing-here')).toMatchObject({
      status: 404,
      json: { error: 'not found' },
    })
    const big = await call(`/v2/publish/${endpoint.url}/big`, {
      method: 'POST',
      body: new Uint8Array(11 * 1024 * 1024),
    })
    expect(big.status).toBe(413)
    expect(big.json).toEqual({ error: expect.any(String) })
    await stillWorks()
  })

  it('after all of that, the delayed message stored before is still delivered, once and on time', async () => {
    await storedStateIsIntact()
    const id = stored.delayed.messageId
    const d = await waitFor(() => deliveriesOf(id)[0], 10_000, 'the delayed message')
    expect(d.at).toBeGreaterThanOrEqual(stored.delayed.notBefore as number)
    expect(d.body).toBe('later')
    await sleep(100)
    expect(deliveriesOf(id)).toHaveLength(1)
    await expect(client.messages.get(id)).rejects.toMatchObject({ status: 404 })
    // the one dead-lettered attempt, and nothing of the schedule (due on 1 January)
    expect(endpoint.deliveries.filter((x) => x.path === '/dead')).toHaveLength(1)
    expect(endpoint.deliveries.filter((x) => x.path === '/scheduled')).toHaveLength(0)
  })
})
