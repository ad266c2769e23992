import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../config.js'
import { ApiError, badRequest, overloaded, unavailable } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import type { ModelCatalog } from '../models/catalog.js'
import { ModelLoad } from '../models/model-load.js'
import { card, type ModelCard } from '../models/registry.js'
import { onnxCard } from '../onnx/runtime.js'
import { OnnxWhisper } from '../onnx/whisper.js'

export const TRANSCRIBE_MODEL = 'pocketsphinx-en-us'

export interface Segment {
  id: number
  start: number
  end: number
  text: string
  words: { word: string; start: number; end: number; probability: number }[]
}

export interface Transcript {
  text: string
  duration: number
  segments: Segment[]
  /** The language the model transcribed in (pocketsphinx: English only). */
  language: string
}

export interface TranscribeOptions {
  language?: string | undefined
  timestamps?: boolean
  /** The client's abort: a request waiting for a Whisper load stops waiting. */
  signal?: AbortSignal | undefined
}

interface WhisperEntry {
  whisper: OnnxWhisper
  card: ModelCard
  load: ModelLoad
}

/** 503 for a transcription that ran past TRANSCRIBE_TIMEOUT_MS. */
const tooSlow = (ms: number) =>
  unavailable(`Transcription did not finish within ${ms} ms.`, 5, 'timeout')

/** Milliseconds left before `deadline`; throws the timeout once none are. */
function left(deadline: number, ms: number) {
  const rest = deadline - Date.now()
  if (rest <= 0) throw tooSlow(ms)
  return rest
}

function run(cmd: string, args: string[], timeoutMs: number) {
  return new Promise<string>((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stderr: String(stderr).slice(-500) }))
        else resolve(stdout)
      },
    )
  })
}

/** Parses `pocketsphinx_continuous -time yes` output into segments of timed words. */
export function parseSphinx(out: string): Segment[] {
  const segments: Segment[] = []
  let current: Segment | null = null
  for (const line of out.split('\n')) {
    const m = /^(\S+) (\d+\.\d+) (\d+\.\d+) ([\d.]+)$/.exec(line.trim())
    if (!m) continue
    const [, token, s, e, p] = m as unknown as [string, string, string, string, string]
    if (token === '<s>') {
      current = { id: segments.length, start: Number(s), end: Number(e), text: '', words: [] }
      continue
    }
    if (!current)
      current = { id: segments.length, start: Number(s), end: Number(e), text: '', words: [] }
    if (token === '</s>') {
      current.end = Number(e)
      current.text = current.words.map((w) => w.word).join(' ')
      if (current.words.length > 0) segments.push(current)
      current = null
      continue
    }
    if (token.startsWith('<') || token.startsWith('[') || token.startsWith('++')) continue
    current.words.push({
      word: token.replace(/\(\d+\)$/, ''),
      start: Number(s),
      end: Number(e),
      probability: Number(p),
    })
    current.end = Number(e)
  }
  if (current && current.words.length > 0) {
    current.text = current.words.map((w) => w.word).join(' ')
    segments.push(current)
  }
  return segments
}

/** Speech to text with CMU PocketSphinx (Debian `pocketsphinx`, `pocketsphinx-en-us`) and `sox`. */
export class Transcriber {
  private available: boolean | null = null
  private missing: string[] = []
  private active = 0
  private readonly maxActive = 2
  /** Transcriptions in progress per model, for mlnode_queue_depth. */
  private inProgress = new Map<string, number>()
  private readonly card: ModelCard
  private whisper = new Map<string, WhisperEntry>()
  /** The registry may disable pocketsphinx; then it is neither probed nor listed. */
  private readonly sphinx: boolean

  constructor(
    private readonly config: Config,
    private readonly catalog: ModelCatalog,
    private readonly metrics?: Metrics,
  ) {
    this.sphinx = catalog.isEnabled(TRANSCRIBE_MODEL)
    for (const info of catalog.onnxModels('transcription')) {
      const whisper = new OnnxWhisper(info, config)
      const modelCard = onnxCard(info, 'transcription', 'Whisper encoder-decoder (ONNX)')
      this.whisper.set(info.id, {
        whisper,
        card: modelCard,
        load: new ModelLoad({
          card: modelCard,
          load: () => whisper.load(),
          retryMs: config.MODEL_LOAD_RETRY_MS,
          maxRetryMs: config.MODEL_LOAD_RETRY_MAX_MS,
          metrics,
        }),
      })
    }
    this.card = card({
      id: TRANSCRIBE_MODEL,
      task: 'transcription',
      kind: 'HMM acoustic model + n-gram language model (CMU Sphinx), English only',
      family: 'CMU PocketSphinx en-us',
      runtime: 'pocketsphinx_continuous CLI, audio converted by sox',
      source: 'Debian packages pocketsphinx, pocketsphinx-en-us, sox',
      license: 'BSD-2-Clause',
      status: 'loading',
    })
  }

  async probe() {
    await Promise.all([this.sphinx ? this.probeSphinx() : undefined, this.startWhisper()])
  }

  private async startWhisper() {
    await Promise.all([...this.whisper.values()].map((e) => e.load.start()))
  }

  /** Whisper models have settled (loaded or failed). */
  isReady() {
    return [...this.whisper.values()].every((e) => e.load.settled)
  }

  ids() {
    return [...(this.sphinx ? [TRANSCRIBE_MODEL] : []), ...this.whisper.keys()]
  }

  /** The model id serving `requested` (an id, an alias, `default` or nothing), via the catalog. */
  resolve(requested: string | undefined) {
    return this.catalog.resolve('transcription', requested)
  }

  /** Whisper takes the languages it has tokens for; pocketsphinx only English. */
  acceptsLanguage(model: string, language: string) {
    const w = this.whisper.get(model)
    return w ? w.whisper.accepts(language) : language === 'en'
  }

  /** The language codes a model takes, for error messages; null when any is taken. */
  languagesOf(model: string): string[] | null {
    const w = this.whisper.get(model)
    return w ? w.whisper.languages : ['en']
  }

  private async probeSphinx() {
    this.missing = []
    for (const [bin, args] of [
      [this.config.POCKETSPHINX_BIN, ['-h']],
      [this.config.SOX_BIN, ['--version']],
    ] as const) {
      try {
        await run(bin, [...args], 10_000)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.missing.push(bin)
      }
    }
    this.available = this.missing.length === 0
    this.card.status = this.available ? 'ready' : 'unavailable'
    if (!this.available)
      this.card.details = {
        missing: this.missing,
        install: 'apt-get install pocketsphinx pocketsphinx-en-us sox',
      }
  }

  list() {
    return [...(this.sphinx ? [this.card] : []), ...[...this.whisper.values()].map((e) => e.card)]
  }

  async close() {
    for (const e of this.whisper.values()) {
      e.load.close()
      await e.whisper.close()
    }
  }

  /**
   * Runs `work` in a fresh temporary folder while holding one of the `maxActive` slots (429 when
   * none is free). The slot and the folder are given back whatever happens, a failed mkdtemp too.
   */
  private async inSlot<T>(model: string, work: (dir: string) => Promise<T>): Promise<T> {
    const metrics = this.metrics
    if (this.active >= this.maxActive) {
      metrics?.rejected.inc({ model, reason: 'queue_full' })
      throw overloaded(`Model '${model}'`, 2)
    }
    const track = (delta: number) => {
      const n = (this.inProgress.get(model) ?? 0) + delta
      this.inProgress.set(model, n)
      metrics?.queueDepth.set({ model }, n)
    }
    this.active++
    track(1)
    let dir: string | undefined
    try {
      try {
        dir = await mkdtemp(join(tmpdir(), 'mlnode-audio-'))
      } catch (err) {
        // A node-local fault (TMPDIR full or unwritable): 503, so a balancer tries another node.
        console.error(`[ml-node] transcription: no temporary folder: ${(err as Error).message}`)
        throw unavailable(
          'The node could not create a temporary folder for the audio.',
          5,
          'transcription_failed',
        )
      }
      return await work(dir)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'timeout') {
        metrics?.rejected.inc({ model, reason: 'timeout' })
      }
      throw err
    } finally {
      this.active--
      track(-1)
      if (dir) await rm(dir, { recursive: true, force: true })
    }
  }

  async transcribe(
    requested: string | undefined,
    audio: Uint8Array,
    filename: string,
    opts: TranscribeOptions = {},
  ): Promise<Transcript> {
    const model = this.resolve(requested)
    if (this.whisper.has(model)) return this.transcribeWhisper(model, audio, filename, opts)
    if (model !== TRANSCRIBE_MODEL || !this.sphinx)
      throw this.catalog.notFound('transcription', model)
    if (this.available === null) await this.probeSphinx()
    if (!this.available) {
      throw unavailable(
        `Transcription needs ${this.missing.join(' and ')} on this node.`,
        60,
        'transcriber_unavailable',
      )
    }
    const timeout = this.config.TRANSCRIBE_TIMEOUT_MS
    const deadline = Date.now() + timeout
    return this.inSlot(model, async (dir) => {
      const ext = (/\.([a-z0-9]{1,5})$/i.exec(filename)?.[1] ?? 'wav').toLowerCase()
      const input = join(dir, `input.${ext}`)
      const wav = join(dir, 'speech.wav')
      await writeFile(input, audio)
      try {
        await run(
          this.config.SOX_BIN,
          ['-D', input, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', wav],
          left(deadline, timeout),
        )
      } catch (err) {
        if ((err as { killed?: boolean }).killed || err instanceof ApiError) throw tooSlow(timeout)
        throw badRequest(
          'file',
          'The uploaded file is not audio that sox can read (try WAV, FLAC or MP3).',
          'invalid_audio',
        )
      }
      const duration = Number(
        (await run(this.config.SOX_BIN, ['--i', '-D', wav], left(deadline, timeout))).trim(),
      )
      const out = await run(
        this.config.POCKETSPHINX_BIN,
        ['-infile', wav, '-time', 'yes', '-remove_noise', 'no', '-logfn', '/dev/null'],
        left(deadline, timeout),
      ).catch((err: NodeJS.ErrnoException & { killed?: boolean }) => {
        if (err.killed) throw tooSlow(timeout)
        throw new ApiError(
          500,
          'The speech recogniser failed.',
          'server_error',
          null,
          'transcription_failed',
        )
      })
      const segments = parseSphinx(out)
      return { text: segments.map((s) => s.text).join(' '), duration, segments, language: 'en' }
    })
  }

  /** Audio → 16 kHz mono float32 with sox, then the Whisper pipeline. */
  private async transcribeWhisper(
    model: string,
    audio: Uint8Array,
    filename: string,
    opts: TranscribeOptions,
  ): Promise<Transcript> {
    const entry = this.whisper.get(model) as WhisperEntry
    // The deadline starts now: waiting for a (re)load is part of it, and a client that leaves
    // stops waiting.
    const timeout = this.config.TRANSCRIBE_TIMEOUT_MS
    const deadline = await entry.load.startRequest(timeout, opts.signal, tooSlow)
    return this.inSlot(model, async (dir) => {
      const ext = (/\.([a-z0-9]{1,5})$/i.exec(filename)?.[1] ?? 'wav').toLowerCase()
      const input = join(dir, `input.${ext}`)
      const raw = join(dir, 'speech.f32')
      await writeFile(input, audio)
      try {
        await run(
          this.config.SOX_BIN,
          [input, '-r', '16000', '-c', '1', '-b', '32', '-e', 'floating-point', '-t', 'raw', raw],
          left(deadline, timeout),
        )
      } catch (err) {
        if ((err as { killed?: boolean }).killed || err instanceof ApiError) throw tooSlow(timeout)
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw unavailable(
            `Transcription needs ${this.config.SOX_BIN} on this node.`,
            60,
            'transcriber_unavailable',
          )
        }
        throw badRequest(
          'file',
          'The uploaded file is not audio that sox can read (try WAV, FLAC or MP3).',
          'invalid_audio',
        )
      }
      const bytes = await readFile(raw)
      const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
      const duration = samples.length / 16_000
      left(deadline, timeout)
      const out = await entry.whisper.transcribe(samples, {
        language: opts.language,
        timestamps: opts.timestamps ?? false,
        deadline,
      })
      // Past the deadline the decoder was made to stop early: what it has is cut short.
      if (Date.now() >= deadline) throw tooSlow(timeout)
      const segments: Segment[] = out.chunks.length
        ? out.chunks.map((c, id) => ({
            id,
            start: c.timestamp[0],
            end: c.timestamp[1] ?? duration,
            text: c.text.trim(),
            words: [],
          }))
        : [{ id: 0, start: 0, end: duration, text: out.text, words: [] }]
      return { text: out.text, duration, segments, language: out.language ?? 'en' }
    })
  }
}
