import { Hono } from 'hono'
import * as z from 'zod'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { sqlFor } from '../store/db'
import { pushEvent } from '../store/events'
import { jobOfFiring, markDead } from '../store/jobs'
import { waitUntilOf } from '../wait-until'
import { recordDeliveryOutcome, sendWebhookEvent } from '../webhooks/outbound'
import { jobSummary, workerBase } from './jobs'
import { requireUuid } from './uuid-param'

/** The part of QStash's callback body this route reads. */
const FailureCallback = z.object({
  status: z.number().int(),
  body: z.string().optional(),
  retried: z.number().int().optional(),
  dlqId: z.string().optional(),
  sourceMessageId: z.string().optional(),
})

/** The error message in the worker's own error envelope, if the last answer was one. */
function lastError(status: number, base64Body: string | undefined): string {
  if (base64Body) {
    try {
      const json = JSON.parse(atob(base64Body)) as { error?: { message?: unknown } }
      if (typeof json.error?.message === 'string') return json.error.message.slice(0, 2000)
    } catch {}
  }
  return status === 0
    ? 'delivery failed: worker unreachable'
    : `delivery failed with HTTP ${status}`
}

/**
 * `POST /callbacks/failure?job_id=<uuid>` (or `?schedule_id=<uuid>` for a schedule firing, whose
 * job is found by the failed message's id): QStash's failure callback (signed like any
 * delivery), sent once the message ran out of retries or got a non-retryable answer and went to
 * the DLQ. Marks the job dead with its last error; a callback for a replaced message changes
 * nothing.
 */
export const callbacks = new Hono<AppEnv>().post('/failure', async (c) => {
  const scheduleId = c.req.query('schedule_id')
  const param = scheduleId === undefined ? 'job_id' : 'schedule_id'
  const id = requireUuid(scheduleId ?? c.req.query('job_id'), param)
  let parsed: z.infer<typeof FailureCallback>
  try {
    parsed = FailureCallback.parse(JSON.parse(c.get('rawBody')))
  } catch {
    throw new JobsError('Not a QStash failure callback body', {
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_callback',
      nonRetryable: true,
    })
  }
  const config = c.get('config')
  const sql = sqlFor(config)
  let jobId: string | null = id
  if (scheduleId !== undefined) {
    // The firing may have failed before its job existed (schedule deleted): nothing to mark.
    jobId = parsed.sourceMessageId
      ? await jobOfFiring(sql, { scheduleId, messageId: parsed.sourceMessageId })
      : null
    if (!jobId) return c.json({ job_id: null, status: 'unchanged' }, 200)
  }
  const dead = await markDead(sql, {
    id: jobId,
    messageId: parsed.sourceMessageId ?? null,
    dlqId: parsed.dlqId ?? null,
    fallbackError: lastError(parsed.status, parsed.body),
  })
  if (dead) {
    waitUntilOf(c)(
      sendWebhookEvent(config, sql, workerBase(c), {
        id: `evt_${dead.id}_dead_${dead.attempts}`,
        type: 'job.dead',
        workspaceId: dead.workspace_id,
        data: { ...jobSummary(dead, 'dead'), error: dead.error },
      }),
    )
    await pushEvent(config, jobId, {
      type: 'status',
      status: 'dead',
      progress: 0,
      message: null,
      at: new Date().toISOString(),
      error: dead.error,
    })
  }
  return c.json({ job_id: jobId, status: dead ? 'dead' : 'unchanged' }, 200)
})

const WebhookCallback = z.object({ status: z.number().int(), retried: z.number().int().optional() })

/**
 * `POST /callbacks/webhook?delivery_id=<uuid>&final=true`: QStash's failure callback for an
 * outbound webhook delivery (`/webhooks/deliver` kept failing until retries ran out): the
 * delivery is marked failed, keeping the receiver's last status. Without `final` (a callback
 * after one attempt, as older deliveries asked for) it records that attempt's status.
 */
callbacks.post('/webhook', async (c) => {
  const deliveryId = requireUuid(c.req.query('delivery_id'), 'delivery_id')
  let parsed: z.infer<typeof WebhookCallback>
  try {
    parsed = WebhookCallback.parse(JSON.parse(c.get('rawBody')))
  } catch {
    throw new JobsError('Not a QStash callback body', {
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_callback',
      nonRetryable: true,
    })
  }
  const final = c.req.query('final') === 'true'
  const found = await recordDeliveryOutcome(sqlFor(c.get('config')), {
    deliveryId,
    // The failure callback's status is this worker's answer, not the receiver's.
    status: final ? null : parsed.status,
    retried: parsed.retried ?? 0,
    final,
  })
  return c.json({ delivery_id: deliveryId, recorded: found }, 200)
})
