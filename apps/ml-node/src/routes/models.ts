import { Hono } from 'hono'
import { ApiError } from '../http/errors.js'
import type { Services } from '../services.js'

export function modelsRoutes(svc: Services) {
  const app = new Hono()
  app.get('/v1/models', (c) => c.json({ object: 'list', data: svc.listModels() }))
  // Ids and aliases may hold a slash (`openai/gpt-4o-mini`).
  app.get('/v1/models/:id{.+}', (c) => {
    const id = c.req.param('id')
    const all = svc.listModels()
    const m = all.find((x) => x.id === id)
    if (!m) {
      throw new ApiError(
        404,
        `The model '${id}' does not exist. Known models: ${all.map((x) => x.id).join(', ')}`,
        'invalid_request_error',
        'model',
        'model_not_found',
      )
    }
    return c.json(m)
  })
  return app
}
