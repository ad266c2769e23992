import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DEV_API_KEY } from '../config.js'
import { type RunningServer, startServer } from '../server.js'
import { pcm16Wav } from './wav.js'

// Needs the Debian packages pocketsphinx, pocketsphinx-en-us and sox (.ci/run installs them).
let server: RunningServer
const MODEL = 'pocketsphinx-en-us'

/** `seconds` of low noise as a 16 kHz mono 16-bit WAV (deterministic). */
function noise(seconds: number) {
  const samples = new Float32Array(Math.round(seconds * 16_000))
  let x = 12345
  for (let i = 0; i < samples.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    samples[i] = ((x % 2000) - 1000) / 32767
  }
  return pcm16Wav(samples, 16_000)
}

const transcribe = (wav: Buffer) => {
  const form = new FormData()
  form.set('model', MODEL)
  form.set('file', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'clip.wav')
  return fetch(`${server.url}/v1/audio/transcriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_API_KEY}` },
    body: form,
  })
}

const metric = (text: string, name: string, labels: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `))
  return line === undefined ? undefined : Number(line.split(' ').pop())
}

beforeAll(async () => {
  server = await startServer({ PORT: 0, MODEL_DIR: mkdtempSync(join(tmpdir(), 'mlnode-stt-')) })
})
afterAll(() => server?.close())

describe('transcription slots', () => {
  it('gives its slot back when the temporary folder cannot be made (no 429 for ever)', async () => {
    // TMPDIR names a file: mkdtemp fails for every request until it is put back.
    const file = join(mkdtempSync(join(tmpdir(), 'mlnode-stt-')), 'a-file')
    writeFileSync(file, 'x')
    const saved = process.env.TMPDIR
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    process.env.TMPDIR = file
    const statuses: number[] = []
    const codes: string[] = []
    try {
      // More than the two slots: a leaked slot would turn the third into a 429.
      for (let i = 0; i < 4; i++) {
        const res = await transcribe(noise(0.2))
        statuses.push(res.status)
        codes.push(((await res.json()) as { error: { code: string } }).error.code)
      }
    } finally {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
      vi.restoreAllMocks()
    }
    expect(statuses).toEqual([503, 503, 503, 503])
    expect(new Set(codes)).toEqual(new Set(['transcription_failed']))
    expect((await transcribe(noise(0.2))).status).toBe(200)
  })

  it('records in-progress work in mlnode_queue_depth and 429s in mlnode_rejected_total', async () => {
    const wav = noise(4)
    let maxDepth = 0
    let polling = true
    const poll = (async () => {
      while (polling) {
        const text = await (await fetch(`${server.url}/metrics`)).text()
        maxDepth = Math.max(maxDepth, metric(text, 'mlnode_queue_depth', `model="${MODEL}"`) ?? 0)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    const responses = await Promise.all(Array.from({ length: 6 }, () => transcribe(wav)))
    polling = false
    await poll
    const statuses = responses.map((r) => r.status)
    const refused = statuses.filter((s) => s === 429).length
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect(refused).toBeGreaterThanOrEqual(1)
    expect(maxDepth).toBeGreaterThanOrEqual(1)
    const text = await (await fetch(`${server.url}/metrics`)).text()
    expect(metric(text, 'mlnode_rejected_total', `model="${MODEL}",reason="queue_full"`)).toBe(
      refused,
    )
    expect(metric(text, 'mlnode_queue_depth', `model="${MODEL}"`)).toBe(0)
  }, 60_000)
})
