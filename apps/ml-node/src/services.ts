import { Analyzer, LID_MODEL, ruleModels } from './analysis/analyzer.js'
import { TRANSCRIBE_MODEL, Transcriber } from './audio/transcriber.js'
import { ChatService } from './chat/service.js'
import { ClassifierStore } from './classifiers/store.js'
import type { Config } from './config.js'
import { EmbeddingService, USE_LITE } from './embeddings/service.js'
import { createMetrics, type Metrics } from './metrics.js'
import { type BuiltInModel, ModelCatalog } from './models/catalog.js'
import type { ModelCard } from './models/registry.js'
import { RerankService, rerankModels } from './rerank/service.js'

/** The models built into the node, for the catalog (MODEL_DIR weights are found there). */
export const BUILT_IN_MODELS: BuiltInModel[] = [
  { id: USE_LITE, task: 'embeddings' },
  ...rerankModels.map((m) => ({
    id: m.id,
    task: m.task,
    ...(m.id === 'use-lite-512-cosine' ? { uses: USE_LITE } : {}),
  })),
  { id: TRANSCRIBE_MODEL, task: 'transcription' },
  { id: LID_MODEL, task: 'language-id' },
  ...ruleModels.map((m) => ({ id: m.id, task: m.task })),
]

/** Everything the routes need, created once per server. */
export interface Services {
  config: Config
  metrics: Metrics
  embeddings: EmbeddingService
  analyzer: Analyzer
  rerank: RerankService
  classifiers: ClassifierStore
  chat: ChatService
  transcriber: Transcriber
  /** Built-ins, MODEL_DIR weights and the registry file: names, aliases, defaults. */
  catalog: ModelCatalog
  /** Every model this node serves, then its aliases (`alias_of`), for `/v1/models`. */
  listModels(): ModelCard[]
  ready(): boolean
  start(): Promise<void>
  close(): Promise<void>
}

export function createServices(config: Config): Services {
  let starting: Promise<void> | null = null
  let started = false
  // Reads MODEL_DIR and the registry file; an inconsistent registry file stops start-up here.
  const catalog = new ModelCatalog(config, BUILT_IN_MODELS)
  const metrics = createMetrics()
  const embeddings = new EmbeddingService(config, metrics, catalog)
  const analyzer = new Analyzer(config, metrics)
  const rerank = new RerankService(embeddings, config, metrics, catalog)
  const classifiers = new ClassifierStore(config.MODEL_DIR, embeddings)
  const chat = new ChatService(config, metrics, catalog)
  const transcriber = new Transcriber(config, catalog, metrics)
  return {
    config,
    metrics,
    embeddings,
    analyzer,
    rerank,
    classifiers,
    chat,
    transcriber,
    catalog,
    listModels: () =>
      catalog.withAliases([
        ...embeddings.list(),
        ...rerank.list(),
        ...analyzer.cards(),
        ...chat.list(),
        ...transcriber.list(),
        ...classifiers.cards(),
      ]),
    ready: () =>
      started &&
      embeddings.isReady() &&
      chat.isReady() &&
      rerank.isReady() &&
      transcriber.isReady(),
    start: () => {
      starting ??= (async () => {
        await Promise.all([
          embeddings.start(),
          analyzer.start(),
          classifiers.load(),
          rerank.start(),
          chat.start(),
          transcriber.probe(),
        ])
        started = true
      })()
      return starting
    },
    close: async () => {
      analyzer.close()
      await chat.close()
      await embeddings.close()
      await rerank.close()
      await transcriber.close()
    },
  }
}
