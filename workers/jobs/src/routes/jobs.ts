import type { JobEvent } from '@synthstack/jobs'
import type { Context } from 'hono'
import { Hono } from 'hono'
import type { Config } from '../config'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { dispatchJob, runHandler } from '../jobs/dispatch'
import { getRegistry } from '../jobs/registry'
import type { JobContext } from '../jobs/types'
import { sqlFor } from '../store/db'
import { createEventWriter, type EventWriter } from '../store/event-writer'
import { pushEvent, pushEvents } from '../store/events'
import { claimJob, completeJob, failJob, getJobState, setProgress } from '../store/jobs'
import { waitUntilOf } from '../wait-until'
import { sendWebhookEvent } from '../webhooks/outbound'
import { requireUuid } from './uuid-param'

/**
 * How long the `running` event may wait to be written with the job's next event (half the API's
 * SSE poll interval): a quick job gets one Redis write for `running` + its outcome, not two.
 */
const RUNNING_EVENT_DELAY_MS = 50

/**
 * `POST /jobs/:type[?job_id=<uuid>]`: one URL per job type. The type and job id are part of the
 * signed URL, so a signed message cannot be replayed as another type or job.
 *
 * - With `job_id` (what the edge API enqueues): the job row is claimed with a conditional update
 *   (`queued|failed → running`), the attempt logged, the handler run on the row's payload, and
 *   the row moved to `succeeded` or `failed`. A delivery for a finished or cancelled job answers
 *   200 and changes nothing; one for a job another attempt is running answers 503 (retry later).
 * - Without: stateless, the body is the payload (health checks, tools).
 */
export const jobs = new Hono<AppEnv>().post('/:type', async (c) => {
  const jobId = c.req.query('job_id')
  if (jobId === undefined) {
    const ctx = contextFor(c, {
      type: c.req.param('type') ?? '',
      jobId: null,
      workspaceId: null,
      attempt: 0,
    })
    const config = c.get('config')
    const outcome = await dispatchJob(
      getRegistry(config.JOBS_ENABLE_TEST_JOBS),
      c.get('rawBody'),
      ctx,
    )
    return c.json(outcome, 200)
  }
  return runJobRecord(c, jobId, c.req.param('type') ?? '')
})

/**
 * Claims job `jobId` for this delivery, runs its handler and records the outcome. `type` is the
 * job type the signed URL named (null when the URL named no type, e.g. a schedule firing).
 */
export async function runJobRecord(
  c: Context<AppEnv>,
  jobId: string,
  type: string | null,
): Promise<Response> {
  const config = c.get('config')
  const delivery = c.get('delivery')
  requireUuid(jobId, 'job_id')
  const sql = sqlFor(config)
  const timing = serverTiming()
  const claimed = await claimJob(sql, {
    id: jobId,
    messageId: delivery.messageId,
    retried: delivery.retried,
    lockSeconds: config.JOBS_LOCK_SECONDS,
  })
  timing.mark('claim')
  if (!claimed) {
    const state = await getJobState(sql, jobId)
    if (!state) {
      throw new JobsError(`Job ${jobId} does not exist`, {
        status: 404,
        type: 'not_found_error',
        code: 'job_not_found',
        nonRetryable: true,
      })
    }
    if (state.status === 'running') {
      throw new JobsError(`Job ${jobId} is running in another attempt`, {
        status: 503,
        type: 'job_error',
        code: 'job_locked',
        retryAfterSeconds: 5,
      })
    }
    // Finished, dead or cancelled: a duplicate (or late) delivery changes nothing.
    return c.json({ job_id: jobId, type: state.type, status: state.status, duplicate: true }, 200)
  }

  const events = jobEvents(config, jobId)
  const ctx = contextFor(
    c,
    { type: claimed.type, jobId, workspaceId: claimed.workspace_id, attempt: claimed.attempts },
    events.emit,
  )
  const statusEvent = (status: 'running' | 'succeeded' | 'failed', extra: object = {}) => ({
    type: 'status' as const,
    status,
    progress: status === 'succeeded' ? 100 : 0,
    message: null,
    at: new Date().toISOString(),
    attempt: claimed.attempts,
    ...extra,
  })
  const event = (status: 'succeeded' | 'failed', extra: object = {}) =>
    events.emit(statusEvent(status, extra))
  // Not awaited: the handler starts at once. `running` goes out with the next event (progress or
  // the outcome) or after RUNNING_EVENT_DELAY_MS, whichever is first; later events follow it.
  ctx.waitUntil(events.defer(statusEvent('running'), RUNNING_EVENT_DELAY_MS))
  try {
    if (type !== null && claimed.type !== type) {
      throw new JobsError(`Job ${jobId} is a ${claimed.type} job, not ${type}`, {
        status: 409,
        type: 'invalid_request_error',
        code: 'job_type_mismatch',
        nonRetryable: true,
      })
    }
    const outcome = await runHandler(
      getRegistry(config.JOBS_ENABLE_TEST_JOBS),
      claimed.payload,
      ctx,
    )
    timing.mark('handler')
    const done = await completeJob(sql, {
      id: jobId,
      attemptId: claimed.attempt_id,
      result: outcome.result,
    })
    timing.mark('complete')
    // The row is the truth; the event (SSE) is written after the answer (SSE also reads the row).
    ctx.waitUntil(event('succeeded'))
    if (done.webhooks) {
      ctx.waitUntil(
        sendWebhookEvent(config, sql, workerBase(c), {
          id: `evt_${jobId}_succeeded`,
          type: 'job.succeeded',
          workspaceId: claimed.workspace_id,
          data: { ...jobSummary(claimed, 'succeeded'), result: outcome.result ?? null },
        }),
      )
    }
    c.header('Server-Timing', timing.header())
    return c.json({ ...outcome, job_id: jobId, attempt: claimed.attempts }, 200)
  } catch (error) {
    const failure =
      error instanceof JobsError
        ? error
        : new JobsError('Job failed; it will be retried', {
            status: 500,
            type: 'job_error',
            code: 'job_failed',
          })
    const message = failure.detail ?? failure.message
    const failed = await failJob(sql, { id: jobId, attemptId: claimed.attempt_id, error: message })
    if (failed.webhooks) {
      ctx.waitUntil(
        sendWebhookEvent(config, sql, workerBase(c), {
          id: `evt_${jobId}_failed_${claimed.attempts}`,
          type: 'job.failed',
          workspaceId: claimed.workspace_id,
          data: { ...jobSummary(claimed, 'failed'), error: message },
        }),
      )
    }
    // Awaited: a retry's 'running' must not land before this attempt's 'failed'.
    await event('failed', { error: message })
    throw failure
  }
}

/**
 * Wall time per step for a `Server-Timing` header. In workerd the clock advances only across
 * I/O, so a step's figure is its round-trip wait (claim, complete), not CPU time.
 */
function serverTiming() {
  let last = performance.now()
  const parts: string[] = []
  return {
    mark(name: string) {
      const now = performance.now()
      parts.push(`${name};dur=${(now - last).toFixed(1)}`)
      last = now
    },
    header: () => parts.join(', '),
  }
}

/** What an outbound webhook says about a job. */
export function jobSummary(
  job: { id: string; type: string; attempts: number },
  status: 'succeeded' | 'failed' | 'dead',
) {
  return { id: job.id, object: 'job', type: job.type, status, attempts: job.attempts }
}

/** The base URL QStash reaches this worker on (for callbacks). */
export function workerBase(c: Context<AppEnv>): string {
  const configured = c.get('config').JOBS_PUBLIC_URL
  return configured ? configured.replace(/\/+$/, '') : new URL(c.req.url).origin
}

/** A job's events in emission order; see `createEventWriter`. */
function jobEvents(config: Config, jobId: string): EventWriter {
  return createEventWriter((batch) => pushEvents(config, jobId, batch))
}

function contextFor(
  c: Context<AppEnv>,
  job: { type: string; jobId: string | null; workspaceId: string | null; attempt: number },
  emit?: (event: JobEvent) => Promise<void>,
): JobContext {
  const config = c.get('config')
  const delivery = c.get('delivery')
  const jobId = job.jobId
  return {
    type: job.type,
    jobId,
    workspaceId: job.workspaceId,
    attempt: job.attempt || delivery.retried + 1,
    messageId: delivery.messageId,
    retried: delivery.retried,
    requestId: c.get('requestId'),
    workerBase: workerBase(c),
    env: c.env,
    config,
    waitUntil: waitUntilOf(c),
    async progress(percent, message) {
      if (!jobId) return
      const progress = Math.max(0, Math.min(100, Math.round(percent)))
      await setProgress(sqlFor(config), { id: jobId, progress, message: message ?? null })
      await (emit ?? ((e: JobEvent) => pushEvent(config, jobId, e)))({
        type: 'progress',
        status: 'running',
        progress,
        message: message ?? null,
        at: new Date().toISOString(),
        attempt: job.attempt,
      })
    },
  }
}
