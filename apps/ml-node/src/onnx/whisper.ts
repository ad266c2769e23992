import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers'
import type { Config } from '../config.js'
import type { OnnxModelInfo } from './discovery.js'
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
  private readonly generation: Record<string, unknown>

  constructor(
    readonly info: OnnxModelInfo,
    private readonly config: Config,
  ) {
    let generation: Record<string, unknown> = {}
    try {
      if (!info.problem)
        generation = JSON.parse(readFileSync(join(info.dir, 'generation_config.json'), 'utf8'))
    } catch {
      // A folder that cannot be read fails at load time with its own message.
    }
    this.generation = generation
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
    if (info.problem) throw new Error(info.problem)
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

  async transcribe(
    audio: Float32Array,
    opts: { language?: string | undefined; timestamps: boolean },
  ): Promise<WhisperResult> {
    if (!this.asr) throw new Error('whisper not loaded')
    // transformers.js 3.8 has no language detection: a multilingual checkpoint without a language
    // is prompted with English (it warns on every call), so say so and report it.
    const language = this.multilingual ? (opts.language ?? 'en') : null
    const out = (await this.asr(audio, {
      chunk_length_s: audio.length > 30 * 16_000 ? 30 : 0,
      return_timestamps: opts.timestamps,
      ...(language ? { language, task: 'transcribe' } : {}),
    })) as { text: string; chunks?: WhisperChunk[] }
    return { text: out.text.trim(), chunks: out.chunks ?? [], language }
  }

  async close() {
    await this.asr?.dispose()
    this.asr = null
  }
}
