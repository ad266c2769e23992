import { Hono } from 'hono'
import { z } from 'zod'
import { ANALYSIS_TASKS, type Analyzer } from '../analysis/analyzer.js'
import type { Config } from '../config.js'
import { readJson } from '../http/errors.js'

export function analyzeRoutes(config: Config, analyzer: Analyzer) {
  const body = z.object({
    text: z
      .string()
      .refine((t) => t.trim().length > 0, 'must not be empty')
      .refine(
        (t) => t.length <= config.MAX_INPUT_CHARS,
        `must be at most ${config.MAX_INPUT_CHARS} characters`,
      ),
    tasks: z
      .array(z.enum(ANALYSIS_TASKS))
      .min(1)
      .default([...ANALYSIS_TASKS]),
    max_keywords: z.number().int().min(1).max(100).default(10),
    summary_sentences: z.number().int().min(1).max(50).default(2),
  })
  const app = new Hono()
  app.post('/v1/analyze', async (c) => {
    const req = await readJson(c, body)
    const result = await analyzer.analyze(req.text, req.tasks, {
      maxKeywords: req.max_keywords,
      summarySentences: req.summary_sentences,
    })
    return c.json({ object: 'analysis', tasks: req.tasks, ...result })
  })
  return app
}
