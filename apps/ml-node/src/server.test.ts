import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkConfig, DEV_API_KEY, loadConfig } from './config.js'
import { type RunningServer, startServer } from './server.js'

const KEY = 'test-key-0123456789abcdef'
let server: RunningServer
const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

beforeAll(async () => {
  server = await startServer(
    { PORT: 0, BODY_LIMIT_BYTES: 4096 },
    {
      env: {
        ML_NODE_API_KEYS: `other-key-abcdefghijkl,${KEY}`,
        MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-')),
      },
    },
  )
})
afterAll(() => server.close())

describe('config', () => {
  it('uses the documented dev token when no keys are set, and refuses that in production', () => {
    expect(loadConfig({}).apiKeys).toEqual([DEV_API_KEY])
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ML_NODE_API_KEYS/)
  })
  it('refuses a queue smaller than the largest request, naming both variables', () => {
    expect(() => loadConfig({ QUEUE_MAX_ITEMS: '1024', MAX_INPUTS_PER_REQUEST: '2048' })).toThrow(
      /QUEUE_MAX_ITEMS \(1024\).*MAX_INPUTS_PER_REQUEST \(2048\)/,
    )
    const defaults = loadConfig({})
    expect(defaults.QUEUE_MAX_ITEMS).toBeGreaterThanOrEqual(defaults.MAX_INPUTS_PER_REQUEST)
    expect(() =>
      loadConfig({ MODEL_LOAD_RETRY_MS: '60000', MODEL_LOAD_RETRY_MAX_MS: '1000' }),
    ).toThrow(/MODEL_LOAD_RETRY_MAX_MS/)
  })

  it('takes llama.cpp threads from LLAMA_THREADS, also when overridden in code', () => {
    expect(loadConfig({ LLAMA_THREADS: '3' }).threads).toBe(3)
    expect(loadConfig({}).threads).toBeGreaterThan(0)
    expect(checkConfig({ ...loadConfig({}), LLAMA_THREADS: 5 }).threads).toBe(5)
  })

  it('names the bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/)
    expect(() => loadConfig({ ML_NODE_API_KEYS: 'short' })).toThrow(/ML_NODE_API_KEYS/)
  })
})

describe('health and auth', () => {
  it('serves /healthz, /readyz and /metrics without a token', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { status: string }).status).toBe('ready')
    await fetch(`${server.url}/v1/models`, { headers: auth })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toContain(
      'mlnode_http_requests_total{method="GET",route="/v1/models",status="200"}',
    )
    expect(metrics).toContain('mlnode_model_load_seconds{model="use-lite-512"}')
    expect(metrics).toContain('mlnode_queue_depth')
  })

  it('rejects a missing or wrong token with 401 in OpenAI shape, without echoing it', async () => {
    const none = await fetch(`${server.url}/v1/models`)
    expect(none.status).toBe(401)
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('missing_api_key')
    const wrong = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: 'Bearer sk-secret-guess-123' },
    })
    expect(wrong.status).toBe(401)
    const text = await wrong.text()
    expect(text).not.toContain('sk-secret-guess-123')
    const client = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: 'nope-nope-nope-nope',
      maxRetries: 0,
    })
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
  })

  it('accepts any of the configured tokens', async () => {
    const res = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: 'Bearer other-key-abcdefghijkl' },
    })
    expect(res.status).toBe(200)
  })
})

describe('/v1/models', () => {
  it('lists every model honestly through the official client', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const models = (await client.models.list()).data as unknown as Record<string, unknown>[]
    const byId = new Map(models.map((m) => [m.id, m]))
    expect(byId.get('use-lite-512')).toMatchObject({
      task: 'embeddings',
      dimensions: 512,
      license: 'Apache-2.0',
      status: 'ready',
    })
    expect(byId.get('vader-lexicon')).toMatchObject({ kind: 'lexicon', task: 'sentiment' })
    expect(byId.get('compromise')).toMatchObject({ kind: 'rule-based' })
    expect(String(byId.get('use-lite-512-cosine')?.kind)).toContain('bi-encoder')
    expect(String(byId.get('bm25')?.kind)).toContain('lexical')
    expect(byId.has('fixture-tiny-random')).toBe(false)
    expect(models.some((m) => m.task === 'chat')).toBe(false)
    for (const m of models) {
      for (const field of ['id', 'task', 'kind', 'runtime', 'source', 'license', 'status'])
        expect(m, String(m.id)).toHaveProperty(field)
    }
    const one = await client.models.retrieve('bm25')
    expect(one.id).toBe('bm25')
    const missing = await fetch(`${server.url}/v1/models/gpt-4o`, { headers: auth })
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
      'use-lite-512',
    )
  })
})

describe('limits and errors', () => {
  it('answers 413 for a body over the limit', async () => {
    const res = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'use-lite-512', input: 'x'.repeat(10_000) }),
    })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body_too_large')
  })

  it('answers 404 in OpenAI shape for unknown routes', async () => {
    const res = await fetch(`${server.url}/v1/nope`, { headers: auth })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'unknown_url' },
    })
  })

  it('says clearly that no chat model is configured', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 })
    const err = (await client.chat.completions
      .create({ model: 'llama-3', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err.status).toBe(404)
    expect(err.code).toBe('no_chat_model_configured')
    expect(err.message).toContain('No chat model is configured')
  })

  it('answers 400 naming the field on every JSON route', async () => {
    const cases: [string, unknown, string][] = [
      ['/v1/rerank', { model: 'bm25', query: 'q', documents: [] }, 'documents'],
      ['/v1/rerank', { model: 'bm25', documents: ['a'] }, 'query'],
      ['/v1/rerank', { model: 'bm25', query: 'q', documents: ['a'], top_n: 0 }, 'top_n'],
      ['/v1/analyze', { text: '' }, 'text'],
      ['/v1/analyze', { text: 'hello', tasks: ['sarcasm'] }, 'tasks[0]'],
      ['/v1/classifiers', { examples: [{ text: 'a', label: 'x' }] }, 'examples'],
      ['/v1/classifiers', { examples: [1, 2, 3, 4] }, 'examples[0]'],
      ['/v1/classify', { input: 'x' }, 'model'],
      ['/v1/chat/completions', { model: 'm', messages: [] }, 'messages'],
      [
        '/v1/chat/completions',
        { model: 'm', messages: [{ role: 'wizard', content: 'x' }] },
        'messages[0].role',
      ],
      [
        '/v1/chat/completions',
        { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 9 },
        'temperature',
      ],
      [
        '/v1/chat/completions',
        { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 3 },
        'n',
      ],
    ]
    for (const [path, body, param] of cases) {
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(body),
      })
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      const json = (await res.json()) as { error: { param: string } }
      expect(json.error.param, path).toBe(param)
    }
    const unknown = await fetch(`${server.url}/v1/rerank`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'cohere-rerank-v3', query: 'q', documents: ['a'] }),
    })
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'bm25',
    )
  })
})
