import { describeIssue } from '@synthstack/jobs'
import type * as z from 'zod'
import { JobsError } from '../errors'
import { redact } from '../redact'
import type { JobRegistry } from './registry'
import { type JobContext, PermanentJobError, RetryLaterError } from './types'

export interface JobOutcome {
  type: string
  message_id: string | null
  retried: number
  result: unknown
}

/**
 * Runs one delivery: finds the job type, parses the verified body as JSON, validates it with the
 * type's schema and calls the handler. Errors come out as `JobsError`:
 * - unknown type, invalid JSON, invalid payload, `PermanentJobError` -> 489 + non-retryable header
 *   (another attempt cannot help, so QStash sends the message to the DLQ at once);
 * - `RetryLaterError` -> 503 with `Retry-After`; any other error -> 500 (QStash retries).
 */
export async function dispatchJob(
  registry: JobRegistry,
  rawBody: string,
  ctx: JobContext,
): Promise<JobOutcome> {
  return runHandler(registry, parseBody(rawBody), ctx)
}

/** The body as JSON (empty = `{}`); invalid JSON is non-retryable. */
export function parseBody(rawBody: string): unknown {
  try {
    return rawBody.trim() === '' ? {} : JSON.parse(rawBody)
  } catch {
    throw new JobsError('Request body is not valid JSON', {
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_json',
      nonRetryable: true,
    })
  }
}

/** Validates `json` with the type's schema and runs its handler. */
export async function runHandler(
  registry: JobRegistry,
  json: unknown,
  ctx: JobContext,
): Promise<JobOutcome> {
  const job = registry.get(ctx.type)
  if (!job) {
    throw new JobsError(`Unknown job type: ${ctx.type}`, {
      status: 404,
      type: 'not_found_error',
      code: 'unknown_job_type',
      nonRetryable: true,
    })
  }

  const parsed = job.payload.safeParse(json)
  if (!parsed.success) throw invalidPayload(ctx.type, parsed.error)

  let result: unknown
  try {
    result = await job.handle(parsed.data, ctx)
  } catch (error) {
    throw handlerError(ctx, error)
  }
  return { type: ctx.type, message_id: ctx.messageId, retried: ctx.retried, result: result ?? null }
}

function invalidPayload(type: string, error: z.ZodError): JobsError {
  const { param, message } = describeIssue(error)
  return new JobsError(`Invalid payload for ${type}: ${message}`, {
    status: 400,
    type: 'invalid_request_error',
    code: 'invalid_payload',
    nonRetryable: true,
    ...(param ? { param } : {}),
  })
}

function handlerError(ctx: JobContext, error: unknown): JobsError {
  if (error instanceof JobsError) return error
  const detail = redact(
    error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    ctx.config,
  )
  if (error instanceof PermanentJobError) {
    return new JobsError(redact(error.message, ctx.config), {
      status: 422,
      type: 'job_error',
      code: 'job_failed_permanently',
      nonRetryable: true,
      detail,
    })
  }
  // The handler's own message may carry upstream details (connection strings, tokens): log it
  // redacted, answer a fixed text.
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'job handler failed',
      type: ctx.type,
      job_id: ctx.jobId,
      message_id: ctx.messageId,
      retried: ctx.retried,
      request_id: ctx.requestId,
      error: detail,
    }),
  )
  if (error instanceof RetryLaterError) {
    return new JobsError(`Job ${ctx.type} asked to be retried later`, {
      status: 503,
      type: 'job_error',
      code: 'job_retry_later',
      retryAfterSeconds: error.seconds,
      detail,
    })
  }
  return new JobsError(`Job ${ctx.type} failed; it will be retried`, {
    status: 500,
    type: 'job_error',
    code: 'job_failed',
    detail,
  })
}
