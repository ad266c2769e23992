import { handleError, handleNotFound } from './errors'
import { jobRoutes } from './jobs/routes'
import { loadConfig } from './middleware/config'
import { cors } from './middleware/cors'
import { requestId } from './middleware/request-id'
import { outboxRoutes } from './outbox/routes'
import { createRouter } from './router'
import { apiKeyRoutes } from './routes/api-keys'
import { auth } from './routes/auth'
import { benchRoutes } from './routes/bench'
import { mountDocs } from './routes/docs'
import { embeddingsRoutes } from './routes/embeddings'
import { health } from './routes/health'
import { usageRoutes } from './routes/usage'
import { workspaceRoutes } from './routes/workspaces'
import { scheduleRoutes } from './schedules/routes'
import { webhookEndpointRoutes } from './webhooks/endpoints'
import { webhookRoutes } from './webhooks/routes'

/** Builds the app: middleware in request order, then routes, then the one error handler. */
export function createApp() {
  const app = createRouter()
  app.use('*', requestId())
  app.use('*', loadConfig())
  app.use('*', cors())

  const routes = app
    .route('/', health)
    .route('/', auth)
    .route('/', workspaceRoutes)
    .route('/', apiKeyRoutes)
    .route('/', usageRoutes)
    .route('/', embeddingsRoutes)
    .route('/', jobRoutes)
    .route('/', scheduleRoutes)
    .route('/', outboxRoutes)
    .route('/', webhookEndpointRoutes)
  app.route('/', webhookRoutes)
  // Bench-only routes: 404 unless BENCH_ROUTES=true (src/routes/bench.ts).
  app.route('/', benchRoutes)
  mountDocs(app)

  app.notFound(handleNotFound)
  app.onError(handleError)
  return routes
}

export const app = createApp()
export type AppType = typeof app
