import { Client } from '@upstash/qstash'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type QStashEmulator, startQStashEmulator } from './index'
import { type Endpoint, sleep, startEndpoint, waitFor } from './test-support'

let emu: QStashEmulator
let endpoint: Endpoint
let client: Client

beforeAll(async () => {
  emu = await startQStashEmulator({ port: 0, timeScale: 0.001 })
  endpoint = await startEndpoint()
  client = new Client({ baseUrl: emu.url, token: emu.token, retry: false })
})

afterAll(async () => {
  await emu.close()
  await endpoint.close()
})

/** Tracks concurrency per path prefix; the endpoint's own counter covers all paths. */
function tracker(prefix: string, delayMs: number, fail?: (n: number) => boolean) {
  const state = { inFlight: 0, max: 0, order: [] as number[] }
  endpoint.setHandler((d) => {
    if (!d.path.startsWith(prefix)) return undefined
    const n = Number(d.path.slice(prefix.length))
    state.inFlight++
    state.max = Math.max(state.max, state.inFlight)
    setTimeout(() => {
      state.inFlight--
    }, delayMs)
    const failed = fail?.(n) ?? false
    if (!failed) state.order.push(n)
    return { status: failed ? 500 : 200, delayMs }
  })
  return state
}

describe('queues', () => {
  it('parallelism 1 delivers strictly in order, one at a time, even across retries', async () => {
    const queue = client.queue({ queueName: 'fifo' })
    await queue.upsert({ parallelism: 1 })
    let failedOnce = false
    const state = tracker('/fifo/', 5, (n) => {
      if (n === 3 && !failedOnce) {
        failedOnce = true
        return true
      }
      return false
    })
    for (let i = 0; i < 12; i++) {
      await queue.enqueue({ url: `${endpoint.url}/fifo/${i}`, body: `${i}` })
    }
    await waitFor(() => state.order.length === 12, 8000, 'all 12 delivered')
    expect(state.order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(state.max).toBe(1)
    expect(failedOnce).toBe(true)
    const info = await waitFor(async () => {
      const q = await queue.get()
      return q.lag === 0 ? q : undefined
    })
    expect(info).toMatchObject({ name: 'fifo', parallelism: 1, paused: false })
  })

  it('parallelism 3 never runs more than 3 at once', async () => {
    const queue = client.queue({ queueName: 'triple' })
    await queue.upsert({ parallelism: 3 })
    const state = tracker('/triple/', 30)
    await client.batch(
      Array.from({ length: 15 }, (_, i) => ({
        url: `${endpoint.url}/triple/${i}`,
        body: `${i}`,
        queueName: 'triple',
      })),
    )
    await waitFor(() => state.order.length === 15, 8000, 'all 15 delivered')
    expect(state.max).toBe(3)
  })

  it('a paused queue holds its messages until resumed; list and delete work', async () => {
    const queue = client.queue({ queueName: 'held' })
    await queue.upsert({ parallelism: 2 })
    await queue.pause()
    expect((await queue.get()).paused).toBe(true)
    const state = tracker('/held/', 1)
    await queue.enqueueJSON({ url: `${endpoint.url}/held/1`, body: { a: 1 } })
    await queue.enqueueJSON({ url: `${endpoint.url}/held/2`, body: { a: 2 } })
    await sleep(200)
    expect(state.order).toHaveLength(0)
    expect((await queue.get()).lag).toBe(2)
    await queue.resume()
    await waitFor(() => state.order.length === 2, 3000, 'held messages delivered')
    const names = (await queue.list()).map((q) => q.name)
    expect(names).toEqual(expect.arrayContaining(['fifo', 'triple', 'held']))
    await queue.delete()
    await expect(queue.get()).rejects.toMatchObject({ status: 404 })
  })

  it('enqueue creates a missing queue with parallelism 1', async () => {
    const state = tracker('/auto/', 1)
    await client
      .queue({ queueName: 'auto-created' })
      .enqueue({ url: `${endpoint.url}/auto/1`, body: 'x' })
    await waitFor(() => state.order.length === 1)
    expect(await client.queue({ queueName: 'auto-created' }).get()).toMatchObject({
      parallelism: 1,
    })
  })

  it('rejects a bad queue name and a bad parallelism with QStash errors', async () => {
    const bad = await fetch(`${emu.url}/v2/queues`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ queueName: 'no spaces!', parallelism: 1 }),
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: expect.stringContaining('invalid queue name') })
    await expect(
      client.queue({ queueName: 'ok' }).upsert({ parallelism: 0 }),
    ).rejects.toMatchObject({
      status: 400,
    })
  })
})
