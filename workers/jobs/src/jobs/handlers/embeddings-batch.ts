import { embeddingsBatchSpec } from '@synthstack/jobs'
import { defineJob, PermanentJobError, RetryLaterError } from '../types'

interface EmbeddingsResponse {
  data: { index: number; embedding: number[] }[]
  model: string
  usage?: { prompt_tokens?: number; total_tokens?: number }
}

/**
 * Embeds `texts` on the ml-node (`POST /v1/embeddings`, OpenAI-compatible) in batches of
 * `batch_size`, reporting progress after each batch. 429/503 from the node → retried after its
 * `Retry-After`; other 4xx → permanent failure.
 */
export const embeddingsBatch = defineJob(embeddingsBatchSpec, async (payload, ctx) => {
  const base = ctx.config.ML_NODE_URL
  if (!base) throw new RetryLaterError('ML_NODE_URL is not configured', 60)
  const embeddings: number[][] = []
  let model = payload.model ?? ''
  let tokens = 0
  const total = payload.texts.length
  for (let start = 0; start < total; start += payload.batch_size) {
    const input = payload.texts.slice(start, start + payload.batch_size)
    const response = await fetch(`${base.replace(/\/+$/, '')}/v1/embeddings`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(ctx.config.ML_NODE_API_KEY && {
          authorization: `Bearer ${ctx.config.ML_NODE_API_KEY}`,
        }),
      },
      body: JSON.stringify({ input, ...(payload.model && { model: payload.model }) }),
    })
    if (response.status === 429 || response.status >= 500) {
      const after = Number(response.headers.get('retry-after') ?? '')
      await response.body?.cancel()
      throw new RetryLaterError(`ml-node answered ${response.status}`, after > 0 ? after : 10)
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } }
      throw new PermanentJobError(
        `ml-node refused the batch (${response.status}): ${String(body.error?.message ?? '').slice(0, 200)}`,
      )
    }
    const json = (await response.json()) as EmbeddingsResponse
    for (const item of [...json.data].sort((a, b) => a.index - b.index)) {
      embeddings.push(item.embedding)
    }
    model = json.model
    tokens += json.usage?.total_tokens ?? 0
    const done = Math.min(total, start + input.length)
    if (done < total) {
      await ctx.progress(Math.floor((done / total) * 100), `embedded ${done} of ${total}`)
    }
  }
  return {
    model,
    count: embeddings.length,
    dimensions: embeddings[0]?.length ?? 0,
    usage: { total_tokens: tokens },
    embeddings,
  }
})
