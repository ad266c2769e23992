import { env, SELF } from 'cloudflare:test'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { BASE, call, createKey, errorOf, eventually, fetcherWith, signup } from '../../test/helpers'

const client = (apiKey: string, fetcher: typeof fetch = SELF.fetch.bind(SELF)) =>
  new OpenAI({ apiKey, baseURL: `${BASE}/v1`, fetch: fetcher, maxRetries: 0 })

describe('POST /v1/embeddings (through the official openai client)', () => {
  it('forwards to the ml-node, meters the tokens, and /v1/usage aggregates them', async () => {
    const a = await signup('embed')
    const key = await createKey(a.token, ['embeddings'])
    const openai = client(key.key)
    const one = await openai.embeddings.create({
      model: 'use-lite-512',
      input: ['The cat sat on the mat.', 'Quarterly taxes are due.'],
    })
    expect(one.data).toHaveLength(2)
    expect(one.data[0]?.embedding).toHaveLength(512) // base64 by default, decoded by the SDK
    expect(one.usage.prompt_tokens).toBeGreaterThan(5)
    const two = await openai.embeddings.create({
      model: 'use-lite-512',
      input: 'hello world',
      encoding_format: 'float',
    })
    // A session user's call is metered without a key.
    const viaSession = await call('/v1/embeddings', {
      method: 'POST',
      token: a.token,
      json: { model: 'use-lite-512', input: 'hi' },
    })
    expect(viaSession.status).toBe(200)
    const bad = await openai.embeddings
      .create({ model: 'no-such-model', input: 'x' })
      .catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(OpenAI.NotFoundError)
    expect((bad as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found')

    const total = one.usage.prompt_tokens + two.usage.prompt_tokens
    const usage = await eventually(async () => {
      const r = await call('/v1/usage', { token: a.token })
      const rows = r.body.data as { api_key_id: string | null; model: string; requests: number }[]
      return rows.length === 3 && rows.reduce((n, x) => n + x.requests, 0) === 4 ? r.body : null
    })
    const today = new Date().toISOString().slice(0, 10)
    const byKey = usage.data.find(
      (r: { api_key_id: string | null; model: string }) =>
        r.api_key_id === key.id && r.model === 'use-lite-512',
    )
    expect(byKey).toMatchObject({
      date: today,
      requests: 2,
      errors: 0,
      tokens_in: total,
      tokens_out: 0,
    })
    expect(usage.data.find((r: { model: string }) => r.model === 'no-such-model')).toMatchObject({
      requests: 1,
      errors: 1,
      tokens_in: 0,
    })
    expect(
      usage.data.find((r: { api_key_id: string | null }) => r.api_key_id === null),
    ).toMatchObject({ requests: 1 })
    expect(usage.budget).toMatchObject({ plan: 'free', monthly_tokens: 1_000_000 })
    expect(usage.budget.used_tokens).toBe(total + viaSession.body.usage.prompt_tokens)
  })

  it('refuses calls once the monthly token budget is spent, with a clear error', async () => {
    const fetcher = fetcherWith({ TOKEN_BUDGET_MONTHLY_FREE: '30' })
    const a = await signup('budget', {}, fetcher)
    const key = await createKey(a.token, ['embeddings'], fetcher)
    const doFetch = (input: RequestInfo | URL, init?: RequestInit) =>
      fetcher(new URL(String(input instanceof Request ? input.url : input)).pathname, init)
    const openai = client(key.key, doFetch as typeof fetch)
    const text = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen'
    const first = await openai.embeddings.create({ model: 'use-lite-512', input: text })
    expect(first.usage.prompt_tokens).toBeGreaterThanOrEqual(15)
    expect(first.usage.prompt_tokens).toBeLessThan(30)
    // Under budget before the call, so it runs (a call may overshoot by its own tokens).
    const second = await openai.embeddings.create({ model: 'use-lite-512', input: text })
    expect(second.data).toHaveLength(1)
    const refused = await openai.embeddings
      .create({ model: 'use-lite-512', input: 'x' })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    const error = refused as InstanceType<typeof OpenAI.RateLimitError>
    expect(error.status).toBe(429)
    expect(error.code).toBe('token_budget_exceeded')
    expect(error.type).toBe('insufficient_quota')
    const used = first.usage.prompt_tokens + second.usage.prompt_tokens
    expect(error.message).toContain(`monthly token budget (${used} of 30 tokens)`)
    // Non-billable routes still work.
    expect((await call('/v1/me', { token: key.key }, fetcher)).status).toBe(200)
  })

  it('passes input_type to the ml-node: an asymmetric embedder prefixes queries and passages', async () => {
    const a = await signup('embedtype')
    const embed = async (json: Record<string, unknown>) => {
      const r = await call('/v1/embeddings', {
        method: 'POST',
        token: a.token,
        json: { model: 'asymmetric-fixture', ...json },
      })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return r.body.data[0].embedding as number[]
    }
    const text = 'where are invoices stored'
    // The ml-node puts `query: ` before an input_type query text; sent by hand it is the same.
    expect(await embed({ input: text, input_type: 'query' })).toEqual(
      await embed({ input: `query: ${text}` }),
    )
    expect(await embed({ input: text, input_type: 'document' })).toEqual(
      await embed({ input: `passage: ${text}` }),
    )
    expect(await embed({ input: text, input_type: 'query' })).not.toEqual(
      await embed({ input: text }),
    )
  })

  it('needs the embeddings scope and validates input, naming the field', async () => {
    const a = await signup('embedscope')
    const chatOnly = await createKey(a.token, ['chat'])
    const denied = await call('/v1/embeddings', {
      method: 'POST',
      token: chatOnly.key,
      json: { model: 'use-lite-512', input: 'x' },
    })
    expect(denied.status).toBe(403)
    expect(errorOf(denied).code).toBe('missing_scope')
    for (const [json, param] of [
      [{ input: 'x' }, 'model'],
      [{ model: 'use-lite-512' }, 'input'],
      [{ model: 'use-lite-512', input: [] }, 'input'],
      [{ model: 'use-lite-512', input: 'x', encoding_format: 'hex' }, 'encoding_format'],
      [{ model: 'use-lite-512', input: 'x', dimensions: -1 }, 'dimensions'],
      [{ model: 'use-lite-512', input: 'x', input_type: 'search' }, 'input_type'],
    ] as const) {
      const r = await call('/v1/embeddings', { method: 'POST', token: a.token, json })
      expect(r.status, JSON.stringify(json)).toBe(400)
      expect(errorOf(r).param).toBe(param)
    }
  })

  it('answers 502 without details when the ml-node refuses our token, 502 when unreachable', async () => {
    const a = await signup('embedup')
    const wrongKey = await call(
      '/v1/embeddings',
      { method: 'POST', token: a.token, json: { model: 'use-lite-512', input: 'x' } },
      fetcherWith({ ML_NODE_API_KEY: 'wrong-ml-node-token-123' }),
    )
    expect(wrongKey.status).toBe(502)
    expect(errorOf(wrongKey).code).toBe('upstream_error')
    expect(JSON.stringify(wrongKey.body)).not.toContain('wrong-ml-node-token-123')
    expect(JSON.stringify(wrongKey.body)).not.toContain(env.ML_NODE_API_KEY as string)
    const down = await call(
      '/v1/embeddings',
      { method: 'POST', token: a.token, json: { model: 'use-lite-512', input: 'x' } },
      fetcherWith({ ML_NODE_URL: 'http://127.0.0.1:1' }),
    )
    expect(down.status).toBe(502)
    expect(errorOf(down).code).toBe('upstream_unavailable')
  })
})

describe('GET /v1/usage', () => {
  it('validates the date range, naming the field', async () => {
    const a = await signup('usagebad')
    for (const [query, param] of [
      ['start_date=yesterday', 'start_date'],
      ['end_date=2026-13-01', 'end_date'],
      ['start_date=2026-05-02&end_date=2026-05-01', 'start_date'],
      ['start_date=2020-01-01&end_date=2026-01-01', 'start_date'],
    ] as const) {
      const r = await call(`/v1/usage?${query}`, { token: a.token })
      expect(r.status, query).toBe(400)
      expect(errorOf(r).param).toBe(param)
    }
    const empty = await call('/v1/usage?start_date=2026-01-01&end_date=2026-01-31', {
      token: a.token,
    })
    expect(empty.body).toMatchObject({ start_date: '2026-01-01', end_date: '2026-01-31', data: [] })
  })
})
