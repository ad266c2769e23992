import type { Config } from '../config'

/** The part of `POST /v1/analyze` the workflows read. */
export interface Analysis {
  language?: { code: string; name: string; confidence: number }
  sentiment?: { label: string; compound: number }
  keywords?: { text: string; count: number; score: number }[]
  summary?: { text: string; method: string }
}

export interface Embeddings {
  model: string
  vectors: number[][]
}

/**
 * An ml-node answer a retry cannot fix (4xx but 429): the workflow step fails for good instead
 * of being retried by QStash.
 */
export class MlNodeRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'MlNodeRefused'
  }
}

async function call<T>(config: Config, path: string, body: unknown): Promise<T> {
  const base = config.ML_NODE_URL
  if (!base) throw new Error('ML_NODE_URL is not configured')
  const response = await fetch(`${base.replace(/\/+$/, '')}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(config.ML_NODE_API_KEY && { authorization: `Bearer ${config.ML_NODE_API_KEY}` }),
    },
    body: JSON.stringify(body),
  })
  if (response.ok) return (await response.json()) as T
  const detail = (await response.json().catch(() => ({}))) as { error?: { message?: string } }
  const message = `ml-node ${path} answered ${response.status}: ${String(detail.error?.message ?? '').slice(0, 200)}`
  // overload (429) and server errors are worth retrying; other refusals are not
  if (response.status === 429 || response.status >= 500) throw new Error(message)
  throw new MlNodeRefused(response.status, message)
}

export function analyze(
  config: Config,
  text: string,
  options: { summarySentences: number; maxKeywords: number },
): Promise<Analysis> {
  return call<Analysis>(config, '/v1/analyze', {
    text,
    tasks: ['language', 'sentiment', 'keywords', 'summary'],
    summary_sentences: options.summarySentences,
    max_keywords: options.maxKeywords,
  })
}

export async function embed(config: Config, model: string, input: string[]): Promise<Embeddings> {
  const json = await call<{ model: string; data: { index: number; embedding: number[] }[] }>(
    config,
    '/v1/embeddings',
    { model, input },
  )
  const vectors = [...json.data].sort((a, b) => a.index - b.index).map((d) => d.embedding)
  return { model: json.model, vectors }
}
