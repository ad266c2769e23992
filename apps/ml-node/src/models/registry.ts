/** What `/v1/models` says about each model: what it really is, where it came from, its licence. */
export interface ModelCard {
  id: string
  object: 'model'
  created: number
  owned_by: 'synthstack-ml-node'
  task:
    | 'embeddings'
    | 'rerank'
    | 'chat'
    | 'transcription'
    | 'language-id'
    | 'sentiment'
    | 'entities'
    | 'keywords'
    | 'summary'
    | 'classification'
  /** Honest nature: neural, bi-encoder, lexicon, rule-based, lexical (BM25), trained-head, fixture. */
  kind: string
  family: string
  runtime: string
  source: string
  license: string
  dimensions?: number
  context_length?: number
  /** Embedders: the text put before inputs of each `input_type` (default: none named). */
  text_prefixes?: { default: string; query: string; passage: string }
  status: 'ready' | 'loading' | 'unavailable' | 'training' | 'failed'
  /** Set on an alias's entry: the model id that serves it (registry.json `aliases`). */
  alias_of?: string
  details?: Record<string, unknown>
}

const created = Math.floor(Date.UTC(2025, 0, 1) / 1000)

export function card(c: Omit<ModelCard, 'object' | 'owned_by' | 'created'> & { created?: number }) {
  return { object: 'model', owned_by: 'synthstack-ml-node', created, ...c } as ModelCard
}
