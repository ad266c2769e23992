import type { WorkflowRunPayload } from '@synthstack/jobs'
import { Client } from '@upstash/workflow'
import type { Config } from '../config'
import type { JobAttempt, RunPayload } from './job-link'

/** Retries of each step (QStash's, per step message), with a short exponential delay. */
export const STEP_RETRIES = 3
const STEP_RETRY_DELAY = 'min(30000, 1000 * pow(2, retried))'

function client(config: Config): Client {
  return new Client({ baseUrl: config.QSTASH_URL, token: config.QSTASH_TOKEN as string })
}

/** The run id of a job attempt: one run per attempt, so a duplicate trigger starts nothing. */
export function runIdOf(job: JobAttempt): string {
  return `wfr_job-${job.jobId}-${job.attempt}`
}

/** Starts the workflow run for a job attempt at `${base}/workflows/<name>`. */
export async function startRun(
  config: Config,
  base: string,
  job: JobAttempt,
  payload: WorkflowRunPayload,
): Promise<string> {
  const body: RunPayload = {
    job_id: job.jobId,
    attempt: job.attempt,
    workflow: payload.workflow,
    input: payload.input,
  }
  const { workflowRunId } = await client(config).trigger({
    url: `${base}/workflows/${payload.workflow}`,
    body,
    // the SDK adds `wfr_` unless the id has it
    workflowRunId: runIdOf(job).slice('wfr_'.length),
    retries: STEP_RETRIES,
    retryDelay: STEP_RETRY_DELAY,
    label: 'workflow.run',
    disableTelemetry: true,
  })
  return workflowRunId
}

/** Cancels a run (best effort: it may have ended meanwhile). */
export async function cancelRun(config: Config, workflowRunId: string): Promise<void> {
  await client(config)
    .cancel(workflowRunId)
    .catch(() => {})
}
