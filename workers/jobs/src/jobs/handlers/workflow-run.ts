import { workflowRunSpec } from '@synthstack/jobs'
import { sqlFor } from '../../store/db'
import { waitForOutcome } from '../../workflows/job-link'
import { cancelRun, runIdOf, startRun } from '../../workflows/trigger'
import { defineJob, PermanentJobError, RetryLaterError } from '../types'

/** Time kept free before the job's claim expires, so the attempt ends while it holds the job. */
const CLAIM_MARGIN_MS = 10_000

/**
 * Starts the named workflow (see `src/workflows/`) for this job attempt and waits, holding the
 * job's claim, until the run's last step has recorded the result on the job row (then the job
 * succeeds with it) or the run failed (then the job fails for good: dead, with the step's error).
 * The steps themselves run as separate QStash deliveries to `/workflows/<name>`, each retried on
 * its own; this delivery only polls the row. A run that outlasts the claim
 * (`JOBS_LOCK_SECONDS`) is cancelled and the job retried as a whole.
 */
export const workflowRun = defineJob(workflowRunSpec, async (payload, ctx) => {
  if (!ctx.jobId) {
    throw new PermanentJobError('workflow.run needs a job record: enqueue it with POST /v1/jobs')
  }
  if (payload.input.fail_step && !ctx.config.JOBS_ENABLE_TEST_JOBS) {
    throw new PermanentJobError('input.fail_step is only accepted where test jobs are enabled')
  }
  if (!ctx.config.QSTASH_URL || !ctx.config.QSTASH_TOKEN) {
    throw new RetryLaterError('QSTASH_URL and QSTASH_TOKEN are needed to start workflows', 60)
  }
  const started = Date.now()
  const job = { jobId: ctx.jobId, attempt: ctx.attempt }
  // reported before the trigger: the run's first step may report before the trigger returns
  await ctx.progress(5, `workflow ${payload.workflow} starting (${runIdOf(job)})`)
  const runId = await startRun(ctx.config, ctx.workerBase, job, payload)

  const deadline = started + Math.max(5_000, ctx.config.JOBS_LOCK_SECONDS * 1000 - CLAIM_MARGIN_MS)
  const outcome = await waitForOutcome(sqlFor(ctx.config), job, deadline)
  switch (outcome.kind) {
    case 'succeeded':
      return outcome.result
    case 'failed':
      throw new PermanentJobError(`workflow ${payload.workflow} failed: ${outcome.error}`)
    case 'timeout':
      await cancelRun(ctx.config, runId)
      throw new RetryLaterError(`workflow ${payload.workflow} outlasted the job's claim`, 5)
    default:
      throw new PermanentJobError(`job left attempt ${job.attempt} (${outcome.status})`)
  }
})
