import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureFixtureGguf } from '../chat/fixture-gguf.js'
import { FIXTURE_ID } from '../chat/service.js'
import { DEV_API_KEY } from '../config.js'
import { type RunningServer, startServer } from '../server.js'

let server: RunningServer
let client: OpenAI
let dir: string
let fixture: string
const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Say hello.' },
]
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const auth = { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' }

/** Completion tokens generated so far by a server for the fixture. */
async function completionTokens(s: RunningServer, model = FIXTURE_ID) {
  const v = (await s.services.metrics.tokens.get()).values.find(
    (x) => x.labels.model === model && x.labels.kind === 'completion',
  )
  return v?.value ?? 0
}

/** Polls until `check` holds (or fails the test after `ms`). */
async function until(check: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await sleep(20)
  }
}

/** A raw request the test can drop mid-flight (the openai client cannot be cut off that way). */
function rawChat(body: Record<string, unknown>) {
  const req = request(`${server.url}/v1/chat/completions`, { method: 'POST', headers: auth })
  req.on('error', () => undefined)
  req.on('response', (res) => {
    res.on('data', () => undefined)
    res.on('error', () => undefined)
  })
  req.end(JSON.stringify({ model: FIXTURE_ID, messages, temperature: 0, ...body }))
  return req
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlnode-chat-'))
  fixture = ensureFixtureGguf(join(dir, 'fixture.gguf'))
  // A GGUF that llama.cpp cannot read, in MODEL_DIR/chat beside nothing else.
  mkdirSync(join(dir, 'chat'))
  writeFileSync(join(dir, 'chat', 'broken.gguf'), Buffer.from('GGUF this is not a model'))
  server = await startServer({
    PORT: 0,
    MODEL_DIR: dir,
    ML_NODE_TEST_CHAT_FIXTURE: fixture,
    LLAMA_THREADS: 2,
    LLAMA_CONTEXT_SIZE: 512,
    CHAT_QUEUE_MAX: 1,
    LLAMA_GPU: 'off',
    MODEL_LOAD_RETRY_MS: 500,
    MODEL_LOAD_RETRY_MAX_MS: 1000,
  })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: DEV_API_KEY, maxRetries: 0 })
})
afterAll(() => server.close())

describe('POST /v1/chat/completions against the random-weight fixture (real llama.cpp)', () => {
  it('labels the fixture as a fixture in /v1/models when the test flag points at it', async () => {
    const m = (await client.models.retrieve(FIXTURE_ID)) as unknown as Record<string, unknown>
    expect(m.task).toBe('chat')
    expect(String(m.kind)).toMatch(/^fixture/)
    expect(m.context_length).toBe(512)
  })

  it('answers non-streaming with usage and finish_reason length at max_tokens', async () => {
    const res = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 8,
      temperature: 0,
    })
    expect(res.object).toBe('chat.completion')
    expect(res.id).toMatch(/^chatcmpl-/)
    expect(res.choices[0]?.message.role).toBe('assistant')
    expect(res.choices[0]?.message.content?.length).toBeGreaterThan(0)
    expect(res.choices[0]?.finish_reason).toBe('length')
    expect(res.usage?.completion_tokens).toBe(8)
    expect(res.usage?.prompt_tokens).toBeGreaterThan(3)
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + 8)
  })

  it('is deterministic for a fixed seed', async () => {
    const a = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 6,
      temperature: 0.9,
      seed: 7,
    })
    const b = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 6,
      temperature: 0.9,
      seed: 7,
    })
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content)
  })

  it('streams OpenAI chunks, with include_usage, that add up to the whole reply', async () => {
    const stream = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 10,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = []
    for await (const ch of stream) chunks.push(ch)
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    expect(
      chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id),
    ).toBe(true)
    const last = chunks[chunks.length - 1]
    expect(last?.choices).toEqual([])
    expect(last?.usage?.completion_tokens).toBe(10)
    const finish = chunks[chunks.length - 2]
    expect(finish?.choices[0]?.finish_reason).toBe('length')
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')
    const whole = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 10,
      temperature: 0,
    })
    expect(text).toBe(whole.choices[0]?.message.content)
  })

  it('stops generating when the client disconnects, and serves the next caller', async () => {
    const before = (await server.services.metrics.tokens.get()).values.find(
      (v) => v.labels.model === FIXTURE_ID && v.labels.kind === 'completion',
    )?.value as number
    await new Promise<void>((resolve, reject) => {
      const req = request(
        `${server.url}/v1/chat/completions`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
        },
        (res) => {
          expect(res.statusCode).toBe(200)
          let seen = 0
          res.on('data', (d: Buffer) => {
            seen += (d.toString().match(/"content"/g) ?? []).length
            if (seen >= 3) {
              req.destroy()
              resolve()
            }
          })
          res.on('error', () => undefined)
        },
      )
      req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
      req.end(
        JSON.stringify({
          model: FIXTURE_ID,
          messages,
          max_tokens: 400,
          stream: true,
          temperature: 0,
        }),
      )
    })
    // The slot is released well before 400 tokens would have been produced.
    const next = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 2,
    })
    expect(next.choices[0]?.finish_reason).toBe('length')
    const after = (await server.services.metrics.tokens.get()).values.find(
      (v) => v.labels.model === FIXTURE_ID && v.labels.kind === 'completion',
    )?.value as number
    expect(after - before).toBeLessThan(200)
  })

  it('answers 429 with Retry-After when more callers wait than the queue allows', async () => {
    const calls = Array.from({ length: 4 }, () =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: FIXTURE_ID, messages, max_tokens: 8 }),
      }),
    )
    const res = await Promise.all(calls)
    const statuses = res.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2)
    expect(statuses).toContain(429)
    expect(res.find((r) => r.status === 429)?.headers.get('retry-after')).toBeTruthy()
  })

  it('404s an unknown chat model listing the known ones', async () => {
    const err = (await client.chat.completions
      .create({ model: 'gpt-4o', messages })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err.status).toBe(404)
    expect(err.message).toContain(FIXTURE_ID)
  })
})

describe('chat options', () => {
  it('stops at a stop string, without it, with finish_reason stop', async () => {
    const base = { model: FIXTURE_ID, messages, max_tokens: 24, temperature: 0 }
    const whole = (await client.chat.completions.create(base)).choices[0]?.message.content ?? ''
    // A piece from the middle of the (gibberish) reply; the reply must end just before it.
    const at = Math.max(1, Math.floor(whole.length / 2))
    const stopAt = whole.slice(at, at + 3)
    expect(stopAt.trim().length, whole).toBeGreaterThan(0)
    const cut = await client.chat.completions.create({ ...base, stop: [stopAt, '\u0000never'] })
    expect(cut.choices[0]?.finish_reason).toBe('stop')
    expect(cut.choices[0]?.message.content).toBe(whole.slice(0, whole.indexOf(stopAt)))
    expect(cut.usage?.completion_tokens).toBeLessThan(24)
  })

  it('takes top_p in (0, 1] and the penalties in [-2, 2]; refuses values outside', async () => {
    const ok = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 4,
      top_p: 0.5,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      seed: 3,
    })
    expect(ok.choices[0]?.finish_reason).toBe('length')
    for (const [field, value] of [
      ['top_p', 0],
      ['top_p', 1.5],
      ['frequency_penalty', 2.5],
      ['presence_penalty', -3],
    ] as const) {
      const err = (await client.chat.completions
        .create({ model: FIXTURE_ID, messages, [field]: value })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
      expect(err.status, `${field}=${value}`).toBe(400)
      expect(err.param).toBe(field)
    }
  })

  it('penalties change what is sampled (they reach llama.cpp)', async () => {
    const base = { model: FIXTURE_ID, messages, max_tokens: 24, temperature: 0 }
    const plain = (await client.chat.completions.create(base)).choices[0]?.message.content
    const penalised = (
      await client.chat.completions.create({ ...base, frequency_penalty: 2, presence_penalty: 2 })
    ).choices[0]?.message.content
    expect(penalised).not.toBe(plain)
  })

  it('response_format json_object: every finished reply parses as a JSON object', async () => {
    // Random weights ramble inside a JSON string until max_tokens; sampling with a few fixed
    // seeds gives replies that close the object. Any reply that ends on its own must parse.
    const replies = []
    for (let seed = 1; seed <= 12; seed++) {
      const res = await client.chat.completions.create({
        model: FIXTURE_ID,
        messages,
        max_tokens: 16,
        temperature: 1,
        seed,
        response_format: { type: 'json_object' },
      })
      replies.push(res.choices[0])
    }
    const finished = replies.filter((r) => r?.finish_reason === 'stop')
    expect(finished.length).toBeGreaterThan(0)
    for (const r of finished) {
      const parsed = JSON.parse(r?.message.content ?? '') as unknown
      expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)).toBe(true)
    }
    for (const r of replies) expect(r?.message.content?.trimStart().startsWith('{')).toBe(true)
  })

  it('response_format json_schema: the reply matches the schema', async () => {
    const res = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 100,
      temperature: 0.8,
      seed: 5,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          schema: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              mood: { enum: ['calm', 'busy'] },
            },
            required: ['ok', 'mood'],
            additionalProperties: false,
          },
        },
      },
    })
    const parsed = JSON.parse(res.choices[0]?.message.content ?? '') as Record<string, unknown>
    expect(Object.keys(parsed).sort()).toEqual(['mood', 'ok'])
    expect(typeof parsed.ok).toBe('boolean')
    expect(['calm', 'busy']).toContain(parsed.mood)
  })

  it('refuses n > 1, logprobs, tools and a bad response_format with a 400 naming the field', async () => {
    const tool = {
      type: 'function' as const,
      function: { name: 'f', parameters: { type: 'object', properties: {} } },
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ n: 2 }, 'n'],
      [{ logprobs: true }, 'logprobs'],
      [{ top_logprobs: 3 }, 'top_logprobs'],
      [{ tools: [tool] }, 'tools'],
      [{ tool_choice: 'required' }, 'tool_choice'],
      [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
      [{ response_format: { type: 'yaml' } }, 'response_format.type'],
      [{ response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
      [
        {
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'x', schema: { type: 'string', pattern: '^a+$' } },
          },
        },
        'response_format.json_schema.schema',
      ],
    ]
    for (const [extra, param] of cases) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: FIXTURE_ID, messages, ...extra }),
      })
      expect(res.status, JSON.stringify(extra)).toBe(400)
      const body = (await res.json()) as { error: { param: string; message: string } }
      expect(body.error.param, JSON.stringify(extra)).toBe(param)
    }
    // Through the official client too: tools are refused, not silently ignored.
    const err = (await client.chat.completions
      .create({ model: FIXTURE_ID, messages, tools: [tool] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err.status).toBe(400)
    expect(err.message).toContain('tool calls are not supported')
  })
})

describe('disconnects', () => {
  it('stops a non-streaming generation when its client disconnects', async () => {
    const before = await completionTokens(server)
    const req = rawChat({ max_tokens: 400 })
    await until(() => server.services.chat.running === 1)
    await sleep(300)
    req.destroy()
    await until(() => server.services.chat.running === 0)
    const next = await client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 2,
    })
    expect(next.choices[0]?.finish_reason).toBe('length')
    expect((await completionTokens(server)) - before).toBeLessThan(200)
  })

  it('drops a queued client that disconnects: it is never generated for, nobody waits behind it', async () => {
    const before = await completionTokens(server)
    const first = client.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 300,
      temperature: 0,
    })
    let firstDone = false
    void first.then(() => {
      firstDone = true
    })
    await until(() => server.services.chat.running === 1)
    const queued = rawChat({ max_tokens: 400 })
    await until(() => server.services.chat.queued === 1)
    queued.destroy()
    // It leaves the queue at once, not when its turn comes.
    await until(() => server.services.chat.queued === 0, 5000)
    expect(firstDone).toBe(false)
    // CHAT_QUEUE_MAX is 1: the next caller gets the place the one who left would have kept.
    const next = client.chat.completions.create({ model: FIXTURE_ID, messages, max_tokens: 2 })
    const [a, b] = await Promise.all([first, next])
    expect(b.choices[0]?.finish_reason).toBe('length')
    const spent = (await completionTokens(server)) - before
    expect(spent).toBe((a.usage?.completion_tokens ?? 0) + (b.usage?.completion_tokens ?? 0))
  })
})

describe('a broken GGUF in MODEL_DIR/chat', () => {
  it('is failed in /v1/models, /readyz is 200 degraded, its requests 503 with a true Retry-After', async () => {
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as {
      status: string
      models: { id: string; error?: string }[]
    }
    expect(body.status).toBe('degraded')
    expect(body.models.find((m) => m.id === 'broken')?.error).toBeTruthy()
    expect(body.models.find((m) => m.id === 'broken')?.error).not.toContain(dir)
    const m = (await client.models.retrieve('broken')) as unknown as Record<string, unknown>
    expect(m.status).toBe('failed')
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ model: 'broken', messages }),
    })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('model_load_failed')
    // MODEL_LOAD_RETRY_MS is 500 ms here (at most 1 s with backoff): never the old fixed 30.
    expect(Number(res.headers.get('retry-after'))).toBe(1)
    // The fixture itself keeps serving.
    const ok = await client.chat.completions.create({ model: FIXTURE_ID, messages, max_tokens: 2 })
    expect(ok.choices[0]?.finish_reason).toBe('length')
  })

  it('heals without a restart once the file is fixed', async () => {
    copyFileSync(fixture, join(dir, 'chat', 'broken.gguf'))
    let last = 0
    await until(async () => {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'broken', messages, max_tokens: 2 }),
      })
      last = res.status
      await res.body?.cancel()
      return res.status === 200
    }, 30_000).catch(() => undefined)
    expect(last).toBe(200)
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string }
    expect(ready.status).toBe('ready')
  })
})

describe('CHAT_TIMEOUT_MS', () => {
  let slow: RunningServer
  let slowClient: OpenAI
  beforeAll(async () => {
    slow = await startServer({
      PORT: 0,
      MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-chat-deadline-')),
      ML_NODE_TEST_CHAT_FIXTURE: fixture,
      LLAMA_THREADS: 2,
      LLAMA_CONTEXT_SIZE: 512,
      LLAMA_GPU: 'off',
      CHAT_TIMEOUT_MS: 1500,
    })
    slowClient = new OpenAI({ baseURL: `${slow.url}/v1`, apiKey: DEV_API_KEY, maxRetries: 0 })
  })
  afterAll(() => slow?.close())

  it('answers a non-streaming request past the deadline with a 503 and stops generating', async () => {
    const before = await completionTokens(slow)
    const started = Date.now()
    const err = (await slowClient.chat.completions
      .create({ model: FIXTURE_ID, messages, max_tokens: 500, temperature: 0 })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err).toBeInstanceOf(OpenAI.InternalServerError)
    expect(err.status).toBe(503)
    expect(err.code).toBe('timeout')
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
    expect(slow.services.chat.running).toBe(0)
    expect((await completionTokens(slow)) - before).toBeLessThan(500)
  })

  it('ends a stream past the deadline with an error event', async () => {
    const stream = await slowClient.chat.completions.create({
      model: FIXTURE_ID,
      messages,
      max_tokens: 500,
      temperature: 0,
      stream: true,
    })
    let chunks = 0
    const err = await (async () => {
      for await (const _ of stream) chunks++
    })().catch((e: unknown) => e)
    expect(chunks).toBeGreaterThan(1)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('timeout')
    expect(slow.services.chat.running).toBe(0)
  })
})
