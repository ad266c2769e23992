import { Hono } from 'hono'
import * as z from 'zod'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { sqlFor } from '../store/db'
import { pushEvent } from '../store/events'
import { markDead } from '../store/jobs'

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
 * `POST /callbacks/failure?job_id=<uuid>`: QStash's failure callback (signed like any delivery),
 * sent once the message ran out of retries or got a non-retryable answer and went to the DLQ.
 * Marks the job dead with its last error; a callback for a replaced message changes nothing.
 */
export const callbacks = new Hono<AppEnv>().post('/failure', async (c) => {
  const jobId = c.req.query('job_id') ?? ''
  if (!/^[0-9a-f-]{36}$/i.test(jobId)) {
    throw new JobsError('job_id must be a UUID', {
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_job_id',
      param: 'job_id',
      nonRetryable: true,
    })
  }
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
  const dead = await markDead(sqlFor(config), {
    id: jobId,
    messageId: parsed.sourceMessageId ?? null,
    dlqId: parsed.dlqId ?? null,
    fallbackError: lastError(parsed.status, parsed.body),
  })
  if (dead) {
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
