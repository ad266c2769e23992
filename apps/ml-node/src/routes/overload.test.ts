import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../config.js'
import { type RunningServer, startServer } from '../server.js'

// A small queue that a burst overflows: items wait BATCH_MAX_WAIT_MS before a run, so the
// requests of one burst meet in the queue.
const QUEUE = 16
let server: RunningServer
let classifier: string

const post = (path: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

beforeAll(async () => {
  server = await startServer({
    PORT: 0,
    QUEUE_MAX_ITEMS: QUEUE,
    MAX_INPUTS_PER_REQUEST: QUEUE,
    BATCH_MAX_SIZE: 32,
    BATCH_MAX_WAIT_MS: 50,
    MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-overload-')),
  })
  const examples = ['great', 'lovely', 'superb', 'fine', 'awful', 'bad', 'terrible', 'poor'].map(
    (text, i) => ({ text: `${text} service`, label: i < 4 ? 'good' : 'bad' }),
  )
  const res = await post('/v1/classifiers', { examples, epochs: 2, validation_split: 0 })
  classifier = ((await res.json()) as { id: string }).id
  await server.services.classifiers.idle()
})
afterAll(() => server.close())

/** Fires `n` copies of a request at once; returns the responses. */
const burst = (n: number, path: string, body: unknown) =>
  Promise.all(Array.from({ length: n }, () => post(path, body)))

async function expectOverloadThenService(responses: Response[]) {
  const statuses = responses.map((r) => r.status)
  expect(statuses).toContain(200)
  expect(statuses).toContain(429)
  const rejected = responses.find((r) => r.status === 429) as Response
  expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe('queue_full')
  expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
}

describe('overload on the batched routes (queue of 16 items)', () => {
  const texts = Array.from({ length: QUEUE }, (_, i) => `text number ${i} to score`)

  it('classify: 429 with Retry-After beyond the queue, then serves again', async () => {
    await expectOverloadThenService(
      await burst(6, '/v1/classify', { model: classifier, input: texts }),
    )
    const again = await post('/v1/classify', { model: classifier, input: 'lovely service' })
    expect(again.status).toBe(200)
  })

  it('rerank (USE-lite cosine): 429 with Retry-After beyond the queue, then serves again', async () => {
    const body = { model: 'use-lite-512-cosine', query: 'which text', documents: texts }
    await expectOverloadThenService(await burst(6, '/v1/rerank', body))
    // The query and 16 documents are 17 items, more than the queue holds: an idle node serves it.
    const again = await post('/v1/rerank', body)
    expect(again.status).toBe(200)
    expect(((await again.json()) as { results: unknown[] }).results).toHaveLength(QUEUE)
  })
})
