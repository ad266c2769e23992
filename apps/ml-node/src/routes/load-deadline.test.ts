import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { pcm16Wav } from '../audio/wav.js'
import { DEV_API_KEY } from '../config.js'
import { UseLiteEmbedder } from '../embeddings/use-lite.js'
import { OnnxCrossEncoder } from '../onnx/cross-encoder.js'
import { ensureOnnxFixtures, FIXTURE_RERANKER } from '../onnx/fixture-onnx.js'
import { FIXTURE_WHISPER } from '../onnx/fixture-whisper.js'
import { OnnxWhisper } from '../onnx/whisper.js'
import { type RunningServer, startServer } from '../server.js'

// Loads that hang (a never-settling promise, as a stuck disk or driver gives): a request must
// still end within its own deadline, or as soon as its client leaves.
// Long enough that a 499 after an abort cannot be confused with the deadline on a loaded machine.
const DEADLINE_MS = 10_000
let server: RunningServer
let release: (err: Error) => void = () => undefined

const auth = { authorization: `Bearer ${DEV_API_KEY}` }
const postJson = (path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  })

/** 0.1 s of silence as a 16 kHz mono 16-bit WAV. */
const silence = () => pcm16Wav(new Float32Array(1600), 16_000)

const transcribe = (signal?: AbortSignal) => {
  const form = new FormData()
  form.set('model', FIXTURE_WHISPER)
  form.set('file', new Blob([new Uint8Array(silence())], { type: 'audio/wav' }), 'clip.wav')
  return fetch(`${server.url}/v1/audio/transcriptions`, {
    method: 'POST',
    headers: auth,
    body: form,
    ...(signal ? { signal } : {}),
  })
}

async function metricsText() {
  return (await fetch(`${server.url}/metrics`)).text()
}

beforeAll(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mlnode-hung-'))
  const fixtures = ensureOnnxFixtures(join(tmp, 'fixtures'))
  const models = join(tmp, 'models')
  mkdirSync(models)
  const hung = new Promise<never>((_, reject) => {
    release = reject
  })
  hung.catch(() => undefined)
  vi.spyOn(UseLiteEmbedder.prototype, 'load').mockReturnValue(hung)
  vi.spyOn(OnnxCrossEncoder.prototype, 'load').mockReturnValue(hung)
  vi.spyOn(OnnxWhisper.prototype, 'load').mockReturnValue(hung)
  vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  server = await startServer(
    {
      PORT: 0,
      MODEL_DIR: models,
      ML_NODE_TEST_ONNX_FIXTURES: fixtures,
      ONNX_DEVICE: 'cpu',
      ONNX_THREADS: 1,
      REQUEST_TIMEOUT_MS: DEADLINE_MS,
      TRANSCRIBE_TIMEOUT_MS: DEADLINE_MS,
    },
    { waitReady: false },
  )
})
afterAll(async () => {
  // Let the loads fail so that start-up settles and close() can finish.
  release(new Error('test over'))
  await server?.close()
  vi.restoreAllMocks()
})

describe('a request waiting for a model load that hangs', () => {
  it('lists use-lite-512-cosine as loading while use-lite-512 is', async () => {
    const res = await fetch(`${server.url}/v1/models`, { headers: auth })
    const { data } = (await res.json()) as { data: { id: string; status: string }[] }
    expect(data.find((m) => m.id === 'use-lite-512')?.status).toBe('loading')
    expect(data.find((m) => m.id === 'use-lite-512-cosine')?.status).toBe('loading')
  })

  it('gets a 503 timeout with Retry-After within its deadline (embeddings, rerank, Whisper)', async () => {
    const started = performance.now()
    const timed = async (res: Promise<Response>) => {
      const r = await res
      return {
        r,
        ms: performance.now() - started,
        body: (await r.json()) as { error: { code: string } },
      }
    }
    const answers = await Promise.all([
      timed(postJson('/v1/embeddings', { model: 'use-lite-512', input: 'hello' })),
      timed(postJson('/v1/rerank', { model: FIXTURE_RERANKER, query: 'q', documents: ['a', 'b'] })),
      timed(transcribe()),
    ])
    for (const { r, ms, body } of answers) {
      expect(r.status).toBe(503)
      expect(body.error.code).toBe('timeout')
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 100)
      // Generous: a busy 2-core machine; without the fix these never answer at all.
      expect(ms).toBeLessThan(DEADLINE_MS + 10_000)
    }
    const text = await metricsText()
    for (const model of ['use-lite-512', FIXTURE_RERANKER, FIXTURE_WHISPER]) {
      expect(text).toMatch(
        new RegExp(`mlnode_rejected_total\\{model="${model}",reason="timeout"\\} [1-9]`),
      )
    }
  }, 30_000)

  it('stops waiting as soon as the client goes away', async () => {
    const before = await metricsText()
    const count = (text: string, route: string) =>
      Number(
        new RegExp(
          `mlnode_http_requests_total\\{method="POST",route="${route}",status="499"\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      )
    const routes = ['/v1/embeddings', '/v1/rerank', '/v1/audio/transcriptions']
    const ac = new AbortController()
    const pending = [
      postJson('/v1/embeddings', { model: 'use-lite-512', input: 'hello' }, ac.signal),
      postJson('/v1/rerank', { model: FIXTURE_RERANKER, query: 'q', documents: ['a'] }, ac.signal),
      transcribe(ac.signal),
    ].map((p) => p.catch(() => undefined))
    await new Promise((r) => setTimeout(r, 200))
    const aborted = performance.now()
    ac.abort()
    await Promise.all(pending)
    // The server finishes each request (499) well before the deadline would have ended it.
    let done = false
    while (!done && performance.now() - aborted < DEADLINE_MS - 500) {
      const now = await metricsText()
      done = routes.every((r) => count(now, r) > count(before, r))
      if (!done) await new Promise((r) => setTimeout(r, 50))
    }
    expect(done).toBe(true)
  }, 30_000)
})
