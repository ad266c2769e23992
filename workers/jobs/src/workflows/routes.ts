import { Client as QStashClient, Receiver } from '@upstash/qstash'
import { serve } from '@upstash/workflow/hono'
import { Hono } from 'hono'
import type { Config } from '../config'
import type { AppEnv } from '../env'
import { JobsError } from '../errors'
import { sqlFor } from '../store/db'
import {
  type JobAttempt,
  RunPayload,
  recordFailure,
  recordResult,
  reportProgress,
} from './job-link'
import { getWorkflow } from './registry'
import type { StepContext, WorkflowDefinition } from './types'

function qstashClient(config: Config): QStashClient {
  if (!config.QSTASH_URL || !config.QSTASH_TOKEN) {
    throw new JobsError('Worker misconfigured: check QSTASH_URL, QSTASH_TOKEN', {
      status: 500,
      type: 'server_error',
      code: 'config_invalid',
    })
  }
  return new QStashClient({ baseUrl: config.QSTASH_URL, token: config.QSTASH_TOKEN })
}

function stepContext(config: Config, job: JobAttempt): StepContext {
  const sql = sqlFor(config)
  return {
    config,
    sql,
    job,
    progress: (percent, message) => reportProgress(config, sql, job, percent, message),
    record: (result) => recordResult(sql, { ...job, result }),
  }
}

function handlerFor(workflow: WorkflowDefinition, config: Config) {
  return serve<RunPayload>(
    (context) => {
      const payload = RunPayload.parse(context.requestPayload)
      return workflow.run(
        context,
        stepContext(config, { jobId: payload.job_id, attempt: payload.attempt }),
      )
    },
    {
      qstashClient: qstashClient(config),
      // The SDK verifies every call (body hash, issuer, expiry) with the worker's signing keys.
      receiver: new Receiver({
        currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY,
        nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY,
      }),
      ...(config.JOBS_PUBLIC_URL && { baseUrl: config.JOBS_PUBLIC_URL.replace(/\/+$/, '') }),
      env: {},
      disableTelemetry: true,
      // A step ran out of retries (or failed for good): the job handler fails the job with this.
      failureFunction: async ({ context, failResponse }) => {
        const payload = RunPayload.safeParse(context.requestPayload)
        if (!payload.success) return
        await recordFailure(sqlFor(config), {
          jobId: payload.data.job_id,
          attempt: payload.data.attempt,
          error: `step failed: ${failResponse}`,
        })
      },
    },
  )
}

/**
 * `POST /workflows/:name`: the Upstash Workflow endpoint of each workflow in the registry. QStash
 * calls it once per step with the run's history; `serve` replays the finished steps and runs the
 * next one. Mounted before the worker's own signature check: the SDK reads the raw body and
 * verifies the signature itself, with the same keys.
 */
export const workflows = new Hono<AppEnv>().post('/:name', async (c) => {
  // answered like the rest of the worker; a signature that is present is the SDK's to verify
  if (!c.req.header('Upstash-Signature')) {
    throw new JobsError('Missing Upstash-Signature header', {
      status: 401,
      type: 'authentication_error',
      code: 'missing_signature',
    })
  }
  const name = c.req.param('name')
  const workflow = getWorkflow(name)
  if (!workflow) {
    throw new JobsError(`Unknown workflow: ${name}`, {
      status: 404,
      type: 'not_found_error',
      code: 'unknown_workflow',
      nonRetryable: true,
    })
  }
  const config = c.get('config')
  const declared = Number(c.req.header('content-length') ?? '0')
  if (Number.isFinite(declared) && declared > config.JOBS_MAX_BODY_BYTES) {
    throw new JobsError(`Request body exceeds ${config.JOBS_MAX_BODY_BYTES} bytes`, {
      status: 413,
      type: 'invalid_request_error',
      code: 'payload_too_large',
      nonRetryable: true,
    })
  }
  // The adapter types its bindings as the SDK's env variables (QSTASH_TOKEN, …); this worker's
  // are optional strings and it passes the client and receiver itself, so the env is not read.
  return handlerFor(workflow, config)(c as unknown as Parameters<ReturnType<typeof handlerFor>>[0])
})
