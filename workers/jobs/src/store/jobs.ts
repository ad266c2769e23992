import type { Sql } from './db'
import { rows } from './db'

export interface ClaimedJob {
  id: string
  workspace_id: string
  type: string
  payload: unknown
  attempts: number
  max_attempts: number
  attempt_id: string
}

export interface JobState {
  id: string
  workspace_id: string
  type: string
  status: string
  result: unknown
  error: string | null
  attempts: number
  locked_until: string | null
}

/**
 * Claims a job for one attempt: `queued`/`failed` (or `running` whose lock expired, i.e. an
 * attempt that crashed) → `running`, attempts + 1, and an attempt row — in one statement, so two
 * deliveries of the same message cannot both claim it. Null when the job is not claimable.
 */
export async function claimJob(
  sql: Sql,
  input: { id: string; messageId: string | null; retried: number; lockSeconds: number },
): Promise<ClaimedJob | null> {
  const [row] = await rows<ClaimedJob>(
    sql,
    `with claimed as (
       update jobs set status = 'running', attempts = attempts + 1,
         started_at = coalesce(started_at, now()), message_id = coalesce($2, message_id),
         locked_until = now() + make_interval(secs => $4), updated_at = now()
       where id = $1 and (status in ('queued', 'failed')
         or (status = 'running' and (locked_until is null or locked_until < now())))
       returning id, workspace_id, type, payload, attempts, max_attempts
     ), attempt as (
       insert into job_attempts (job_id, attempt, message_id, retried)
       select id, attempts, $2, $3 from claimed
       on conflict (job_id, attempt) do update set started_at = now()
       returning id
     )
     select c.*, (select id from attempt)::text as attempt_id from claimed c`,
    [input.id, input.messageId, input.retried, input.lockSeconds],
  )
  return row ?? null
}

export async function getJobState(sql: Sql, id: string): Promise<JobState | null> {
  const [row] = await rows<JobState>(
    sql,
    `select id, workspace_id, type, status, result, error, attempts, locked_until
     from jobs where id = $1`,
    [id],
  )
  return row ?? null
}

/** Whether a state change happened, and whether its workspace has endpoints for the event. */
export interface Transition {
  changed: boolean
  /** An active outbound webhook endpoint subscribes to the event (checked in the same trip). */
  webhooks: boolean
}

const hasEndpoints = (workspace: string, event: string) =>
  `exists (select 1 from webhook_endpoints e where e.workspace_id = ${workspace}
     and e.active and e.events ? '${event}')`

/** running → succeeded, with the result; the attempt is closed. Unchanged when not running. */
export async function completeJob(
  sql: Sql,
  input: { id: string; attemptId: string; result: unknown },
): Promise<Transition> {
  const [row] = await rows<{ webhooks: boolean }>(
    sql,
    `with j as (
       update jobs set status = 'succeeded', result = $2::jsonb, progress = 100, error = null,
         finished_at = now(), locked_until = null, updated_at = now()
       where id = $1 and status = 'running' returning id, workspace_id
     ), a as (
       update job_attempts set status = 'succeeded', finished_at = now()
       where id = $3::bigint and exists (select 1 from j) returning id
     )
     select ${hasEndpoints('j.workspace_id', 'job.succeeded')} as webhooks from j`,
    [input.id, JSON.stringify(input.result ?? null), input.attemptId],
  )
  return { changed: row !== undefined, webhooks: row?.webhooks === true }
}

/** running → failed with the error (QStash retries, or the failure callback marks it dead). */
export async function failJob(
  sql: Sql,
  input: { id: string; attemptId: string; error: string },
): Promise<Transition> {
  const [row] = await rows<{ webhooks: boolean }>(
    sql,
    `with j as (
       update jobs set status = 'failed', error = $2, locked_until = null, updated_at = now()
       where id = $1 and status = 'running' returning id, workspace_id
     ), a as (
       update job_attempts set status = 'failed', error = $2, finished_at = now()
       where id = $3::bigint returning id
     )
     select ${hasEndpoints('j.workspace_id', 'job.failed')} as webhooks from j`,
    [input.id, input.error, input.attemptId],
  )
  return { changed: row !== undefined, webhooks: row?.webhooks === true }
}

/** Progress while running; ignored once the job left `running`. */
export async function setProgress(
  sql: Sql,
  input: { id: string; progress: number; message: string | null },
): Promise<void> {
  await sql.query(
    `update jobs set progress = $2, progress_message = $3, updated_at = now()
     where id = $1 and status = 'running'`,
    [input.id, input.progress, input.message],
  )
}

export interface DeadJob {
  id: string
  workspace_id: string
  type: string
  error: string
  attempts: number
}

/**
 * The failure callback: the last attempt failed (or was non-retryable), QStash put the message in
 * its DLQ. Any non-final state → dead, keeping the last error. A callback for an older message
 * (the job was replayed since) changes nothing.
 */
export async function markDead(
  sql: Sql,
  input: { id: string; messageId: string | null; dlqId: string | null; fallbackError: string },
): Promise<DeadJob | null> {
  const [row] = await rows<DeadJob>(
    sql,
    `update jobs set status = 'dead', dlq_id = $3, error = coalesce(error, $4),
       finished_at = now(), locked_until = null, updated_at = now()
     where id = $1 and status in ('queued', 'running', 'failed')
       and ($2::text is null or message_id is null or message_id = $2)
     returning id, workspace_id, type, error, attempts`,
    [input.id, input.messageId, input.dlqId, input.fallbackError],
  )
  return row ?? null
}

/**
 * The job for one firing of a schedule: created from the schedule row on the first delivery of
 * QStash message `messageId` (idempotency key `schedule:<messageId>`), found again on a retry or
 * a duplicate delivery of the same message. Null when the schedule no longer exists.
 */
export async function jobForFiring(
  sql: Sql,
  input: { scheduleId: string; messageId: string },
): Promise<string | null> {
  const [row] = await rows<{ id: string | null }>(
    sql,
    `with s as (
       select id, workspace_id, type, payload, priority, max_attempts
       from job_schedules where id = $1
     ), ins as (
       insert into jobs (workspace_id, type, payload, priority, max_attempts, idempotency_key,
                         schedule_id, message_id)
       select workspace_id, type, payload, priority, max_attempts, $2, id, $3 from s
       on conflict do nothing
       returning id
     )
     select coalesce(
       (select id from ins),
       (select j.id from jobs j join s on j.workspace_id = s.workspace_id
        where j.idempotency_key = $2)
     )::text as id`,
    [input.scheduleId, `schedule:${input.messageId}`, input.messageId],
  )
  return row?.id ?? null
}

/** The job a schedule firing created for QStash message `messageId`, if any. */
export async function jobOfFiring(
  sql: Sql,
  input: { scheduleId: string; messageId: string },
): Promise<string | null> {
  const [row] = await rows<{ id: string }>(
    sql,
    `select id::text from jobs where schedule_id = $1 and idempotency_key = $2`,
    [input.scheduleId, `schedule:${input.messageId}`],
  )
  return row?.id ?? null
}
