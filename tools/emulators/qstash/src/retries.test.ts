import { Client, Receiver } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type QStashEmulator, startQStashEmulator } from './index'
import { type Delivery, type Endpoint, startEndpoint, waitFor } from './test-support'

let emu: QStashEmulator
let endpoint: Endpoint
let client: Client

beforeAll(async () => {
  // default backoff e^2.5 s ≈ 12 s becomes 12 ms, the 2nd retry 148 ms
  emu = await startQStashEmulator({ port: 0, timeScale: 0.001 })
  endpoint = await startEndpoint()
  client = new Client({ baseUrl: emu.url, token: emu.token, retry: false })
})

afterAll(async () => {
  await emu.close()
  await endpoint.close()
})

const byPath = (path: string) => endpoint.deliveries.filter((d) => d.path === path)

/** Milliseconds between consecutive attempts. */
const gapsOf = (attempts: Delivery[]) =>
  attempts.slice(1).map((d, i) => d.at - (attempts[i] as Delivery).at)

/**
 * Each gap within a band around its expected value. The lower bound is strict (2 ms for
 * rounding: a retry is never early); the upper one is generous, since a busy machine can stretch
 * a gap but never shorten it.
 */
function expectWithinBands(gaps: number[], expected: number[]): void {
  expect(gaps).toHaveLength(expected.length)
  expected.forEach((want, i) => {
    const what = `gap ${i + 1} of ${JSON.stringify(gaps)}, expected about ${Math.round(want)} ms`
    expect(gaps[i], what).toBeGreaterThanOrEqual(want - 2)
    expect(gaps[i], what).toBeLessThanOrEqual(want * 1.5 + 400)
  })
}

describe('retries, callbacks and the DLQ', () => {
  it('retries with backoff until the handler succeeds, counting Upstash-Retried 0,1,2', async () => {
    let calls = 0
    endpoint.setHandler((d) => {
      if (d.path !== '/flaky') return undefined
      calls++
      return calls <= 2 ? { status: 500, body: 'boom' } : { status: 200, body: 'fine' }
    })
    const { messageId } = await client.publish({
      url: `${endpoint.url}/flaky`,
      body: 'job',
      callback: `${endpoint.url}/cb`,
    })
    await waitFor(() => byPath('/flaky').length === 3, 5000, 'three attempts')
    const attempts = byPath('/flaky')
    expect(attempts.map((d) => d.headers['upstash-retried'])).toEqual(['0', '1', '2'])
    expect(attempts.every((d) => d.headers['upstash-message-id'] === messageId)).toBe(true)
    // backoff grows: e^2.5 and e^5 seconds at timeScale 0.001 → ~12 ms then ~148 ms. Only lower
    // bounds are asserted: a loaded machine can stretch a gap, never shorten it.
    const gap1 = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)
    const gap2 = (attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)
    expect(gap1).toBeGreaterThanOrEqual(10)
    expect(gap2).toBeGreaterThanOrEqual(140)
    // the callback is called after each attempt with QStash's callback body, the last one 200
    await waitFor(() => byPath('/cb').length === 3, 5000, 'three callbacks')
    const bodies = byPath('/cb').map((d) => JSON.parse(d.body))
    const success = bodies.find((b) => b.status === 200)
    expect(success).toMatchObject({
      sourceMessageId: messageId,
      url: `${endpoint.url}/flaky`,
      method: 'POST',
      retried: 2,
      maxRetries: 3,
      sourceBody: Buffer.from('job').toString('base64'),
      body: Buffer.from('fine').toString('base64'),
    })
    expect(success.header['x-endpoint'] ?? success.header['X-Endpoint']).toEqual(['test'])
    const cb = byPath('/cb')[0]
    expect(cb?.headers['upstash-message-id']).not.toBe(messageId)
    const receiver = new Receiver({
      currentSigningKey: emu.currentSigningKey,
      nextSigningKey: emu.nextSigningKey,
    })
    await expect(
      receiver.verify({
        signature: cb?.headers['upstash-signature'] as string,
        body: cb?.body ?? '',
        url: `${endpoint.url}/cb`,
      }),
    ).resolves.toBe(true)
  })

  it('spaces retries by min(86400, e^(2.5·n)) seconds: growing, then capped at one day', async () => {
    // at 2e-5 the six gaps are 0.24, 3, 36, 441, 1728 (capped; uncapped 5366) and 1728 (capped;
    // uncapped 66k) ms, so a constant delay, another base or exponent, an off-by-one in n or a
    // missing cap each fall outside a band
    const scale = 2e-5
    const fast = await startQStashEmulator({ port: 0, timeScale: scale })
    try {
      endpoint.setHandler((d) => (d.path === '/backoff' ? { status: 500 } : undefined))
      const c = new Client({ baseUrl: fast.url, token: fast.token, retry: false })
      await c.publish({ url: `${endpoint.url}/backoff`, body: 'b', retries: 6 })
      await waitFor(() => byPath('/backoff').length === 7, 20_000, 'seven attempts')
      const gaps = gapsOf(byPath('/backoff'))
      // the formula written out here, not imported, so a wrong one in duration.ts fails
      const expected = [1, 2, 3, 4, 5, 6].map(
        (n) => Math.min(86_400, Math.exp(2.5 * n)) * 1000 * scale,
      )
      expectWithinBands(gaps, expected)
      expect(gaps[3]).toBeGreaterThan(gaps[2] as number)
      expect(gaps[4]).toBeGreaterThan(gaps[3] as number)
    } finally {
      await fast.close()
    }
  }, 30_000)

  it('uses a custom Upstash-Retry-Delay expression (ms over retried, from 0; scaled)', async () => {
    endpoint.setHandler((d) => (d.path === '/custom' ? { status: 503 } : undefined))
    const expression = '300000 * (1 + 2 * retried)' // 300, 900, 1500 s → 300, 900, 1500 ms
    const { messageId } = await client.publish({
      url: `${endpoint.url}/custom`,
      body: 'x',
      retries: 3,
      retryDelay: expression,
    })
    await waitFor(() => byPath('/custom').length === 4, 15_000, 'four attempts')
    // a constant, the default backoff (12, 148, 1808 ms) or retried counted from 1 (900, 1500,
    // 2100 ms) each fall outside a band
    expectWithinBands(gapsOf(byPath('/custom')), [300, 900, 1500])
    const dlq = await waitFor(async () => {
      const list = await client.dlq.listMessages({ filter: { messageId } })
      return list.messages.length === 1 ? list : undefined
    })
    expect(dlq.messages[0]?.retryDelayExpression).toBe(expression)
  }, 30_000)

  it('stops retrying at once on 489 with Upstash-NonRetryable-Error and dead-letters the message', async () => {
    endpoint.setHandler((d) => {
      if (d.path === '/permanent') {
        return {
          status: 489,
          body: 'bad payload',
          headers: { 'Upstash-NonRetryable-Error': 'true' },
        }
      }
      if (d.path === '/plain-489') return { status: 489, body: 'no header' }
      return undefined
    })
    const permanent = await client.publish({
      url: `${endpoint.url}/permanent`,
      body: 'x',
      retries: 3,
    })
    const plain = await client.publish({ url: `${endpoint.url}/plain-489`, body: 'x', retries: 2 })
    const dlq = await waitFor(async () => {
      const list = await client.dlq.listMessages({ filter: { messageId: permanent.messageId } })
      return list.messages.length === 1 ? list : undefined
    })
    expect(dlq.messages[0]?.responseStatus).toBe(489)
    expect(byPath('/permanent')).toHaveLength(1)
    // without the header a 489 is an ordinary failure and is retried
    await waitFor(
      () => byPath('/plain-489').length === 3,
      5000,
      'three attempts without the header',
    )
    expect(byPath('/permanent')).toHaveLength(1)
    expect(plain.messageId).toBeTruthy()
  })

  it('after the last retry calls the failure callback, dead-letters, and the DLQ can retry and delete', async () => {
    let fail = true
    endpoint.setHandler((d) =>
      d.path === '/dead' && fail ? { status: 422, body: 'nope' } : undefined,
    )
    const { messageId } = await client.publishJSON({
      url: `${endpoint.url}/dead`,
      body: { id: 7 },
      retries: 1,
      failureCallback: `${endpoint.url}/failed`,
      headers: { 'X-Job': 'seven' },
      label: 'imports',
    })
    const failed = await waitFor(() => byPath('/failed')[0], 5000, 'failure callback')
    expect(byPath('/dead')).toHaveLength(2)
    const body = JSON.parse(failed.body)
    expect(body).toMatchObject({
      status: 422,
      retried: 1,
      maxRetries: 1,
      sourceMessageId: messageId,
      url: `${endpoint.url}/dead`,
      method: 'POST',
      body: Buffer.from('nope').toString('base64'),
      sourceBody: Buffer.from(JSON.stringify({ id: 7 })).toString('base64'),
    })
    expect(body.dlqId).toMatch(/^\d+-\d+$/)
    expect(body.sourceHeader['X-Job']).toEqual(['seven'])

    const list = await client.dlq.listMessages({ filter: { label: 'imports' } })
    expect(list.messages).toHaveLength(1)
    const entry = list.messages[0]
    expect(entry).toMatchObject({
      dlqId: body.dlqId,
      messageId,
      url: `${endpoint.url}/dead`,
      responseStatus: 422,
      responseBody: 'nope',
      body: JSON.stringify({ id: 7 }),
      maxRetries: 1,
      label: 'imports',
    })
    const single = await fetch(`${emu.url}/v2/dlq/${body.dlqId}`, {
      headers: { authorization: `Bearer ${emu.token}` },
    })
    expect(((await single.json()) as { messageId: string }).messageId).toBe(messageId)

    fail = false
    const retried = await client.dlq.retry(body.dlqId)
    expect(retried.responses).toHaveLength(1)
    const newId = retried.responses[0]?.messageId
    await waitFor(() => byPath('/dead').find((d) => d.headers['upstash-message-id'] === newId))
    expect((await client.dlq.listMessages({ filter: { label: 'imports' } })).messages).toHaveLength(
      0,
    )

    // dead-letter two more, then delete one singly and the rest in bulk
    fail = true
    const x = await client.publish({ url: `${endpoint.url}/dead`, body: 'x', retries: 0 })
    const y = await client.publish({ url: `${endpoint.url}/dead`, body: 'y', retries: 0 })
    const z = await client.publish({ url: `${endpoint.url}/dead`, body: 'z', retries: 0 })
    const entries = await waitFor(async () => {
      const l = await client.dlq.listMessages({ filter: { url: `${endpoint.url}/dead` } })
      return l.messages.length === 3 ? l.messages : undefined
    })
    expect(entries.map((e) => e.messageId).sort()).toEqual(
      [x.messageId, y.messageId, z.messageId].sort(),
    )
    expect(await client.dlq.delete(entries[0]?.dlqId as string)).toEqual({ deleted: 1 })
    await expect(client.dlq.delete(entries[0]?.dlqId as string)).rejects.toMatchObject({
      status: 404,
    })
    const rest = entries.slice(1).map((e) => e.dlqId)
    expect(await client.dlq.delete(rest)).toMatchObject({ deleted: 2 })
    expect(
      (await client.dlq.listMessages({ filter: { url: `${endpoint.url}/dead` } })).messages,
    ).toHaveLength(0)
  })

  it('pages through the DLQ with a cursor', async () => {
    endpoint.setHandler((d) => (d.path === '/page' ? { status: 500 } : undefined))
    for (let i = 0; i < 5; i++)
      await client.publish({ url: `${endpoint.url}/page`, body: `${i}`, retries: 0 })
    await waitFor(async () => {
      const l = await client.dlq.listMessages({ filter: { url: `${endpoint.url}/page` } })
      return l.messages.length === 5
    })
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await client.dlq.listMessages({
        filter: { url: `${endpoint.url}/page` },
        cursor,
        count: 2,
      })
      expect(page.messages.length).toBeLessThanOrEqual(2)
      seen.push(...page.messages.map((m) => m.dlqId))
      cursor = page.cursor
    } while (cursor)
    expect(new Set(seen).size).toBe(5)
  })

  it('treats a timeout as a failed attempt', async () => {
    endpoint.setHandler((d) => (d.path === '/slow' ? { status: 200, delayMs: 1500 } : undefined))
    const { messageId } = await client.publish({
      url: `${endpoint.url}/slow`,
      body: 's',
      timeout: 1,
      retries: 0,
    })
    const list = await waitFor(
      async () => {
        const l = await client.dlq.listMessages({ filter: { messageId } })
        return l.messages.length === 1 ? l : undefined
      },
      5000,
      'timed-out message in the DLQ',
    )
    expect(list.messages[0]?.responseStatus).toBeUndefined()
    const logs = await client.logs({ filter: { messageId } as never })
    expect(logs.logs.some((l) => l.state === 'ERROR' && /timed out/.test(l.error ?? ''))).toBe(true)
  })
})
