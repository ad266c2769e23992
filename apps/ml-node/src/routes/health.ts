import { Hono } from 'hono'
import type { Services } from '../services.js'

export function healthRoutes(svc: Services) {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    // A MODEL_DIR model that failed to load is reported (with its error) but does not take the
    // node out of rotation: the other models still serve. `degraded` says so.
    // Aliases are the same models under other names: each model once.
    const listed = svc.listModels().filter((m) => m.alias_of === undefined)
    const models = listed.map((m) => ({
      id: m.id,
      status: m.status,
      ...(m.status === 'failed' && typeof m.details?.error === 'string'
        ? { error: m.details.error }
        : {}),
    }))
    const ready = svc.ready()
    // Once started, a model that is failed or reloading (after a failure) makes the node degraded.
    const degraded = listed.some(
      (m) => (m.status === 'failed' || m.status === 'loading') && m.task !== 'classification',
    )
    const status = !ready ? 'loading' : degraded ? 'degraded' : 'ready'
    return c.json({ status, models }, ready ? 200 : 503)
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', svc.metrics.registry.contentType)
    return c.body(await svc.metrics.registry.metrics())
  })
  return app
}
