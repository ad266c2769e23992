import { handleError, handleNotFound } from './errors'
import { loadConfig } from './middleware/config'
import { cors } from './middleware/cors'
import { requestId } from './middleware/request-id'
import { createRouter } from './router'
import { mountDocs } from './routes/docs'
import { health } from './routes/health'

/** Builds the app: middleware in request order, then routes, then the one error handler. */
export function createApp() {
  const app = createRouter()
  app.use('*', requestId())
  app.use('*', loadConfig())
  app.use('*', cors())

  const routes = app.route('/', health)
  mountDocs(app)

  app.notFound(handleNotFound)
  app.onError(handleError)
  return routes
}

export const app = createApp()
export type AppType = typeof app
