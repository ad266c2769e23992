import { Analyzer } from './analysis/analyzer.js'
import { Transcriber } from './audio/transcriber.js'
import { ChatService } from './chat/service.js'
import { ClassifierStore } from './classifiers/store.js'
import type { Config } from './config.js'
import { EmbeddingService } from './embeddings/service.js'
import { createMetrics, type Metrics } from './metrics.js'
import type { ModelCard } from './models/registry.js'
import { discoverOnnxModels } from './onnx/discovery.js'
import { RerankService, rerankModels } from './rerank/service.js'

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
  /** Every model this node serves, for `/v1/models`. */
  listModels(): ModelCard[]
  ready(): boolean
  start(): Promise<void>
  close(): Promise<void>
}

export function createServices(config: Config): Services {
  let starting: Promise<void> | null = null
  let started = false
  const metrics = createMetrics()
  // ONNX models in MODEL_DIR/{embeddings,rerankers,whisper}/<name> (and test fixtures, if enabled).
  const onnx = discoverOnnxModels(config, [
    'use-lite-512',
    'default',
    ...rerankModels.map((m) => m.id),
    'pocketsphinx-en-us',
  ])
  const embeddings = new EmbeddingService(config, metrics, onnx)
  const analyzer = new Analyzer(config, metrics)
  const rerank = new RerankService(embeddings, config, metrics, onnx)
  const classifiers = new ClassifierStore(config.MODEL_DIR, embeddings)
  const chat = new ChatService(config, metrics)
  const transcriber = new Transcriber(config, onnx, metrics)
  return {
    config,
    metrics,
    embeddings,
    analyzer,
    rerank,
    classifiers,
    chat,
    transcriber,
    listModels: () => [
      ...embeddings.list(),
      ...rerank.list(),
      ...analyzer.cards(),
      ...chat.list(),
      ...transcriber.list(),
      ...classifiers.cards(),
    ],
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
