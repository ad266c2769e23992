import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AutomaticSpeechRecognitionPipeline, Tensor } from '@huggingface/transformers'
import type { Config } from '../config.js'
import { type OnnxModelInfo, refreshModelFolder } from './discovery.js'
import { loadErrorMessage, transformers, withDevice } from './runtime.js'

export interface WhisperChunk {
  text: string
  timestamp: [number, number | null]
}

export interface WhisperResult {
  text: string
  chunks: WhisperChunk[]
  /** The language code the decoder was prompted with; null for English-only checkpoints. */
  language: string | null
}

/**
 * Whisper (encoder_model.onnx + decoder_model_merged.onnx) from a local folder through
 * transformers.js' `automatic-speech-recognition` pipeline. Audio arrives as 16 kHz mono floats.
 */
export class OnnxWhisper {
  private asr: AutomaticSpeechRecognitionPipeline | null = null
  details: Record<string, unknown> = {}

  /** `generation_config.json` (discovery checked that it is a JSON object). */
  private generation: Record<string, unknown> = {}

  constructor(
    readonly info: OnnxModelInfo,
    private readonly config: Config,
  ) {
    this.readGeneration()
  }

  private readGeneration() {
    try {
      if (!this.info.problem)
        this.generation = JSON.parse(
          readFileSync(join(this.info.dir, 'generation_config.json'), 'utf8'),
        )
    } catch {
      // A folder that cannot be read fails at load time with its own message.
    }
  }

  get id() {
    return this.info.id
  }

  /** English-only checkpoints (`*.en`, `is_multilingual: false`) refuse a language argument. */
  get multilingual() {
    const flag = this.generation.is_multilingual ?? this.info.config.is_multilingual
    return flag !== false && !this.info.id.endsWith('.en')
  }

  /** Language codes the checkpoint has a token for (`lang_to_id`), or null when it does not say. */
  get languages(): string[] | null {
    if (!this.multilingual) return ['en']
    const map = this.generation.lang_to_id
    if (!map || typeof map !== 'object') return null
    return Object.keys(map)
      .map((t) => /^<\|([a-z]{2,3}(?:-[A-Za-z]+)?)\|>$/.exec(t)?.[1])
      .filter((c): c is string => c !== undefined)
  }

  accepts(language: string) {
    const langs = this.languages
    return langs ? langs.includes(language) : true
  }

  async load() {
    const { info } = this
    refreshModelFolder(info)
    if (info.problem) throw new Error(info.problem)
    this.readGeneration()
    const t0 = performance.now()
    try {
      const t = await transformers(this.config)
      const { value, details } = await withDevice(this.config, (device, session_options) =>
        t.pipeline('automatic-speech-recognition', info.dir, {
          device,
          dtype: { encoder_model: info.dtype, decoder_model_merged: info.dtype },
          session_options,
        }),
      )
      this.asr = value as AutomaticSpeechRecognitionPipeline
      this.details = details
      return { loadMs: performance.now() - t0, details }
    } catch (err) {
      throw new Error(loadErrorMessage(info, err))
    }
  }

  /** Whisper's end-of-text token. */
  private get eos(): number | null {
    const id = this.generation.eos_token_id ?? this.info.config.eos_token_id
    const first = Array.isArray(id) ? id[0] : id
    return typeof first === 'number' ? first : null
  }

  /**
   * A logits processor that, past `deadline` (epoch ms), masks every token but end-of-text, so
   * decoding ends at once (transformers.js 3.8 drops `stopping_criteria` for Whisper, but passes
   * `logits_processor` on); later 30 s windows then end at once too. Whisper appends its own
   * processors (timestamps, begin suppression, which masks end-of-text at the first step) to this
   * list, so the list keeps the deadline processor last.
   */
  private async deadlineProcessor(deadline: number) {
    const eos = this.eos ?? -1
    if (eos < 0) return null
    const t = await transformers(this.config)
    class Deadline extends t.LogitsProcessor {
      override _call(inputIds: bigint[][], logits: Tensor) {
        if (Date.now() < deadline) return logits
        for (let i = 0; i < inputIds.length; i++) {
          const row = (logits as unknown as Tensor[])[i] as Tensor
          const data = row.data as Float32Array
          data.fill(Number.NEGATIVE_INFINITY)
          data[eos] = 0
        }
        return logits
      }
    }
    class DeadlineLast extends t.LogitsProcessorList {
      override push(item: InstanceType<typeof t.LogitsProcessor>) {
        this.processors.splice(Math.max(0, this.processors.length - 1), 0, item)
      }
    }
    const list = new DeadlineLast()
    list.processors.push(new Deadline())
    return list
  }

  async transcribe(
    audio: Float32Array,
    opts: { language?: string | undefined; timestamps: boolean; deadline?: number },
  ): Promise<WhisperResult> {
    if (!this.asr) throw new Error('whisper not loaded')
    const stopAt = opts.deadline === undefined ? null : await this.deadlineProcessor(opts.deadline)
    // transformers.js 3.8 has no language detection: a multilingual checkpoint without a language
    // is prompted with English (it warns on every call), so say so and report it.
    const language = this.multilingual ? (opts.language ?? 'en') : null
    const out = (await this.asr(audio, {
      chunk_length_s: audio.length > 30 * 16_000 ? 30 : 0,
      return_timestamps: opts.timestamps,
      ...(language ? { language, task: 'transcribe' } : {}),
      ...(stopAt ? { logits_processor: stopAt } : {}),
    })) as { text: string; chunks?: WhisperChunk[] }
    return { text: out.text.trim(), chunks: out.chunks ?? [], language }
  }

  async close() {
    await this.asr?.dispose()
    this.asr = null
  }
}
