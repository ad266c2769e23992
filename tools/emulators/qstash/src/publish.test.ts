import { Client, Receiver } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type QStashEmulator, startQStashEmulator } from './index'
import { type Endpoint, sleep, startEndpoint, waitFor } from './test-support'

let emu: QStashEmulator
let endpoint: Endpoint
let client: Client

beforeAll(async () => {
  emu = await startQStashEmulator({ port: 0, timeScale: 0.01 })
  endpoint = await startEndpoint()
  client = new Client({ baseUrl: emu.url, token: emu.token, retry: false })
})

afterAll(async () => {
  await emu.close()
  await endpoint.close()
})

const receiver = () =>
  new Receiver({ currentSigningKey: emu.currentSigningKey, nextSigningKey: emu.nextSigningKey })

describe('publish and deliver', () => {
  it('delivers a signed message that Receiver.verify accepts, with forwarded headers', async () => {
    const url = `${endpoint.url}/hook?x=1`
    const { messageId } = await client.publishJSON({
      url,
      body: { hello: 'world' },
      headers: { 'X-Tenant': 'acme' },
    })
    expect(messageId).toMatch(/^msg_/)
    const d = await waitFor(() =>
      endpoint.deliveries.find((x) => x.headers['upstash-message-id'] === messageId),
    )
    expect(d.path).toBe('/hook?x=1')
    expect(d.method).toBe('POST')
    expect(JSON.parse(d.body)).toEqual({ hello: 'world' })
    expect(d.headers['content-type']).toBe('application/json')
    expect(d.headers['x-tenant']).toBe('acme')
    expect(d.headers['upstash-retried']).toBe('0')
    expect(d.headers['user-agent']).toBe('Upstash-QStash')
    const signature = d.headers['upstash-signature'] as string
    await expect(receiver().verify({ signature, body: d.body, url })).resolves.toBe(true)
    // the next key alone also verifies (key rotation)
    const nextOnly = new Receiver({
      currentSigningKey: 'sig_wrong',
      nextSigningKey: emu.currentSigningKey,
    })
    await expect(nextOnly.verify({ signature, body: d.body, url })).resolves.toBe(true)
  })

  it('signatures fail for a tampered body, wrong keys, a wrong URL and an expired token', async () => {
    const url = `${endpoint.url}/verify`
    const { messageId } = await client.publish({ url, body: 'payload' })
    const d = await waitFor(() =>
      endpoint.deliveries.find((x) => x.headers['upstash-message-id'] === messageId),
    )
    const signature = d.headers['upstash-signature'] as string
    await expect(receiver().verify({ signature, body: 'payload!', url })).rejects.toThrow(
      /body hash/,
    )
    await expect(
      receiver().verify({ signature, body: 'payload', url: `${url}/other` }),
    ).rejects.toThrow(/invalid subject/)
    const wrong = new Receiver({ currentSigningKey: 'sig_a', nextSigningKey: 'sig_b' })
    await expect(wrong.verify({ signature, body: 'payload', url })).rejects.toThrow()
    // the emulator's token expires 5 minutes after it was issued
    const [, payload] = signature.split('.')
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString())
    expect(claims).toMatchObject({ iss: 'Upstash', sub: url })
    expect(claims.exp - claims.iat).toBe(300)
    expect(claims.jti).toBeTruthy()
    const sameKeys = new Receiver({
      currentSigningKey: emu.currentSigningKey,
      nextSigningKey: emu.currentSigningKey,
    })
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 10 * 60 * 1000)
      await expect(sameKeys.verify({ signature, body: 'payload', url })).rejects.toThrow(/exp/)
    } finally {
      vi.useRealTimers()
    }
    await expect(sameKeys.verify({ signature, body: 'payload', url })).resolves.toBe(true)
  })

  it('passes the content type and method through and keeps binary bodies intact', async () => {
    const { messageId } = await client.publish({
      url: `${endpoint.url}/put`,
      body: 'plain text',
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    })
    const d = await waitFor(() =>
      endpoint.deliveries.find((x) => x.headers['upstash-message-id'] === messageId),
    )
    expect(d.method).toBe('PUT')
    expect(d.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(d.body).toBe('plain text')
  })

  it('honours Upstash-Delay, scaled by timeScale, and messages.get shows the pending message', async () => {
    const start = Date.now()
    // 30s at timeScale 0.01 → 300ms
    const { messageId } = await client.publish({
      url: `${endpoint.url}/delayed`,
      body: 'd',
      delay: 30,
    })
    const pending = await client.messages.get(messageId)
    expect(pending.messageId).toBe(messageId)
    expect(pending.url).toBe(`${endpoint.url}/delayed`)
    expect(pending.notBefore).toBeGreaterThanOrEqual(start + 250)
    expect(pending.maxRetries).toBe(3)
    const d = await waitFor(() =>
      endpoint.deliveries.find((x) => x.headers['upstash-message-id'] === messageId),
    )
    expect(d.at - start).toBeGreaterThanOrEqual(280)
    expect(d.at - start).toBeLessThan(2000)
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 })
  })

  describe('notBefore (unix seconds), on an emulator with timeScale 1 so it is wall-clock time', () => {
    let real: QStashEmulator
    let rc: Client
    const delivered = (messageId: string) =>
      endpoint.deliveries.filter((x) => x.headers['upstash-message-id'] === messageId)

    beforeAll(async () => {
      real = await startQStashEmulator({ port: 0 })
      rc = new Client({ baseUrl: real.url, token: real.token, retry: false })
    })

    afterAll(async () => {
      await real.close()
    })

    it('holds a message until notBefore and then delivers it; a past notBefore goes at once', async () => {
      const notBefore = Math.floor(Date.now() / 1000) + 2 // 1 to 2 s ahead
      const future = await rc.publish({ url: `${endpoint.url}/not-before`, body: 'f', notBefore })
      const publishedAt = Date.now()
      const past = await rc.publish({
        url: `${endpoint.url}/not-before`,
        body: 'p',
        notBefore: Math.floor(Date.now() / 1000) - 60,
      })
      expect((await rc.messages.get(future.messageId)).notBefore).toBe(notBefore * 1000)
      const early = await waitFor(() => delivered(past.messageId)[0], 5000, 'the past one')
      expect(early.at - publishedAt).toBeLessThan(1500)
      const d = await waitFor(() => delivered(future.messageId)[0], 10_000, 'the future one')
      // lower bound strict: the due check is `notBefore <= now`; upper bound generous
      expect(d.at).toBeGreaterThanOrEqual(notBefore * 1000)
      expect(d.at).toBeLessThan(notBefore * 1000 + 3000)
      expect(delivered(future.messageId)).toHaveLength(1)
      expect(delivered(past.messageId)).toHaveLength(1)
    })

    it('notBefore overrides delay when both are given, as QStash documents', async () => {
      const soon = Math.floor(Date.now() / 1000) + 3 // 2 to 3 s ahead
      const later = Math.floor(Date.now() / 1000) + 3600
      // a long delay with a near notBefore: delivered at notBefore
      const a = await rc.publish({
        url: `${endpoint.url}/both`,
        body: 'a',
        delay: 3600,
        notBefore: soon,
      })
      // a short delay with a far notBefore: held until notBefore, not delivered after the delay
      const b = await rc.publish({
        url: `${endpoint.url}/both`,
        body: 'b',
        delay: 1,
        notBefore: later,
      })
      // a long delay with a past notBefore: delivered at once
      const publishedAt = Date.now()
      const c = await rc.publish({
        url: `${endpoint.url}/both`,
        body: 'c',
        delay: 3600,
        notBefore: soon - 120,
      })
      expect((await rc.messages.get(a.messageId)).notBefore).toBe(soon * 1000)
      expect((await rc.messages.get(b.messageId)).notBefore).toBe(later * 1000)
      const dc = await waitFor(() => delivered(c.messageId)[0], 5000, 'the past notBefore')
      expect(dc.at - publishedAt).toBeLessThan(1500)
      const da = await waitFor(() => delivered(a.messageId)[0], 10_000, 'the near notBefore')
      expect(da.at).toBeGreaterThanOrEqual(soon * 1000)
      expect(da.at).toBeLessThan(soon * 1000 + 3000)
      // let b's 1 s delay pass by at least half a second (a loaded machine may be there already)
      await sleep(Math.max(0, publishedAt + 1500 - Date.now()))
      expect(delivered(b.messageId)).toHaveLength(0)
      expect((await rc.messages.get(b.messageId)).notBefore).toBe(later * 1000)
      expect(await rc.messages.cancel(b.messageId)).toEqual({ cancelled: 1 })
    })
  })

  it('cancelling before delivery prevents it, single and bulk', async () => {
    // 300 s is 3 s at this scale; a message with the same delay, not cancelled, shows when the
    // cancelled ones would have arrived
    const a = await client.publish({ url: `${endpoint.url}/cancel`, body: 'a', delay: 300 })
    const b = await client.publish({ url: `${endpoint.url}/cancel`, body: 'b', delay: 300 })
    const c = await client.publish({ url: `${endpoint.url}/cancel`, body: 'c', delay: 300 })
    const control = await client.publish({
      url: `${endpoint.url}/not-cancelled`,
      body: 'd',
      delay: 300,
    })
    expect(await client.messages.cancel(a.messageId)).toEqual({ cancelled: 1 })
    expect(await client.messages.cancel([b.messageId, c.messageId])).toEqual({ cancelled: 2 })
    await expect(client.messages.cancel(a.messageId)).rejects.toMatchObject({ status: 404 })
    await waitFor(
      () => endpoint.deliveries.some((x) => x.headers['upstash-message-id'] === control.messageId),
      10_000,
      'the message that was not cancelled',
    )
    await sleep(100)
    expect(endpoint.deliveries.filter((x) => x.path === '/cancel')).toHaveLength(0)
    const logs = await client.logs({ filter: { state: 'CANCELLED' } as never })
    expect(logs.logs.map((l) => l.messageId)).toEqual(
      expect.arrayContaining([a.messageId, b.messageId, c.messageId]),
    )
  })

  it('batch publishes several messages and answers one id per message', async () => {
    const res = await client.batchJSON([
      { url: `${endpoint.url}/batch/1`, body: { n: 1 } },
      { url: `${endpoint.url}/batch/2`, body: { n: 2 } },
      { url: `${endpoint.url}/batch/3`, body: { n: 3 }, queueName: 'batch-q' },
    ])
    expect(res).toHaveLength(3)
    const ids = res.map((r) => r.messageId)
    expect(new Set(ids).size).toBe(3)
    await waitFor(
      () => endpoint.deliveries.filter((x) => x.path.startsWith('/batch/')).length === 3,
    )
    const bodies = endpoint.deliveries
      .filter((x) => x.path.startsWith('/batch/'))
      .map((x) => JSON.parse(x.body).n)
    expect(bodies.sort()).toEqual([1, 2, 3])
    expect((await client.queue({ queueName: 'batch-q' }).get()).name).toBe('batch-q')
  })

  it('deduplicates by id and by content within the window', async () => {
    const first = await client.publish({
      url: `${endpoint.url}/dedup`,
      body: '1',
      deduplicationId: 'job-42',
    })
    const again = await client.publish({
      url: `${endpoint.url}/dedup`,
      body: '2',
      deduplicationId: 'job-42',
    })
    expect(again).toEqual({ messageId: first.messageId, deduplicated: true })
    const c1 = await client.publish({
      url: `${endpoint.url}/dedup-c`,
      body: 'same',
      contentBasedDeduplication: true,
    })
    const c2 = await client.publish({
      url: `${endpoint.url}/dedup-c`,
      body: 'same',
      contentBasedDeduplication: true,
    })
    const c3 = await client.publish({
      url: `${endpoint.url}/dedup-c`,
      body: 'other',
      contentBasedDeduplication: true,
    })
    expect(c2).toEqual({ messageId: c1.messageId, deduplicated: true })
    expect(c3.messageId).not.toBe(c1.messageId)
    expect(c3).not.toHaveProperty('deduplicated')
    const count = (path: string) => endpoint.deliveries.filter((x) => x.path === path).length
    await waitFor(() => count('/dedup') >= 1 && count('/dedup-c') >= 2, 5000, 'the deliveries')
    await sleep(200)
    expect(count('/dedup')).toBe(1)
    expect(count('/dedup-c')).toBe(2)
    // the 10 minute window is 6 s at timeScale 0.01; a short-scale emulator shows expiry fast
    const fast = await startQStashEmulator({ port: 0, timeScale: 0.0001 })
    try {
      const fc = new Client({ baseUrl: fast.url, token: fast.token, retry: false })
      const x = await fc.publish({ url: `${endpoint.url}/dedup-x`, body: '', deduplicationId: 'k' })
      await sleep(120) // window = 60 ms
      const y = await fc.publish({ url: `${endpoint.url}/dedup-x`, body: '', deduplicationId: 'k' })
      expect(y.messageId).not.toBe(x.messageId)
      expect(y).not.toHaveProperty('deduplicated')
    } finally {
      await fast.close()
    }
  })

  it('answers GET /v2/keys so the SDK dev mode finds it, and /health without auth', async () => {
    const keys = await fetch(`${emu.url}/v2/keys`, {
      headers: { authorization: `Bearer ${emu.token}` },
    })
    expect(await keys.json()).toEqual({ current: emu.currentSigningKey, next: emu.nextSigningKey })
    expect((await fetch(`${emu.url}/health`)).status).toBe(200)
    const previous = process.env.QSTASH_DEV_PORT
    process.env.QSTASH_DEV_PORT = String(emu.port)
    try {
      const dev = new Client({ devMode: true, retry: false })
      const { messageId } = await dev.publish({ url: `${endpoint.url}/dev`, body: 'dev' })
      const d = await waitFor(() =>
        endpoint.deliveries.find((x) => x.headers['upstash-message-id'] === messageId),
      )
      const devReceiver = new Receiver({ devMode: true })
      await expect(
        devReceiver.verify({ signature: d.headers['upstash-signature'] as string, body: 'dev' }),
      ).resolves.toBe(true)
    } finally {
      if (previous === undefined) delete process.env.QSTASH_DEV_PORT
      else process.env.QSTASH_DEV_PORT = previous
    }
  })
})
