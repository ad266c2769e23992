import type { Job, JobAttempt } from '@synthstack/db'

const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** The public shape of a job (snake_case, ISO times). */
export function jobOut(job: Job) {
  return {
    id: job.id,
    object: 'job' as const,
    type: job.type,
    status: job.status,
    priority: job.priority,
    payload: job.payload,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    progress: job.progress,
    progress_message: job.progressMessage,
    result: job.result ?? null,
    error: job.error,
    run_at: iso(job.runAt),
    idempotency_key: job.idempotencyKey,
    schedule_id: job.scheduleId,
    created_at: job.createdAt.toISOString(),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
  }
}

export function attemptOut(a: JobAttempt) {
  return {
    attempt: a.attempt,
    status: a.status,
    error: a.error,
    retried: a.retried,
    message_id: a.messageId,
    started_at: a.startedAt.toISOString(),
    finished_at: iso(a.finishedAt),
  }
}
