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
}

/**
 * Whisper (encoder_model.onnx + decoder_model_merged.onnx) from a local folder through
 * transformers.js' `automatic-speech-recognition` pipeline. Audio arrives as 16 kHz mono floats.
 */
export class OnnxWhisper {
  private asr: AutomaticSpeechRecognitionPipeline | null = null
  details: Record<string, unknown> = {}

  constructor(
    readonly info: OnnxModelInfo,
    private readonly config: Config,
  ) {}

  get id() {
    return this.info.id
  }

  /** English-only checkpoints (`*.en`) refuse a language argument. */
  get multilingual() {
    return this.info.config.is_multilingual !== false && !this.info.id.endsWith('.en')
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
    const out = (await this.asr(audio, {
      chunk_length_s: audio.length > 30 * 16_000 ? 30 : 0,
      return_timestamps: opts.timestamps,
      ...(opts.language && this.multilingual
        ? { language: opts.language, task: 'transcribe' }
        : {}),
    })) as { text: string; chunks?: WhisperChunk[] }
    return { text: out.text.trim(), chunks: out.chunks ?? [] }
  }

  async close() {
    await this.asr?.dispose()
    this.asr = null
  }
}
