import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../config.js'
import { type RunningServer, startServer } from '../server.js'

let server: RunningServer
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field below
  return { status: res.status, json: (await res.json()) as Record<string, any> }
}

beforeAll(async () => {
  server = await startServer({ PORT: 0, MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-')) })
})
afterAll(() => server.close())

const TEXT =
  'Tim Cook opened a new office in Berlin on 3 March 2024. The engineers there are excellent and the team loves the city. ' +
  'The building cost $20 million. Critics called the lobby ugly and noisy.'

describe('POST /v1/analyze', () => {
  it('identifies languages with fastText lid.176', async () => {
    const fr = await post('/v1/analyze', {
      text: 'Bonjour tout le monde, comment allez-vous ?',
      tasks: ['language'],
    })
    expect(fr.status).toBe(200)
    expect(fr.json.language).toMatchObject({
      code: 'fr',
      iso639_3: 'fra',
      model: 'fasttext-lid-176',
    })
    expect(fr.json.language.confidence).toBeGreaterThan(0.9)
    const de = await post('/v1/analyze', {
      text: 'Das Essen war gut und der Kellner war freundlich.',
      tasks: ['language'],
    })
    expect(de.json.language.code).toBe('de')
    expect(de.json.sentiment).toBeUndefined()
  })

  it('scores sentiment with the VADER lexicon, labelled as such', async () => {
    const pos = await post('/v1/analyze', {
      text: 'The food was great and the staff were lovely!',
      tasks: ['sentiment'],
    })
    expect(pos.json.sentiment).toMatchObject({
      label: 'positive',
      kind: 'lexicon',
      model: 'vader-lexicon',
    })
    expect(pos.json.sentiment.compound).toBeCloseTo(0.8478, 3)
    const neg = await post('/v1/analyze', {
      text: 'I hate this terrible, awful product.',
      tasks: ['sentiment'],
    })
    expect(neg.json.sentiment.label).toBe('negative')
    const neu = await post('/v1/analyze', {
      text: 'The meeting is on Tuesday.',
      tasks: ['sentiment'],
    })
    expect(neu.json.sentiment.label).toBe('neutral')
  })

  it('finds entities with character offsets', async () => {
    const { json } = await post('/v1/analyze', { text: TEXT, tasks: ['entities'] })
    const ents = json.entities as { text: string; type: string; start: number; end: number }[]
    const pick = (type: string) => ents.filter((e) => e.type === type).map((e) => e.text)
    expect(pick('PERSON')).toContain('Tim Cook')
    expect(pick('PLACE')).toContain('Berlin')
    expect(pick('DATE')).toContain('3 March 2024')
    expect(pick('MONEY')).toContain('$20 million')
    for (const e of ents) expect(TEXT.slice(e.start, e.end)).toBe(e.text)
  })

  it('extracts keywords and an extractive summary made of the input sentences', async () => {
    const { json } = await post('/v1/analyze', {
      text: TEXT,
      tasks: ['keywords', 'summary'],
      max_keywords: 4,
      summary_sentences: 2,
    })
    expect(json.keywords).toHaveLength(4)
    expect(json.keywords.map((k: { text: string }) => k.text)).toContain('berlin')
    expect(json.summary.sentences).toHaveLength(2)
    for (const s of json.summary.sentences) expect(TEXT).toContain(s.text)
    expect(json.summary.sentences[0].index).toBeLessThan(json.summary.sentences[1].index)
  })
})

describe('POST /v1/rerank', () => {
  const docs = [
    'Paris is the capital and most populous city of France.',
    'The mitochondria is the powerhouse of the cell.',
    'Berlin is the capital of Germany.',
    'Photosynthesis converts light into chemical energy in plants.',
  ]

  it('ranks with BM25 in the Cohere/Jina/TEI shape', async () => {
    const { status, json } = await post('/v1/rerank', {
      model: 'bm25',
      query: 'capital of France',
      documents: docs,
      top_n: 2,
      return_documents: true,
    })
    expect(status).toBe(200)
    expect(json.results).toHaveLength(2)
    expect(json.results[0]).toMatchObject({ index: 0, document: { text: docs[0] } })
    expect(json.results[0].relevance_score).toBeGreaterThan(json.results[1].relevance_score)
    expect(json.usage.total_tokens).toBeGreaterThan(0)
  })

  it('ranks with the USE-lite bi-encoder', async () => {
    const { json } = await post('/v1/rerank', {
      model: 'use-lite-512-cosine',
      query: 'How do plants make energy from sunlight?',
      documents: docs.map((text) => ({ text })),
    })
    expect(json.results).toHaveLength(4)
    expect(json.results[0].index).toBe(3)
    expect(json.results[0].document).toBeUndefined()
  })
})
