import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AutoTokenizer, type Tensor } from '@huggingface/transformers'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../config.js'
import type { ModelCard } from '../models/registry.js'
import { type RunningServer, startServer } from '../server.js'
import {
  ensureOnnxFixtures,
  FIXTURE_EMBEDDER,
  FIXTURE_RERANKER,
  fixtureVocab,
  fixtureWeights,
  referenceForward,
} from './fixture-onnx.js'
import { FIXTURE_WHISPER } from './fixture-whisper.js'

let server: RunningServer
let plain: RunningServer
let client: OpenAI
let fixtures: string
const weights = fixtureWeights(fixtureVocab().length)

const json = (dir: string, name: string, v: unknown) =>
  writeFileSync(join(dir, name), JSON.stringify(v))

beforeAll(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mlnode-onnx-'))
  fixtures = ensureOnnxFixtures(join(tmp, 'fixtures'))
  // MODEL_DIR with two broken folders: an embedder whose ONNX file is garbage, and a Whisper
  // folder that lacks its decoder.
  const models = join(tmp, 'models')
  const broken = join(models, 'embeddings', 'broken-embed')
  cpSync(join(fixtures, 'embeddings', FIXTURE_EMBEDDER), broken, { recursive: true })
  json(broken, 'synthstack.json', { license: 'MIT' })
  writeFileSync(join(broken, 'onnx', 'model.onnx'), 'this is not a protobuf')
  const whisper = join(models, 'whisper', 'whisper-tiny-broken')
  mkdirSync(join(whisper, 'onnx'), { recursive: true })
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) {
    json(whisper, f, { model_type: 'whisper' })
  }
  json(whisper, 'generation_config.json', {})
  json(whisper, 'preprocessor_config.json', {})
  writeFileSync(join(whisper, 'onnx', 'encoder_model.onnx'), 'x')
  server = await startServer({
    PORT: 0,
    MODEL_DIR: models,
    ML_NODE_TEST_ONNX_FIXTURES: fixtures,
    ONNX_DEVICE: 'cpu',
    ONNX_THREADS: 1,
  })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: DEV_API_KEY, maxRetries: 0 })
  // A second node without the fixture flag; its MODEL_DIR holds a copy of a fixture folder.
  const plainModels = join(tmp, 'plain-models')
  cpSync(
    join(fixtures, 'rerankers', FIXTURE_RERANKER),
    join(plainModels, 'rerankers', 'copied-fixture'),
    { recursive: true },
  )
  cpSync(
    join(fixtures, 'whisper', FIXTURE_WHISPER),
    join(plainModels, 'whisper', 'copied-whisper'),
    {
      recursive: true,
    },
  )
  plain = await startServer({ PORT: 0, MODEL_DIR: plainModels, ONNX_DEVICE: 'cpu' })
})
afterAll(async () => {
  await server?.close()
  await plain?.close()
})

const post = async (s: RunningServer, path: string, body: unknown) => {
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field below
  return { status: res.status, headers: res.headers, json: (await res.json()) as any }
}
const models = async (s: RunningServer) =>
  (
    (await (
      await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${DEV_API_KEY}` } })
    ).json()) as { data: ModelCard[] }
  ).data

const expectClose = (got: number[], want: number[], digits: number) => {
  expect(got).toHaveLength(want.length)
  for (const [i, x] of got.entries()) expect(x).toBeCloseTo(want[i] as number, digits)
}

/** The fixture's output for one text, recomputed in plain JS from its weights. */
async function expectedEmbedding(text: string) {
  const tok = await AutoTokenizer.from_pretrained(join(fixtures, 'embeddings', FIXTURE_EMBEDDER))
  const enc = tok(text)
  const ids = Array.from((enc.input_ids as Tensor).data as BigInt64Array, Number)
  const { lastHidden } = referenceForward(
    weights,
    ids,
    ids.map(() => 0),
  )
  const v = new Array<number>(weights.hidden).fill(0)
  for (const row of lastHidden) {
    for (const [k, x] of row.entries()) v[k] = (v[k] as number) + x / ids.length
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0))
  return { vector: v.map((x) => x / norm), tokens: ids.length }
}

describe('ONNX embeddings (transformers.js + onnxruntime-node, random-weight fixture)', () => {
  it('returns vectors of the width its config.json declares, equal to the network computed in JS', async () => {
    const res = await client.embeddings.create({
      model: FIXTURE_EMBEDDER,
      input: ['The cat sat on the mat.', 'Paris is the capital of France'],
      encoding_format: 'float',
    })
    expect(res.data).toHaveLength(2)
    const [a, b] = res.data.map((d) => d.embedding) as [number[], number[]]
    expect(a).toHaveLength(32)
    expect(Math.hypot(...a)).toBeCloseTo(1, 5)
    const want = await expectedEmbedding('The cat sat on the mat.')
    expectClose(a, want.vector, 4)
    expect(b).not.toEqual(a)
    const wantB = await expectedEmbedding('Paris is the capital of France')
    expect(res.usage.prompt_tokens).toBe(want.tokens + wantB.tokens)
  })

  it('is deterministic, padding-invariant in a batch, and base64 matches float', async () => {
    const text = 'batching keeps the gpu busy'
    const alone = await client.embeddings.create({
      model: FIXTURE_EMBEDDER,
      input: text,
      encoding_format: 'float',
    })
    const inBatch = await client.embeddings.create({
      model: FIXTURE_EMBEDDER,
      input: ['a much longer sentence about search and rerank and vectors and models', text],
      encoding_format: 'float',
    })
    const v = alone.data[0]?.embedding as number[]
    expectClose(inBatch.data[1]?.embedding as number[], v, 5)
    // The SDK asks for base64 by default and decodes it.
    const b64 = await client.embeddings.create({ model: FIXTURE_EMBEDDER, input: text })
    expect(b64.data[0]?.embedding).toEqual(v)
    const raw = await post(server, '/v1/embeddings', {
      model: FIXTURE_EMBEDDER,
      input: text,
      encoding_format: 'base64',
    })
    expect(typeof raw.json.data[0].embedding).toBe('string')
  })

  it('gathers concurrent requests into shared runs of the dynamic batcher', async () => {
    const count = async () => {
      const m = await server.services.metrics.batchSize.get()
      const pick = (name: string) =>
        m.values.find((v) => v.metricName === name && v.labels.model === FIXTURE_EMBEDDER)?.value ??
        0
      return { runs: pick('mlnode_batch_size_count'), items: pick('mlnode_batch_size_sum') }
    }
    const before = await count()
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        client.embeddings.create({ model: FIXTURE_EMBEDDER, input: `sentence number ${i}` }),
      ),
    )
    expect(results.every((r) => r.data[0]?.embedding.length === 32)).toBe(true)
    const after = await count()
    expect(after.items - before.items).toBe(16)
    expect(after.runs - before.runs).toBeLessThan(16)
  })

  it('rejects a dimensions value the model cannot produce', async () => {
    const res = await post(server, '/v1/embeddings', {
      model: FIXTURE_EMBEDDER,
      input: 'x',
      dimensions: 64,
    })
    expect(res.status).toBe(400)
    expect(res.json.error.param).toBe('dimensions')
  })
})

describe('cross-encoder rerank', () => {
  it('scores each (query, document) pair with the model: sigmoid of its logit', async () => {
    const query = 'what is the capital of france'
    const documents = ['paris is the capital of france', 'cats sat on the mat', 'berlin weather']
    const res = await post(server, '/v1/rerank', {
      model: FIXTURE_RERANKER,
      query,
      documents,
      return_documents: true,
    })
    expect(res.status).toBe(200)
    expect(res.json.model).toBe(FIXTURE_RERANKER)
    expect(res.json.results).toHaveLength(3)
    const tok = await AutoTokenizer.from_pretrained(join(fixtures, 'rerankers', FIXTURE_RERANKER))
    let tokens = 0
    for (const r of res.json.results as { index: number; relevance_score: number }[]) {
      const enc = tok(query, { text_pair: documents[r.index] })
      const ids = Array.from((enc.input_ids as Tensor).data as BigInt64Array, Number)
      const types = Array.from((enc.token_type_ids as Tensor).data as BigInt64Array, Number)
      tokens += ids.length
      const { logit } = referenceForward(weights, ids, types)
      expect(r.relevance_score).toBeCloseTo(1 / (1 + Math.exp(-logit)), 5)
    }
    expect(res.json.usage.total_tokens).toBe(tokens)
    const scores = res.json.results.map((r: { relevance_score: number }) => r.relevance_score)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
  })

  it('model "default" picks a loaded cross-encoder, and BM25 where none is configured', async () => {
    const body = { model: 'default', query: 'capital of france', documents: ['paris', 'cats'] }
    expect((await post(server, '/v1/rerank', body)).json.model).toBe(FIXTURE_RERANKER)
    expect((await post(plain, '/v1/rerank', body)).json.model).toBe('bm25')
  })
})

describe('requests larger than the old queue bound, on an idle node with default limits', () => {
  it('embeds 1,100 inputs and reranks 1,100 documents instead of answering 429', async () => {
    const texts = Array.from({ length: 1100 }, (_, i) => `input number ${i}`)
    const emb = await post(server, '/v1/embeddings', {
      model: FIXTURE_EMBEDDER,
      input: texts,
      encoding_format: 'base64',
    })
    expect(emb.status).toBe(200)
    expect(emb.json.data).toHaveLength(1100)
    const rr = await post(server, '/v1/rerank', {
      model: FIXTURE_RERANKER,
      query: 'which input',
      documents: texts,
      top_n: 3,
    })
    expect(rr.status).toBe(200)
    expect(rr.json.results).toHaveLength(3)
  })
})

describe('/v1/models, /readyz and broken folders', () => {
  it('lists the ONNX models honestly, fixtures labelled as such', async () => {
    const data = await models(server)
    const embed = data.find((m) => m.id === FIXTURE_EMBEDDER) as ModelCard
    expect(embed).toMatchObject({
      task: 'embeddings',
      status: 'ready',
      dimensions: 32,
      context_length: 128,
    })
    expect(embed.runtime).toMatch(/onnxruntime/)
    expect(embed.kind).toMatch(/^fixture/)
    expect(embed.source).toContain(join('embeddings', FIXTURE_EMBEDDER))
    expect(embed.details).toMatchObject({ device: 'cpu', dtype: 'fp32', pooling: 'mean' })
    expect(data.find((m) => m.id === FIXTURE_WHISPER)).toMatchObject({
      task: 'transcription',
      status: 'ready',
    })
    const rerank = data.find((m) => m.id === FIXTURE_RERANKER) as ModelCard
    expect(rerank).toMatchObject({ task: 'rerank', status: 'ready' })
    expect(rerank.kind).toMatch(/cross-encoder$/)
  })

  it('reports a broken model folder as failed with a clear error instead of crashing', async () => {
    const data = await models(server)
    const broken = data.find((m) => m.id === 'broken-embed') as ModelCard
    expect(broken).toMatchObject({
      status: 'failed',
      license: 'MIT',
      source: 'MODEL_DIR/embeddings/broken-embed',
    })
    expect(String(broken.details?.error)).toMatch(/protobuf|parse|load model/i)
    expect(String(broken.details?.error)).not.toContain(server.services.config.MODEL_DIR)
    const whisper = data.find((m) => m.id === 'whisper-tiny-broken') as ModelCard
    expect(whisper).toMatchObject({ task: 'transcription', status: 'failed' })
    expect(whisper.details?.error).toBe(
      'onnx/encoder_model.onnx and onnx/decoder_model_merged.onnx (or the _quantized/_fp16 variant) is missing',
    )
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as {
      status: string
      models: { id: string; error?: string }[]
    }
    expect(body.status).toBe('degraded')
    expect(body.models.find((m) => m.id === 'broken-embed')?.error).toBe(broken.details?.error)
    // Requests for it get a 503 naming the reason; the node keeps serving the rest.
    const res = await post(server, '/v1/embeddings', { model: 'broken-embed', input: 'x' })
    expect(res.status).toBe(503)
    expect(res.json.error.code).toBe('model_load_failed')
    // The real time until the next load attempt (MODEL_LOAD_RETRY_MS, 30 s by default).
    const retry = Number(res.headers.get('retry-after'))
    expect(retry).toBeGreaterThanOrEqual(1)
    expect(retry).toBeLessThanOrEqual(30)
    const audio = await client.audio.transcriptions
      .create({
        model: 'whisper-tiny-broken',
        file: await toFile(Buffer.from('RIFF'), 'a.wav'),
      })
      .catch((e: unknown) => e)
    expect(audio).toBeInstanceOf(OpenAI.InternalServerError)
    expect((audio as InstanceType<typeof OpenAI.APIError>).code).toBe('model_load_failed')
    const ok = await client.embeddings.create({ model: FIXTURE_EMBEDDER, input: 'still here' })
    expect(ok.data).toHaveLength(1)
  })

  it('never lists fixtures without the test flag, even when copied into MODEL_DIR', async () => {
    const ids = (await models(plain)).map((m) => m.id)
    expect(ids).toContain('use-lite-512')
    expect(ids).not.toContain('copied-fixture')
    expect(ids).not.toContain('copied-whisper')
    expect(ids.some((id) => id.startsWith('fixture-'))).toBe(false)
    const audio = await new OpenAI({
      baseURL: `${plain.url}/v1`,
      apiKey: DEV_API_KEY,
      maxRetries: 0,
    }).audio.transcriptions
      .create({
        model: 'copied-whisper',
        file: await toFile(Buffer.from('RIFF'), 'a.wav'),
      })
      .catch((e: unknown) => e)
    expect(audio).toBeInstanceOf(OpenAI.NotFoundError)
    const ready = await fetch(`${plain.url}/readyz`)
    expect(((await ready.json()) as { status: string }).status).toBe('ready')
  })
})
