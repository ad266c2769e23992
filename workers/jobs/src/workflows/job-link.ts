/**
 * How a `workflow.run` job and its workflow run meet: through the job row. The run carries the
 * job id and attempt; its steps report progress on the row (and as SSE events), its last step
 * writes the result there, its failure function writes the error on the attempt row; the job
 * handler, which holds the job's claim, waits for either and then finishes the job the usual way.
 */
import type { JobEvent } from '@synthstack/jobs'
import * as z from 'zod'
import type { Config } from '../config'
import { rows, type Sql } from '../store/db'
import { pushEvent } from '../store/events'
import { setProgress } from '../store/jobs'

/** The initial payload of a run started by `workflow.run`. */
export const RunPayload = z.object({
  job_id: z.uuid(),
  attempt: z.int().min(1),
  workflow: z.string().min(1),
  input: z.unknown(),
})
export type RunPayload = z.output<typeof RunPayload>

export interface JobAttempt {
  jobId: string
  attempt: number
}

export type RunOutcome =
  | { kind: 'pending' }
  | { kind: 'succeeded'; result: unknown }
  | { kind: 'failed'; error: string }
  /** the job left this attempt (no row, not running, or another attempt took it over) */
  | { kind: 'gone'; status: string | null }

/** Progress of the job while its run goes on: the row (0–100) and an SSE event. */
export async function reportProgress(
  config: Config,
  sql: Sql,
  link: JobAttempt,
  percent: number,
  message: string,
): Promise<void> {
  const progress = Math.max(0, Math.min(100, Math.round(percent)))
  await setProgress(sql, { id: link.jobId, progress, message })
  const event: JobEvent = {
    type: 'progress',
    status: 'running',
    progress,
    message,
    at: new Date().toISOString(),
    attempt: link.attempt,
  }
  await pushEvent(config, link.jobId, event)
}

/**
 * The run's last step: the result goes on the job row while this attempt still runs (the
 * handler then completes the job with it). False when the attempt is no longer running.
 */
export async function recordResult(
  sql: Sql,
  link: JobAttempt & { result: unknown },
): Promise<boolean> {
  const updated = await rows<{ id: string }>(
    sql,
    `update jobs set result = $3::jsonb, updated_at = now()
     where id = $1 and attempts = $2 and status = 'running' returning id`,
    [link.jobId, link.attempt, JSON.stringify(link.result ?? null)],
  )
  return updated.length > 0
}

/** The run failed (a step ran out of retries): the error goes on the attempt row. */
export async function recordFailure(
  sql: Sql,
  link: JobAttempt & { error: string },
): Promise<boolean> {
  const updated = await rows<{ id: string }>(
    sql,
    `update job_attempts set error = $3
     where job_id = $1 and attempt = $2 and status = 'running' returning id::text`,
    [link.jobId, link.attempt, link.error.slice(0, 2000)],
  )
  return updated.length > 0
}

export async function readOutcome(sql: Sql, link: JobAttempt): Promise<RunOutcome> {
  const [row] = await rows<{
    status: string
    attempts: number
    result: unknown
    attempt_error: string | null
  }>(
    sql,
    `select j.status, j.attempts, j.result, a.error as attempt_error
     from jobs j left join job_attempts a on a.job_id = j.id and a.attempt = $2
     where j.id = $1`,
    [link.jobId, link.attempt],
  )
  if (row?.status !== 'running' || row.attempts !== link.attempt) {
    return { kind: 'gone', status: row?.status ?? null }
  }
  if (row.attempt_error !== null) return { kind: 'failed', error: row.attempt_error }
  if (row.result !== null) return { kind: 'succeeded', result: row.result }
  return { kind: 'pending' }
}

/**
 * Polls the row until the run recorded an outcome or `deadline` (unix ms) comes: every 200 ms at
 * first, backing off to 2 s (one SQL round trip each).
 */
export async function waitForOutcome(
  sql: Sql,
  link: JobAttempt,
  deadline: number,
): Promise<Exclude<RunOutcome, { kind: 'pending' }> | { kind: 'timeout' }> {
  let delay = 200
  for (;;) {
    const outcome = await readOutcome(sql, link)
    if (outcome.kind !== 'pending') return outcome
    if (Date.now() + delay > deadline) return { kind: 'timeout' }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(2000, Math.round(delay * 1.5))
  }
}
