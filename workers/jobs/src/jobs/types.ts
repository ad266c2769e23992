import type { JobTypeSpec } from '@synthstack/jobs'
import type * as z from 'zod'
import type { Config } from '../config'
import type { Bindings } from '../env'

/** What a handler gets besides its payload. */
export interface JobContext {
  type: string
  /** The job row this delivery runs; null for a stateless delivery (`POST /jobs/:type`). */
  jobId: string | null
  workspaceId: string | null
  /** 1-based attempt number of the job (counts replays too); retried + 1 when stateless. */
  attempt: number
  /** `Upstash-Message-Id` of the delivery; null when called without one. */
  messageId: string | null
  /** `Upstash-Retried`: 0 on the first attempt, n on the n-th retry. */
  retried: number
  requestId: string
  /** Where QStash reaches this worker (`JOBS_PUBLIC_URL`, else the delivery's origin). */
  workerBase: string
  env: Bindings
  config: Config
  /** Reports progress (0–100, clamped) with an optional message: row + SSE event. */
  progress(percent: number, message?: string): Promise<void>
  /** Keep work running after the response (Workers `ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void
}

/** A job type: its shared spec (name, payload schema) and this worker's handler. */
export interface JobDefinition<TSchema extends z.ZodType = z.ZodType, TResult = unknown>
  extends JobTypeSpec<TSchema> {
  handle(payload: z.output<TSchema>, ctx: JobContext): Promise<TResult>
}

/** Joins a spec from `@synthstack/jobs` with its handler. */
export function defineJob<TSchema extends z.ZodType, TResult>(
  spec: JobTypeSpec<TSchema>,
  handle: (payload: z.output<TSchema>, ctx: JobContext) => Promise<TResult>,
): JobDefinition<TSchema, TResult> {
  return { ...spec, handle }
}

/**
 * Throw from a handler when another attempt cannot succeed (the record is gone, the input is
 * wrong). The worker answers 489 with `Upstash-NonRetryable-Error: true`, so QStash moves the
 * message to the dead-letter queue at once. Its message is sent back: keep secrets out of it.
 */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PermanentJobError'
  }
}

/** Throw from a handler to ask QStash to retry after `seconds` (sent as `Retry-After`). */
export class RetryLaterError extends Error {
  readonly seconds: number
  constructor(message: string, seconds: number) {
    super(message)
    this.name = 'RetryLaterError'
    this.seconds = seconds
  }
}
