import { Hono } from 'hono'
import type { Services } from '../services.js'

export function healthRoutes(svc: Services) {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    const models = svc.listModels().map((m) => ({ id: m.id, status: m.status }))
    const ready = svc.ready()
    return c.json({ status: ready ? 'ready' : 'loading', models }, ready ? 200 : 503)
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', svc.metrics.registry.contentType)
    return c.body(await svc.metrics.registry.metrics())
  })
  return app
}
