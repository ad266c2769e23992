import { mkdtempSync } from 'node:fs'
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
const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Say hello.' },
]

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlnode-chat-'))
  const fixture = ensureFixtureGguf(join(dir, 'fixture.gguf'))
  server = await startServer({
    PORT: 0,
    MODEL_DIR: dir,
    ML_NODE_TEST_CHAT_FIXTURE: fixture,
    LLAMA_THREADS: 2,
    LLAMA_CONTEXT_SIZE: 512,
    CHAT_QUEUE_MAX: 1,
    LLAMA_GPU: 'off',
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
