import { describe, expect, it } from 'vitest'
import type { ApiError } from '../http/errors.js'
import { Analyzer, loadFastText } from './analyzer.js'

const lidCard = (a: Analyzer) => a.cards().find((c) => c.id === 'fasttext-lid-176')
const config = { MODEL_LOAD_RETRY_MS: 200, MODEL_LOAD_RETRY_MAX_MS: 400 }

describe('fastText lid.176 load status', () => {
  it('is loading, then ready, on its own card (not a hard-coded ready)', async () => {
    const a = new Analyzer(config)
    expect(lidCard(a)?.status).toBe('loading')
    await a.start()
    expect(lidCard(a)?.status).toBe('ready')
    expect((await a.language('Bonjour tout le monde, comment allez-vous ?')).code).toBe('fr')
    a.close()
  })

  it('a failed load is reported, answers 503 with Retry-After, and heals after the delay', async () => {
    let calls = 0
    const a = new Analyzer(config, undefined, async () => {
      calls += 1
      if (calls === 1) throw new Error('lid.176.ftz could not be read')
      return loadFastText()
    })
    await a.start()
    expect(lidCard(a)).toMatchObject({
      status: 'failed',
      details: { error: 'lid.176.ftz could not be read' },
    })
    const err = (await a.language('hello there').catch((e: unknown) => e)) as ApiError
    expect(err.status).toBe(503)
    expect(err.code).toBe('model_load_failed')
    expect(err.headers['Retry-After']).toBe('1')
    // The rule-based tasks do not depend on it.
    expect(a.sentiment('great').label).toBe('positive')
    await new Promise((r) => setTimeout(r, 300))
    expect((await a.language('Das Essen war gut und der Kellner war freundlich.')).code).toBe('de')
    expect(lidCard(a)?.status).toBe('ready')
    a.close()
  })
})
