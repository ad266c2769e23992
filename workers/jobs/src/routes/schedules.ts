import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { sqlFor } from '../store/db'
import { jobForFiring } from '../store/jobs'
import { runJobRecord } from './jobs'
import { requireUuid } from './uuid-param'

/**
 * `POST /schedules/:id/fire`: one firing of a QStash schedule created by the edge API
 * (`POST /v1/schedules`). The first delivery of a QStash message creates a job row from the
 * schedule (type, payload, priority, max attempts) keyed by the message id, and runs it as its
 * first attempt; QStash's retries of that message are the job's retries, and a duplicate
 * delivery finds the same job (finished: changes nothing). A schedule deleted since answers 489
 * (non-retryable): nothing to run.
 */
export const schedules = new Hono<AppEnv>().post('/:id/fire', async (c) => {
  const scheduleId = requireUuid(c.req.param('id'), 'schedule_id')
  const messageId = c.get('delivery').messageId
  if (!messageId) {
    throw new JobsError('A schedule firing needs its Upstash-Message-Id', {
      status: 400,
      type: 'invalid_request_error',
      code: 'missing_message_id',
      nonRetryable: true,
    })
  }
  const jobId = await jobForFiring(sqlFor(c.get('config')), { scheduleId, messageId })
  if (!jobId) {
    throw new JobsError(`Schedule ${scheduleId} does not exist`, {
      status: 404,
      type: 'not_found_error',
      code: 'schedule_not_found',
      nonRetryable: true,
    })
  }
  return runJobRecord(c, jobId, null)
})
