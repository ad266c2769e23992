import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../config.js'
import type { UseLiteEmbedder } from '../embeddings/use-lite.js'
import { type RunningServer, startServer } from '../server.js'

let server: RunningServer
let client: OpenAI
const auth = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' }

beforeAll(async () => {
  server = await startServer({
    PORT: 0,
    QUEUE_MAX_ITEMS: 64,
    MAX_INPUTS_PER_REQUEST: 64,
    BATCH_MAX_WAIT_MS: 5,
    MODEL_LOAD_RETRY_MS: 300,
    MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-')),
  })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: DEV_API_KEY, maxRetries: 0 })
})
afterAll(() => server.close())

const cos = (a: number[], b: number[]) => {
  let d = 0
  let na = 0
  let nb = 0
  a.forEach((x, i) => {
    const y = b[i] ?? 0
    d += x * y
    na += x * x
    nb += y * y
  })
  return d / Math.sqrt(na * nb)
}

describe('POST /v1/embeddings', () => {
  it('returns 512-d float vectors with usage through the official client', async () => {
    const res = await client.embeddings.create({
      model: 'use-lite-512',
      input: [
        'The cat sat on the mat.',
        'A kitten rested on the rug.',
        'Quarterly tax filing deadline',
      ],
      encoding_format: 'float',
    })
    expect(res.object).toBe('list')
    expect(res.data).toHaveLength(3)
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2])
    const [a, b, c] = res.data.map((d) => d.embedding) as [number[], number[], number[]]
    expect(a).toHaveLength(512)
    expect(cos(a, b)).toBeGreaterThan(cos(a, c))
    expect(res.usage.prompt_tokens).toBeGreaterThan(5)
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens)
  })

  it('base64 decodes to the same floats as the float encoding', async () => {
    const input = 'Dynamic batching keeps the accelerator busy.'
    const float = await client.embeddings.create({
      model: 'use-lite-512',
      input,
      encoding_format: 'float',
    })
    const raw = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'use-lite-512', input, encoding_format: 'base64' }),
    })
    const body = (await raw.json()) as { data: { embedding: string }[] }
    const b64 = body.data[0]?.embedding as string
    expect(typeof b64).toBe('string')
    const buf = Buffer.from(b64, 'base64')
    const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4))
    expect(decoded).toEqual(float.data[0]?.embedding)
    // The SDK asks for base64 by default and decodes it itself.
    const sdkDefault = await client.embeddings.create({ model: 'use-lite-512', input })
    expect(sdkDefault.data[0]?.embedding).toEqual(float.data[0]?.embedding)
  })

  it('batches concurrent single-text requests into shared runs', async () => {
    const before = await server.services.metrics.batchSize.get()
    const countBefore =
      before.values.find((v) => v.metricName === 'mlnode_batch_size_count')?.value ?? 0
    const sumBefore =
      before.values.find((v) => v.metricName === 'mlnode_batch_size_sum')?.value ?? 0
    const texts = Array.from({ length: 24 }, (_, i) => `sentence number ${i} about batching`)
    const results = await Promise.all(
      texts.map((input) =>
        client.embeddings.create({ model: 'use-lite-512', input, encoding_format: 'float' }),
      ),
    )
    expect(results.every((r) => r.data[0]?.embedding.length === 512)).toBe(true)
    const after = await server.services.metrics.batchSize.get()
    const runs =
      (after.values.find((v) => v.metricName === 'mlnode_batch_size_count')?.value ?? 0) -
      countBefore
    const items =
      (after.values.find((v) => v.metricName === 'mlnode_batch_size_sum')?.value ?? 0) - sumBefore
    expect(items).toBe(24)
    expect(runs).toBeLessThan(12)
  })

  it('answers 400 naming the field for bad inputs', async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
    const cases: [unknown, string][] = [
      [{ input: 'x' }, 'model'],
      [{ model: 'use-lite-512' }, 'input'],
      [{ model: 'use-lite-512', input: ['ok', 3] }, 'input[1]'],
      [{ model: 'use-lite-512', input: ['ok', '  '] }, 'input[1]'],
      [{ model: 'use-lite-512', input: [] }, 'input'],
      [{ model: 'use-lite-512', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
      [{ model: 'use-lite-512', input: 'x', dimensions: 256 }, 'dimensions'],
      ['{not json', 'body'],
    ]
    for (const [body, param] of cases) {
      const res = await post(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      const json = (await res.json()) as { error: { param: string; type: string; message: string } }
      expect(json.error.param).toBe(param)
      expect(json.error.type).toBe('invalid_request_error')
      expect(json.error.message).toContain(param === 'body' ? 'JSON' : param)
    }
  })

  it('answers 404 with the known models for an unknown model', async () => {
    const err = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.NotFoundError)
    const e = err as InstanceType<typeof OpenAI.NotFoundError>
    expect(e.code).toBe('model_not_found')
    expect(e.message).toContain('use-lite-512')
  })

  it('answers 429 with Retry-After when a burst overflows the queue, and keeps serving', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `overload probe ${i}`)
    const responses = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(`${server.url}/v1/embeddings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'use-lite-512', input: texts, encoding_format: 'base64' }),
        }),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses).toContain(200)
    expect(statuses).toContain(429)
    const rejected = responses.find((r) => r.status === 429) as Response
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const body = (await rejected.json()) as { error: { code: string } }
    expect(body.error.code).toBe('queue_full')
    const again = await client.embeddings.create({ model: 'use-lite-512', input: 'still alive' })
    expect(again.data).toHaveLength(1)
  })
})

describe('when the model cannot keep up or stops', () => {
  it('answers 503 timeout with Retry-After through the route when a batch misses REQUEST_TIMEOUT_MS', async () => {
    // A node whose deadline is 1 ms: no batch can make it.
    const tight = await startServer({
      PORT: 0,
      REQUEST_TIMEOUT_MS: 1,
      BATCH_MAX_WAIT_MS: 20,
      MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-')),
    })
    try {
      const res = await fetch(`${tight.url}/v1/embeddings`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'use-lite-512', input: ['one', 'two'] }),
      })
      expect(res.status).toBe(503)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'timeout' } })
      const err = await new OpenAI({
        baseURL: `${tight.url}/v1`,
        apiKey: DEV_API_KEY,
        maxRetries: 0,
      }).embeddings
        .create({ model: 'use-lite-512', input: 'x' })
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.InternalServerError)
    } finally {
      await tight.close()
    }
  })

  it('recovers when the USE-lite worker dies: fails what was running, reloads, never hangs', async () => {
    const embedder = server.services.embeddings.embedder('use-lite-512') as UseLiteEmbedder
    const card = () => server.services.listModels().find((m) => m.id === 'use-lite-512')
    // Up for longer than MODEL_LOAD_RETRY_MS (300 ms): a death reloads at once.
    await new Promise((r) => setTimeout(r, 400))
    const texts = Array.from({ length: 64 }, (_, i) => `a sentence to embed while dying ${i}`)
    const inFlight = fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'use-lite-512', input: texts, encoding_format: 'base64' }),
      signal: AbortSignal.timeout(30_000),
    })
    await new Promise((r) => setTimeout(r, 30))
    await embedder.thread?.terminate()
    expect(['failed', 'loading']).toContain(card()?.status)
    expect(String(card()?.details?.error)).toContain('exited')
    // What was queued or running either finished after the reload or got a 503 saying when to
    // retry; nothing waits for ever.
    const first = await inFlight
    expect([200, 503]).toContain(first.status)
    if (first.status === 503) {
      expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      const body = (await first.json()) as { error: { code: string } }
      expect(['model_unavailable', 'model_load_failed']).toContain(body.error.code)
    }
    const next = await client.embeddings.create(
      { model: 'use-lite-512', input: 'after the reload', encoding_format: 'float' },
      { timeout: 30_000 },
    )
    expect(next.data[0]?.embedding).toHaveLength(512)
    expect(card()?.status).toBe('ready')
    expect(embedder.thread).not.toBeNull()
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string }
    expect(ready.status).toBe('ready')
  })
})
