import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { bearerAuth } from './http/auth.js'
import { ApiError, respondError } from './http/errors.js'
import { analyzeRoutes } from './routes/analyze.js'
import { audioRoutes } from './routes/audio.js'
import { chatRoutes } from './routes/chat.js'
import { classifierRoutes } from './routes/classifiers.js'
import { embeddingsRoutes } from './routes/embeddings.js'
import { healthRoutes } from './routes/health.js'
import { modelsRoutes } from './routes/models.js'
import { rerankRoutes } from './routes/rerank.js'
import type { Services } from './services.js'

export function createApp(svc: Services) {
  const { config, metrics } = svc
  const app = new Hono()

  app.use('*', async (c, next) => {
    const started = performance.now()
    await next()
    const route = c.req.routePath || 'unmatched'
    metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) })
    metrics.latency.observe({ method: c.req.method, route }, (performance.now() - started) / 1000)
  })

  app.route('/', healthRoutes(svc))

  app.use('/v1/*', bearerAuth(config.apiKeys))
  const tooLarge = (limit: number) => (c: Context) =>
    respondError(
      c,
      new ApiError(
        413,
        `Request body is larger than ${limit} bytes.`,
        'invalid_request_error',
        'body',
        'body_too_large',
      ),
    )
  app.use(
    '/v1/audio/*',
    bodyLimit({ maxSize: config.UPLOAD_LIMIT_BYTES, onError: tooLarge(config.UPLOAD_LIMIT_BYTES) }),
  )
  app.use('/v1/*', async (c, next) => {
    if (c.req.path.startsWith('/v1/audio/')) return next()
    return bodyLimit({
      maxSize: config.BODY_LIMIT_BYTES,
      onError: tooLarge(config.BODY_LIMIT_BYTES),
    })(c, next)
  })

  app.route('/', modelsRoutes(svc))
  app.route('/', embeddingsRoutes(config, svc.embeddings))
  app.route('/', rerankRoutes(config, svc.rerank))
  app.route('/', analyzeRoutes(config, svc.analyzer))
  app.route('/', classifierRoutes(config, svc.classifiers))
  app.route('/', chatRoutes(config, svc.chat))
  app.route('/', audioRoutes(svc.transcriber))

  app.notFound((c) =>
    respondError(
      c,
      new ApiError(
        404,
        `Unknown route: ${c.req.method} ${c.req.path}`,
        'invalid_request_error',
        null,
        'unknown_url',
      ),
    ),
  )
  app.onError((err, c) => {
    if (err instanceof ApiError) return respondError(c, err)
    if (err instanceof HTTPException) {
      return respondError(c, new ApiError(err.status as 400, err.message || 'Bad request'))
    }
    if (c.req.raw.signal.aborted) return c.body(null, 499 as 400)
    console.error('[ml-node] unhandled error', err)
    return respondError(
      c,
      new ApiError(500, 'Internal server error', 'server_error', null, 'internal_error'),
    )
  })
  return app
}
