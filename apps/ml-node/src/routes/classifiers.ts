import { Hono } from 'hono'
import { z } from 'zod'
import type { ClassifierStore } from '../classifiers/store.js'
import type { Config } from '../config.js'
import { readJson } from '../http/errors.js'

export function classifierRoutes(config: Config, store: ClassifierStore) {
  const train = z.object({
    name: z.string().max(200).optional(),
    /** An id or alias; omitted: the registry's default embedder, else use-lite-512. */
    embedding_model: z.string().min(1).optional(),
    examples: z
      .array(
        z.object({
          text: z.string().min(1).max(config.MAX_INPUT_CHARS),
          label: z.string().min(1).max(200),
        }),
      )
      .min(4, 'needs at least 4 labelled examples')
      .max(20_000),
    validation_split: z.number().min(0).max(0.5).default(0.2),
    epochs: z.number().int().min(1).max(200).default(20),
    learning_rate: z.number().positive().max(1).default(0.01),
    embed_chars: z.number().int().min(16).max(4000).default(256),
    hash_buckets: z.number().int().min(0).max(65_536).default(4096),
    seed: z.number().int().default(1),
  })
  const classify = z.object({
    model: z.string().min(1),
    input: z.union([
      z.string().min(1).max(config.MAX_INPUT_CHARS),
      z
        .array(z.string().min(1).max(config.MAX_INPUT_CHARS))
        .min(1)
        .max(config.MAX_INPUTS_PER_REQUEST),
    ]),
  })
  const app = new Hono()
  app.post('/v1/classifiers', async (c) => {
    const req = await readJson(c, train)
    return c.json(await store.create(req), 202)
  })
  app.get('/v1/classifiers', (c) => c.json({ object: 'list', data: store.list() }))
  app.get('/v1/classifiers/:id', (c) => c.json(store.view(store.get(c.req.param('id')))))
  app.delete('/v1/classifiers/:id', async (c) => {
    const id = c.req.param('id')
    await store.delete(id)
    return c.json({ id, object: 'classifier', deleted: true })
  })
  app.post('/v1/classify', async (c) => {
    const req = await readJson(c, classify)
    const texts = typeof req.input === 'string' ? [req.input] : req.input
    const out = await store.classify(req.model, texts, c.req.raw.signal)
    return c.json({
      object: 'list',
      model: req.model,
      data: out.map((o, index) => ({ object: 'classification', index, ...o })),
    })
  })
  return app
}
