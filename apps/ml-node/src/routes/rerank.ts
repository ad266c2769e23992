import { randomUUID } from 'node:crypto'
import { Hono } from 'hono'
import { z } from 'zod'
import type { Config } from '../config.js'
import { badRequest, readJson } from '../http/errors.js'
import type { RerankService } from '../rerank/service.js'

export function rerankRoutes(config: Config, svc: RerankService) {
  const body = z.object({
    /** An id or alias; omitted or `default`: the registry's default, else the best ready one. */
    model: z.string().min(1).optional(),
    query: z.string().refine((q) => q.trim().length > 0, 'must not be empty'),
    documents: z
      .array(z.union([z.string(), z.object({ text: z.string() })]))
      .min(1, 'must hold at least one document')
      .max(config.MAX_INPUTS_PER_REQUEST),
    top_n: z.number().int().min(1).optional(),
    return_documents: z.boolean().default(false),
  })
  const app = new Hono()
  app.post('/v1/rerank', async (c) => {
    const req = await readJson(c, body)
    const docs = req.documents.map((d) => (typeof d === 'string' ? d : d.text))
    docs.forEach((d, i) => {
      if (d.length > config.MAX_INPUT_CHARS) {
        throw badRequest(
          `documents[${i}]`,
          `'documents[${i}]' is longer than ${config.MAX_INPUT_CHARS} characters.`,
        )
      }
    })
    const { model, scores, tokens } = await svc.score(req.model, req.query, docs, c.req.raw.signal)
    const results = scores
      .map((s, index) => ({
        index,
        relevance_score: Math.round(s * 1e6) / 1e6,
        ...(req.return_documents ? { document: { text: docs[index] } } : {}),
      }))
      .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
      .slice(0, req.top_n ?? docs.length)
    return c.json({
      id: randomUUID(),
      object: 'rerank',
      model,
      results,
      usage: { total_tokens: tokens },
    })
  })
  return app
}
