import { copyFileSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureFixtureGguf } from '../chat/fixture-gguf.js'
import { FIXTURE_ID } from '../chat/service.js'
import { DEV_API_KEY } from '../config.js'
import { ensureOnnxFixtures, FIXTURE_EMBEDDER, FIXTURE_RERANKER } from '../onnx/fixture-onnx.js'
import { FIXTURE_WHISPER } from '../onnx/fixture-whisper.js'
import { type RunningServer, startServer } from '../server.js'
import type { ModelCard } from './registry.js'

// One node whose MODEL_DIR/registry.json renames, aliases, defaults and disables models; the
// weights are the repository's random-weight fixtures (ONNX BERT, cross-encoder, Whisper, GGUF).
let server: RunningServer
let client: OpenAI
const auth = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' }

const registry = {
  aliases: {
    'text-embedding-3-small': 'my-embedder',
    'gpt-4o-mini': FIXTURE_ID,
    'openai/gpt-4o-mini': FIXTURE_ID,
    'rerank-english-v3.0': FIXTURE_RERANKER,
    'whisper-1': FIXTURE_WHISPER,
  },
  defaults: {
    embeddings: 'text-embedding-3-small',
    rerank: 'bm25',
    chat: 'tiny-chat',
    transcription: 'whisper-1',
  },
  models: [
    {
      id: 'my-embedder',
      task: 'embeddings',
      path: 'custom/bert',
      license: 'MIT',
      family: 'test BERT (registry)',
      prefix: 'query: ',
    },
    { id: 'renamed-bert', task: 'embeddings', path: 'embeddings/discovered-bert' },
    {
      id: 'asymmetric-bert',
      task: 'embeddings',
      path: 'custom/asymmetric',
      queryPrefix: 'query: ',
      passagePrefix: 'passage: ',
    },
    {
      id: 'tiny-chat',
      task: 'chat',
      path: 'weights/tiny.gguf',
      license: 'n/a',
      family: 'tiny test network (registry)',
    },
  ],
  disabled: ['use-lite-512', 'pocketsphinx-en-us'],
}

beforeAll(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mlnode-registry-'))
  const fixtures = ensureOnnxFixtures(join(tmp, 'fixtures'))
  const gguf = ensureFixtureGguf(join(tmp, 'fixture.gguf'))
  const models = join(tmp, 'models')
  const embedder = join(fixtures, 'embeddings', FIXTURE_EMBEDDER)
  cpSync(embedder, join(models, 'custom', 'bert'), { recursive: true })
  cpSync(embedder, join(models, 'custom', 'asymmetric'), { recursive: true })
  cpSync(embedder, join(models, 'embeddings', 'discovered-bert'), { recursive: true })
  mkdirSync(join(models, 'weights'))
  copyFileSync(gguf, join(models, 'weights', 'tiny.gguf'))
  writeFileSync(join(models, 'registry.json'), JSON.stringify(registry))
  server = await startServer({
    PORT: 0,
    MODEL_DIR: models,
    ML_NODE_TEST_ONNX_FIXTURES: fixtures,
    ML_NODE_TEST_CHAT_FIXTURE: gguf,
    ONNX_DEVICE: 'cpu',
    ONNX_THREADS: 1,
    LLAMA_THREADS: 2,
    LLAMA_CONTEXT_SIZE: 512,
    LLAMA_GPU: 'off',
  })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: DEV_API_KEY, maxRetries: 0 })
})
afterAll(() => server?.close())

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field below
  return { status: res.status, json: (await res.json()) as any }
}
const listed = async () =>
  (
    (await (await fetch(`${server.url}/v1/models`, { headers: auth })).json()) as {
      data: ModelCard[]
    }
  ).data

/** Same vector to 5 decimals (one model, two batches, may differ in the last float bits). */
const expectCloseVector = (got: number[], want: number[]) => {
  expect(got).toHaveLength(want.length)
  for (const [i, x] of got.entries()) expect(x).toBeCloseTo(want[i] as number, 5)
}

const embed = async (model: string, input: string) =>
  client.embeddings.create({ model, input, encoding_format: 'float' })

describe('aliases and defaults', () => {
  it('serves an embeddings alias with its target; the answer names the model that computed', async () => {
    const text = 'what is the capital of france'
    const viaAlias = await embed('text-embedding-3-small', text)
    const direct = await embed('my-embedder', text)
    expect(viaAlias.model).toBe('my-embedder')
    expect(viaAlias.data[0]?.embedding).toEqual(direct.data[0]?.embedding)
    // The entry's `prefix` is applied: the same weights under their fixture name, fed the prefix.
    const prefixed = await embed(FIXTURE_EMBEDDER, `query: ${text}`)
    const want = prefixed.data[0]?.embedding as number[]
    const got = viaAlias.data[0]?.embedding as number[]
    expect(got).toHaveLength(32)
    expectCloseVector(got, want)
    expect(viaAlias.usage.prompt_tokens).toBe(prefixed.usage.prompt_tokens)
    const plain = await embed(FIXTURE_EMBEDDER, text)
    expect(plain.data[0]?.embedding).not.toEqual(got)
    // No `model`, or `default`: defaults.embeddings, itself an alias.
    for (const body of [{ input: text }, { model: 'default', input: text }]) {
      const res = await post('/v1/embeddings', { ...body, encoding_format: 'float' })
      expect(res.status).toBe(200)
      expect(res.json.model).toBe('my-embedder')
      expect(res.json.data[0].embedding).toEqual(got)
    }
  })

  it('puts the input_type prefix before each text of an asymmetric embedder', async () => {
    const text = 'how do cron schedules fire'
    const vector = async (body: Record<string, unknown>) => {
      const res = await post('/v1/embeddings', { encoding_format: 'float', ...body })
      expect(res.status).toBe(200)
      return res.json.data[0].embedding as number[]
    }
    // The same weights under their fixture name, fed the prefixed text, are the reference.
    const fixture = (input: string) => vector({ model: FIXTURE_EMBEDDER, input })
    const model = 'asymmetric-bert'
    expectCloseVector(
      await vector({ model, input: text, input_type: 'query' }),
      await fixture(`query: ${text}`),
    )
    const passage = await fixture(`passage: ${text}`)
    expectCloseVector(await vector({ model, input: text, input_type: 'passage' }), passage)
    expectCloseVector(await vector({ model, input: [text], input_type: 'document' }), passage)
    expectCloseVector(await vector({ model, input: text }), await fixture(text))
    // A model with one `prefix` uses it whatever the input_type.
    expectCloseVector(
      await vector({ model: 'my-embedder', input: text, input_type: 'passage' }),
      await fixture(`query: ${text}`),
    )
    const bad = await post('/v1/embeddings', { model, input: text, input_type: 'search' })
    expect(bad.status).toBe(400)
    expect(bad.json.error.param).toBe('input_type')

    const cards = await listed()
    expect(cards.find((m) => m.id === model)?.text_prefixes).toEqual({
      default: '',
      query: 'query: ',
      passage: 'passage: ',
    })
    expect(cards.find((m) => m.id === 'my-embedder')?.text_prefixes).toEqual({
      default: 'query: ',
      query: 'query: ',
      passage: 'query: ',
    })
    expect(cards.find((m) => m.id === 'renamed-bert')).not.toHaveProperty('text_prefixes')
  })

  it('serves a rerank alias with the cross-encoder; the registry default wins over it', async () => {
    const body = { query: 'capital of france', documents: ['paris is the capital', 'cats'] }
    const viaAlias = await post('/v1/rerank', { ...body, model: 'rerank-english-v3.0' })
    const direct = await post('/v1/rerank', { ...body, model: FIXTURE_RERANKER })
    expect(viaAlias.status).toBe(200)
    expect(viaAlias.json.model).toBe(FIXTURE_RERANKER)
    expect(viaAlias.json.results).toEqual(direct.json.results)
    // Without the registry, `default` would pick the loaded cross-encoder (see onnx.test.ts).
    expect((await post('/v1/rerank', { ...body, model: 'default' })).json.model).toBe('bm25')
    expect((await post('/v1/rerank', body)).json.model).toBe('bm25')
  })

  it('serves a chat alias through the official client, and defaults.chat without a model', async () => {
    const messages = [{ role: 'user' as const, content: 'Say hello.' }]
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      max_tokens: 3,
      temperature: 0,
    })
    expect(res.model).toBe(FIXTURE_ID)
    expect(res.usage?.completion_tokens).toBeGreaterThan(0)
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      max_tokens: 2,
      stream: true,
    })
    for await (const chunk of stream) expect(chunk.model).toBe(FIXTURE_ID)
    const byDefault = await post('/v1/chat/completions', { messages, max_tokens: 2 })
    expect(byDefault.status).toBe(200)
    expect(byDefault.json.model).toBe('tiny-chat')
  })

  it('resolves a transcription alias and defaults.transcription before reading the audio', async () => {
    const send = async (model?: string) => {
      const form = new FormData()
      if (model) form.set('model', model)
      form.set('file', new Blob(['this is not audio']), 'notes.wav')
      const res = await fetch(`${server.url}/v1/audio/transcriptions`, {
        method: 'POST',
        headers: { authorization: auth.authorization },
        body: form,
      })
      return { status: res.status, json: (await res.json()) as { error: { code: string } } }
    }
    // Served by the Whisper fixture: it gets as far as converting the upload.
    for (const model of ['whisper-1', undefined]) {
      const res = await send(model)
      expect([res.status, res.json.error.code]).toEqual([400, 'invalid_audio'])
    }
    expect((await send('pocketsphinx-en-us')).status).toBe(404)
  })

  it('trains a classifier on an alias, recording the model id', async () => {
    const examples = [
      { text: 'great product, love it', label: 'pos' },
      { text: 'wonderful and fast', label: 'pos' },
      { text: 'terrible, broke at once', label: 'neg' },
      { text: 'awful support, never again', label: 'neg' },
    ]
    const viaAlias = await post('/v1/classifiers', {
      examples,
      embedding_model: 'text-embedding-3-small',
      epochs: 2,
    })
    expect(viaAlias.status).toBe(202)
    expect(viaAlias.json.features.embedding_model).toBe('my-embedder')
    const byDefault = await post('/v1/classifiers', { examples, epochs: 2 })
    expect(byDefault.json.features.embedding_model).toBe('my-embedder')
    await server.services.classifiers.idle()
    const out = await post('/v1/classify', { model: viaAlias.json.id, input: 'love it' })
    expect(out.status).toBe(200)
    expect(['pos', 'neg']).toContain(out.json.data[0].label)
  })
})

describe('disabled models and explicit entries', () => {
  it('answers 404 for a disabled model, listing the ids and aliases the route serves', async () => {
    const err = (await embed('use-lite-512', 'x').catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >
    expect(err).toBeInstanceOf(OpenAI.NotFoundError)
    expect(err.code).toBe('model_not_found')
    expect(err.message).toContain('disabled')
    expect(err.message).toContain('my-embedder')
    expect(err.message).toContain('text-embedding-3-small → my-embedder')
    const rerank = await post('/v1/rerank', {
      model: 'use-lite-512-cosine',
      query: 'q',
      documents: ['a'],
    })
    expect(rerank.status).toBe(404)
    expect(rerank.json.error.message).toContain('rerank-english-v3.0 → fixture-bert-cross-encoder')
  })

  it('lists served models and each alias once, never a disabled model or a claimed folder', async () => {
    const data = await listed()
    const ids = data.map((m) => m.id)
    for (const gone of [
      'use-lite-512',
      'use-lite-512-cosine',
      'pocketsphinx-en-us',
      'discovered-bert',
    ]) {
      expect(ids).not.toContain(gone)
    }
    expect(ids).toContain('renamed-bert')
    expect(new Set(ids).size).toBe(ids.length)
    const mine = data.find((m) => m.id === 'my-embedder') as ModelCard
    expect(mine).toMatchObject({
      task: 'embeddings',
      status: 'ready',
      license: 'MIT',
      family: 'test BERT (registry)',
      source: 'MODEL_DIR/custom/bert',
      dimensions: 32,
    })
    // Fixture weights stay labelled as such under any id.
    expect(mine.kind).toMatch(/^fixture/)
    const alias = data.find((m) => m.id === 'text-embedding-3-small')
    expect(alias).toEqual({ ...mine, id: 'text-embedding-3-small', alias_of: 'my-embedder' })
    const chat = data.find((m) => m.id === 'tiny-chat') as ModelCard
    expect(chat).toMatchObject({
      status: 'ready',
      license: 'n/a',
      family: 'tiny test network (registry)',
      source: 'MODEL_DIR/weights/tiny.gguf',
    })
    for (const name of ['gpt-4o-mini', 'openai/gpt-4o-mini']) {
      const one = await fetch(`${server.url}/v1/models/${name}`, { headers: auth })
      expect(await one.json()).toMatchObject({ id: name, alias_of: FIXTURE_ID, task: 'chat' })
    }
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as {
      models: { id: string }[]
    }
    expect(ready.models.map((m) => m.id)).not.toContain('gpt-4o-mini')
  })

  it('serves an entry for a discovered folder under the entry id only', async () => {
    expect((await embed('renamed-bert', 'x')).model).toBe('renamed-bert')
    const err = (await embed('discovered-bert', 'x').catch((e: unknown) => e)) as Error
    expect(err).toBeInstanceOf(OpenAI.NotFoundError)
  })

  it('lists a model under its own name when no registry file exists (the control)', async () => {
    const plain = await startServer({
      PORT: 0,
      MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-')),
      ONNX_DEVICE: 'cpu',
    })
    try {
      const res = await fetch(`${plain.url}/v1/models`, { headers: auth })
      const ids = ((await res.json()) as { data: ModelCard[] }).data.map((m) => m.id)
      expect(ids).toContain('use-lite-512')
      expect(ids).not.toContain('text-embedding-3-small')
      const missing = await fetch(`${plain.url}/v1/embeddings`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ input: 'x' }),
      })
      expect(missing.status).toBe(400)
    } finally {
      await plain.close()
    }
  })
})
