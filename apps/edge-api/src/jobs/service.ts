import { and, eq, type Job, type JobAttempt, jobAttempts, jobs, sql } from '@synthstack/db'
import { checkPayload, DEFAULT_MAX_ATTEMPTS, getJobType, type Priority } from '@synthstack/jobs'
import type { Context } from 'hono'
import type { Config } from '../config'
import { ApiError } from '../errors'
import { getDb } from '../stores'
import type { AppEnv } from '../types'
import { waitUntil } from '../wait-until'
import { publishJob, qstashClient } from './queue'

export interface CreateJobInput {
  workspaceId: string
  type: string
  payload: unknown
  priority?: Priority
  maxAttempts?: number
  runAt?: Date | null
  idempotencyKey?: string | null
  scheduleId?: string | null
}

const invalid = (param: string, message: string) =>
  new ApiError(400, { type: 'invalid_request_error', code: 'invalid_parameter', message, param })

/** Checks the type and payload the way the worker will; 400 naming the field otherwise. */
export function validateJob(config: Config, type: string, payload: unknown): unknown {
  const spec = getJobType(type, config.JOBS_ENABLE_TEST_JOBS)
  if (!spec) throw invalid('type', `Unknown job type '${type}'.`)
  const checked = checkPayload(spec, payload)
  if (!checked.ok) {
    throw invalid(
      checked.param ? `payload.${checked.param}` : 'payload',
      `Invalid payload for ${type}: ${checked.message}`,
    )
  }
  return checked.data
}

/**
 * Creates the job row and hands it to QStash. With an idempotency key, a second call returns the
 * first job (`created: false`) and enqueues nothing. If QStash refuses, the row is removed and
 * the call fails with 503, so a retry with the same key starts clean.
 */
export async function createJob(
  c: Context<AppEnv>,
  input: CreateJobInput,
): Promise<{ job: Job; created: boolean }> {
  const config = c.get('config')
  const payload = validateJob(config, input.type, input.payload)
  const db = getDb(config)
  const [inserted] = await db
    .insert(jobs)
    .values({
      workspaceId: input.workspaceId,
      type: input.type,
      payload: payload as object,
      priority: input.priority ?? 'normal',
      maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      runAt: input.runAt ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      scheduleId: input.scheduleId ?? null,
    })
    .onConflictDoNothing({ target: [jobs.workspaceId, jobs.idempotencyKey] })
    .returning()
  if (!inserted) {
    const [existing] = await db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.workspaceId, input.workspaceId),
          eq(jobs.idempotencyKey, input.idempotencyKey ?? ''),
        ),
      )
    if (!existing) throw new Error('idempotent job vanished')
    return { job: existing, created: false }
  }
  let messageId: string
  try {
    messageId = await publishJob(config, {
      id: inserted.id,
      type: inserted.type,
      payload: inserted.payload,
      priority: inserted.priority,
      maxAttempts: inserted.maxAttempts,
      runAt: inserted.runAt,
    })
  } catch (error) {
    await db.delete(jobs).where(eq(jobs.id, inserted.id))
    throw error
  }
  // A delayed job's message id lets cancel delete it from QStash before it runs. A due job's
  // first delivery records it (the claim), so the hot path skips this write; a due job cancelled
  // meanwhile is delivered once and answered as finished (nothing runs).
  if (inserted.runAt) {
    waitUntil(
      c,
      'job message id',
      db
        .update(jobs)
        .set({ messageId: sql`coalesce(${jobs.messageId}, ${messageId})` })
        .where(eq(jobs.id, inserted.id)),
    )
  }
  return { job: { ...inserted, messageId }, created: true }
}

export async function getJob(config: Config, workspaceId: string, id: string): Promise<Job> {
  const [job] = await getDb(config)
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, id), eq(jobs.workspaceId, workspaceId)))
  if (!job) throw jobNotFound()
  return job
}

export const jobNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'job_not_found',
    message: 'No such job.',
    param: 'id',
  })

export async function attemptsOf(config: Config, jobId: string): Promise<JobAttempt[]> {
  return getDb(config)
    .select()
    .from(jobAttempts)
    .where(eq(jobAttempts.jobId, jobId))
    .orderBy(jobAttempts.attempt)
}

const conflict = (code: string, message: string) =>
  new ApiError(409, { type: 'conflict_error', code, message })

/** queued|failed → cancelled; the pending QStash message is deleted (best effort). */
export async function cancelJob(c: Context<AppEnv>, workspaceId: string, id: string) {
  const config = c.get('config')
  const db = getDb(config)
  const [job] = await db
    .update(jobs)
    .set({ status: 'cancelled', finishedAt: new Date(), updatedAt: new Date(), lockedUntil: null })
    .where(
      and(
        eq(jobs.id, id),
        eq(jobs.workspaceId, workspaceId),
        sql`${jobs.status} in ('queued', 'failed')`,
      ),
    )
    .returning()
  if (!job) {
    const current = await getJob(config, workspaceId, id)
    throw conflict(
      'job_not_cancellable',
      `A ${current.status} job cannot be cancelled; only queued or failed (retrying) jobs can.`,
    )
  }
  if (job.messageId) {
    waitUntil(c, 'cancel qstash message', qstashClient(config).messages.delete(job.messageId))
  }
  return job
}

/** dead → queued with a fresh QStash message; the attempts log and error history stay. */
export async function retryJob(c: Context<AppEnv>, workspaceId: string, id: string) {
  const config = c.get('config')
  const db = getDb(config)
  const before = await getJob(config, workspaceId, id)
  const [job] = await db
    .update(jobs)
    .set({
      status: 'queued',
      finishedAt: null,
      dlqId: null,
      messageId: null,
      progress: 0,
      progressMessage: null,
      updatedAt: new Date(),
    })
    .where(and(eq(jobs.id, id), eq(jobs.workspaceId, workspaceId), eq(jobs.status, 'dead')))
    .returning()
  if (!job) {
    throw conflict('job_not_dead', `Only dead jobs can be retried; this one is ${before.status}.`)
  }
  const messageId = await publishJob(config, { ...job, runAt: null })
  await db
    .update(jobs)
    .set({ messageId: sql`coalesce(${jobs.messageId}, ${messageId})` })
    .where(eq(jobs.id, id))
  if (before.dlqId) waitUntil(c, 'dlq delete', qstashClient(config).dlq.delete(before.dlqId))
  return { ...job, messageId }
}
