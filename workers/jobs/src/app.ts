import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { ConfigError, loadConfig } from './config'
import type { AppEnv } from './env'
import { errorResponse, JobsError } from './errors'
import { getRegistry } from './jobs/registry'
import { verifyQStash } from './middleware/verify-qstash'
import { callbacks } from './routes/callbacks'
import { jobs } from './routes/jobs'
import { schedules } from './routes/schedules'
import { webhookDeliveries } from './routes/webhook-deliveries'
import { workflows } from './workflows/routes'

function configFailure(error: ConfigError, status: 500 | 503 = 500): JobsError {
  return new JobsError(`Worker misconfigured: check ${error.variables.join(', ')}`, {
    status,
    type: 'server_error',
    code: 'config_invalid',
  })
}

export function createApp() {
  const app = new Hono<AppEnv>()

  app.use(requestId())

  // Liveness and readiness; the only route that needs no signature.
  app.get('/health', (c) => {
    try {
      const config = loadConfig(c.env)
      return c.json({
        status: 'ok',
        service: 'synthstack-jobs',
        environment: config.ENVIRONMENT,
        job_types: getRegistry(config.JOBS_ENABLE_TEST_JOBS).types(),
      })
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      console.error(JSON.stringify({ level: 'error', msg: error.message }))
      return errorResponse(c, configFailure(error, 503))
    }
  })

  app.use(async (c, next) => {
    c.set('config', loadConfig(c.env))
    await next()
  })
  // Upstash Workflow calls: `serve` reads the raw body and verifies the signature itself.
  app.route('/workflows', workflows)
  app.use(verifyQStash())
  // workflow.run starts its run at the base URL the job was delivered to (a job or a firing)
  app.route('/jobs', jobs)
  app.route('/callbacks', callbacks)
  app.route('/schedules', schedules)
  app.route('/webhooks', webhookDeliveries)

  app.notFound((c) =>
    errorResponse(
      c,
      new JobsError(`No route for ${c.req.method} ${new URL(c.req.url).pathname}`, {
        status: 404,
        type: 'not_found_error',
        code: 'route_not_found',
        nonRetryable: true,
      }),
    ),
  )

  app.onError((error, c) => {
    if (error instanceof JobsError) return errorResponse(c, error)
    if (error instanceof ConfigError) {
      console.error(JSON.stringify({ level: 'error', msg: error.message }))
      return errorResponse(c, configFailure(error))
    }
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'unhandled error',
        request_id: c.get('requestId'),
        error: error instanceof Error ? error.name : 'unknown',
      }),
    )
    return errorResponse(
      c,
      new JobsError('Internal error', {
        status: 500,
        type: 'server_error',
        code: 'internal_error',
      }),
    )
  })

  return app
}

export type AppType = ReturnType<typeof createApp>
