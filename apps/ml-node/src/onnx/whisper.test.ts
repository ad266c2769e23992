import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AutoModelForSpeechSeq2Seq,
  type AutomaticSpeechRecognitionPipeline,
  AutoProcessor,
  AutoTokenizer,
  pipeline,
  Tensor,
} from '@huggingface/transformers'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pcm16Wav } from '../audio/wav.js'
import { DEV_API_KEY } from '../config.js'
import type { ModelCard } from '../models/registry.js'
import { type RunningServer, startServer } from '../server.js'
import { inspectModelFolder } from './discovery.js'
import {
  CLOSING_TIMESTAMP,
  ensureWhisperFixture,
  FIXTURE_LANGUAGES,
  FIXTURE_WHISPER,
  whisperFixtureVocab,
} from './fixture-whisper.js'
import { OnnxWhisper } from './whisper.js'

// Needs sox (the Whisper path converts uploads with it) and, for the speech clip and the
// pocketsphinx comparison, espeak-ng and pocketsphinx (.ci/run installs them).
let server: RunningServer
let client: OpenAI
let dir: string
let speech: Buffer
let silence: Buffer
/** The same fixture, loaded in this process through transformers.js, for reference outputs. */
let reference: AutomaticSpeechRecognitionPipeline
const SENTENCE = 'I would like to book a table for two people tonight'
const vocab = whisperFixtureVocab()
const DTYPE = { encoder_model: 'fp32', decoder_model_merged: 'fp32' } as const

/** What the node feeds the pipeline: sox's 16 kHz mono float conversion of the upload. */
function samplesOf(wav: Buffer) {
  const work = mkdtempSync(join(tmpdir(), 'mlnode-whisper-ref-'))
  writeFileSync(join(work, 'in.wav'), wav)
  const raw = join(work, 'out.f32')
  const args = ['-r', '16000', '-c', '1', '-b', '32', '-e', 'floating-point', '-t', 'raw', raw]
  execFileSync('sox', [join(work, 'in.wav'), ...args])
  const bytes = readFileSync(raw)
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
}

const upload = (wav: Buffer) => new File([new Uint8Array(wav)], 'clip.wav', { type: 'audio/wav' })
const lang = (language?: string) => (language ? { language } : {})
const transcribe = (wav: Buffer, language?: string) =>
  client.audio.transcriptions.create({
    model: FIXTURE_WHISPER,
    file: upload(wav),
    ...lang(language),
  })
const transcribeVerbose = (wav: Buffer, language?: string) =>
  client.audio.transcriptions.create({
    model: FIXTURE_WHISPER,
    file: upload(wav),
    response_format: 'verbose_json',
    ...lang(language),
  })

beforeAll(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mlnode-whisper-'))
  const fixtures = join(tmp, 'fixtures')
  dir = ensureWhisperFixture(fixtures)
  const file = join(tmp, 'speech.wav')
  try {
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', file, SENTENCE])
  } catch {
    throw new Error('espeak-ng is missing: apt-get install espeak-ng pocketsphinx-en-us sox')
  }
  speech = readFileSync(file)
  silence = pcm16Wav(new Float32Array(16_000), 16_000)
  const models = join(tmp, 'models')
  mkdirSync(models)
  server = await startServer({
    PORT: 0,
    MODEL_DIR: models,
    ML_NODE_TEST_ONNX_FIXTURES: fixtures,
    ONNX_DEVICE: 'cpu',
    ONNX_THREADS: 1,
  })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: DEV_API_KEY, maxRetries: 0 })
  reference = (await pipeline('automatic-speech-recognition', dir, {
    device: 'cpu',
    dtype: DTYPE,
    session_options: { intraOpNumThreads: 1 },
  })) as AutomaticSpeechRecognitionPipeline
})
afterAll(async () => {
  await reference?.dispose()
  await server?.close()
})

describe('Whisper through transformers.js (random-weight fixture)', () => {
  it('is listed in /v1/models as a ready transcription fixture on onnxruntime', async () => {
    const res = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: `Bearer ${DEV_API_KEY}` },
    })
    const data = ((await res.json()) as { data: ModelCard[] }).data
    const card = data.find((m) => m.id === FIXTURE_WHISPER) as ModelCard
    expect(card).toMatchObject({ task: 'transcription', status: 'ready' })
    expect(card.kind).toBe('fixture (random weights, test only) — Whisper encoder-decoder (ONNX)')
    expect(card.family).toMatch(/Whisper-shaped.*test fixture/)
    expect(card.runtime).toMatch(/onnxruntime/)
    expect(card.source).toContain(join('whisper', FIXTURE_WHISPER))
    expect(card.details).toMatchObject({ device: 'cpu', dtype: 'fp32', threads: 1 })
    // pocketsphinx is still offered beside it, as itself.
    expect(data.find((m) => m.id === 'pocketsphinx-en-us')?.kind).toMatch(/CMU Sphinx/)
  })

  it('json: the model field selects Whisper; same audio, same text; other audio, other text', async () => {
    const a = await transcribe(speech)
    const b = await transcribe(speech)
    expect(a.text.length).toBeGreaterThan(0)
    expect(b.text).toBe(a.text)
    // Exactly what the pipeline gives in this process for the same samples (English prompt).
    const want = await reference(samplesOf(speech), { language: 'en', task: 'transcribe' })
    expect(a.text).toBe((want as { text: string }).text.trim())
    // Only the fixture's words: five whole-word tokens before <|1.00|> and <|endoftext|>.
    const words = a.text.split(' ')
    expect(words).toHaveLength(5)
    for (const w of words) expect(vocab.tokens).toContain(`Ġ${w}`)
    // The encoder output reaches the decoder: silence transcribes differently.
    expect((await transcribe(silence)).text).not.toBe(a.text)
  })

  it('text and verbose_json: OpenAI shapes, with a segment from the timestamp tokens', async () => {
    const json = await transcribe(speech)
    const text = await client.audio.transcriptions.create({
      model: FIXTURE_WHISPER,
      file: upload(speech),
      response_format: 'text',
    })
    expect(typeof text).toBe('string')
    expect(String(text)).toBe(json.text)
    const verbose = await transcribeVerbose(speech)
    const duration = samplesOf(speech).length / 16_000
    expect(verbose).toMatchObject({ task: 'transcribe', language: 'english' })
    expect(verbose.duration).toBeCloseTo(duration, 3)
    // Timestamp mode decodes <|0.00|> text <|1.00|>: one segment with those bounds.
    const want = (await reference(samplesOf(speech), {
      language: 'en',
      task: 'transcribe',
      return_timestamps: true,
    })) as { text: string; chunks: { text: string; timestamp: [number, number] }[] }
    expect(want.chunks).toHaveLength(1)
    expect(verbose.text).toBe(want.text.trim())
    expect(verbose.segments).toHaveLength(1)
    expect(verbose.segments?.[0]).toMatchObject({
      id: 0,
      start: 0,
      end: CLOSING_TIMESTAMP,
      text: want.chunks[0]?.text.trim(),
      tokens: [],
    })
  })

  it('prompts with the requested language, and refuses one the checkpoint has no token for', async () => {
    const de = await transcribeVerbose(speech, 'de')
    expect(de.language).toBe('german')
    const want = await reference(samplesOf(speech), {
      language: 'de',
      task: 'transcribe',
      return_timestamps: true,
    })
    expect(de.text).toBe((want as { text: string }).text.trim())
    const err = (await transcribe(speech, 'ja').catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect(err.param).toBe('language')
    expect(err.message).toContain(FIXTURE_LANGUAGES.join(', '))
  })

  it('still uses pocketsphinx when the model field names it', async () => {
    const res = await client.audio.transcriptions.create({
      model: 'pocketsphinx-en-us',
      file: await toFile(speech, 'speech.wav', { type: 'audio/wav' }),
      response_format: 'verbose_json',
    })
    expect(res.text).toMatch(/would like/)
    expect(res.text).not.toBe((await transcribe(speech)).text)
    // Sphinx gives timed words; the Whisper path gives none.
    expect(res.words?.length).toBeGreaterThan(3)
  })

  it('audio longer than 30 s is cut into overlapping windows and still answers', async () => {
    const long = pcm16Wav(
      Float32Array.from({ length: 16_000 * 35 }, (_, i) => 0.3 * Math.sin(i / 7)),
      16_000,
    )
    const res = await transcribeVerbose(long)
    expect(res.duration).toBeCloseTo(35, 1)
    expect(res.text.length).toBeGreaterThan(0)
    expect(res.segments?.length).toBeGreaterThan(0)
  })
})

describe('TRANSCRIBE_TIMEOUT_MS', () => {
  it('past the deadline the decoder is made to end at once (end-of-text forced)', async () => {
    const info = inspectModelFolder(dir, FIXTURE_WHISPER, 'transcription', 'fixture')
    const whisper = new OnnxWhisper(info, { ...server.services.config, ONNX_THREADS: 1 })
    await whisper.load()
    try {
      const samples = samplesOf(speech)
      const full = await whisper.transcribe(samples, { timestamps: false })
      expect(full.text.split(' ')).toHaveLength(5)
      const early = await whisper.transcribe(samples, { timestamps: false, deadline: Date.now() })
      expect(early.text).toBe('')
      const stamped = await whisper.transcribe(samples, { timestamps: true, deadline: Date.now() })
      expect(stamped.text).toBe('')
      const later = await whisper.transcribe(samples, {
        timestamps: false,
        deadline: Date.now() + 60_000,
      })
      expect(later.text).toBe(full.text)
    } finally {
      await whisper.close()
    }
  })

  it('a transcription past the deadline is a 503 timeout, and the next one is served', async () => {
    const config = server.services.config
    const saved = config.TRANSCRIBE_TIMEOUT_MS
    config.TRANSCRIBE_TIMEOUT_MS = 1
    try {
      for (const model of [FIXTURE_WHISPER, 'pocketsphinx-en-us']) {
        const err = (await client.audio.transcriptions
          .create({ model, file: upload(speech) })
          .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
        expect(err.status, model).toBe(503)
        expect(err.code).toBe('timeout')
      }
    } finally {
      config.TRANSCRIBE_TIMEOUT_MS = saved
    }
    expect((await transcribe(speech)).text.split(' ')).toHaveLength(5)
  })
})

describe('the fixture itself', () => {
  it('decodes with the KV cache exactly as without it (present.* → past_key_values.*)', async () => {
    const model = await AutoModelForSpeechSeq2Seq.from_pretrained(dir, {
      device: 'cpu',
      dtype: DTYPE,
    })
    const processor = await AutoProcessor.from_pretrained(dir, {})
    try {
      const { input_features } = await processor(samplesOf(speech))
      const seq = (await model.generate({
        inputs: input_features,
        language: 'en',
        task: 'transcribe',
      } as Parameters<typeof model.generate>[0])) as Tensor
      const ids = (seq.tolist() as bigint[][])[0] as bigint[]
      expect(ids.slice(0, 4).map(Number)).toEqual([
        vocab.sot,
        vocab.lang.en,
        vocab.transcribe,
        vocab.notimestamps,
      ])
      expect(Number(ids.at(-2))).toBe(vocab.tsBegin + CLOSING_TIMESTAMP / 0.02)
      expect(Number(ids.at(-1))).toBe(vocab.eos)
      // One pass over the whole sequence with an empty cache (use_cache_branch false).
      const full = (await model({
        input_features,
        decoder_input_ids: new Tensor('int64', BigInt64Array.from(ids), [1, ids.length]),
      })) as { logits: Tensor }
      const V = vocab.tokens.length
      expect(full.logits.dims).toEqual([1, ids.length, V])
      const logits = full.logits.data as Float32Array
      for (let p = 3; p < ids.length - 1; p++) {
        const row = logits.subarray(p * V, (p + 1) * V)
        expect(row.indexOf(Math.max(...row))).toBe(Number(ids[p + 1]))
      }
    } finally {
      await model.dispose()
    }
  })

  it('has a byte-level BPE tokenizer that round-trips text and knows the special tokens', async () => {
    const tok = await AutoTokenizer.from_pretrained(dir)
    const ids = tok.encode(' the cat sat on a mat, 42!', { add_special_tokens: false })
    expect(ids.slice(0, 6)).toEqual(
      ['the', 'cat', 'sat', 'on', 'a', 'mat'].map((w) => vocab.tokens.indexOf(`Ġ${w}`)),
    )
    expect(tok.decode(ids)).toBe(' the cat sat on a mat, 42!')
    expect(tok.encode('hi', { add_special_tokens: true })).toEqual([
      vocab.sot,
      vocab.notimestamps,
      vocab.tokens.indexOf('h'),
      vocab.tokens.indexOf('i'),
      vocab.eos,
    ])
    expect(tok.model.convert_tokens_to_ids(['<|30.00|>'])).toEqual([vocab.tsBegin + 1500])
  })
})
