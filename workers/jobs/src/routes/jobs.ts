import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { dispatchJob } from '../jobs/dispatch'
import { getRegistry } from '../jobs/registry'
import type { JobContext } from '../jobs/types'

/**
 * `POST /jobs/:type`: one URL per job type, the body is the payload. The type is part of the
 * signed URL, so a signed message cannot be replayed as another type, and QStash logs, DLQ
 * filters and per-type queues all see the type in the destination URL.
 */
export const jobs = new Hono<AppEnv>().post('/:type', async (c) => {
  const config = c.get('config')
  const delivery = c.get('delivery')
  const ctx: JobContext = {
    type: c.req.param('type'),
    messageId: delivery.messageId,
    retried: delivery.retried,
    requestId: c.get('requestId'),
    env: c.env,
    config,
    waitUntil: waitUntilOf(c),
  }
  const outcome = await dispatchJob(
    getRegistry(config.JOBS_ENABLE_TEST_JOBS),
    c.get('rawBody'),
    ctx,
  )
  return c.json(outcome, 200)
})

function waitUntilOf(c: { executionCtx: ExecutionContext }): (promise: Promise<unknown>) => void {
  try {
    const executionCtx = c.executionCtx
    return (promise) => executionCtx.waitUntil(promise)
  } catch {
    // No ExecutionContext (e.g. `app.request()` in a unit test): let the promise run on.
    return (promise) => {
      promise.catch(() => {})
    }
  }
}
