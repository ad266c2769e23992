import type * as z from 'zod'
import type { Config } from '../config'
import type { Bindings } from '../env'

/** What a handler gets besides its payload. */
export interface JobContext {
  type: string
  /** `Upstash-Message-Id` of the delivery; null when called without one. */
  messageId: string | null
  /** `Upstash-Retried`: 0 on the first attempt, n on the n-th retry. */
  retried: number
  requestId: string
  env: Bindings
  config: Config
  /** Keep work running after the response (Workers `ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void
}

/** A job type: its name, payload schema and handler. One per file in `handlers/`. */
export interface JobDefinition<TSchema extends z.ZodType = z.ZodType, TResult = unknown> {
  /** Dotted lowercase name, e.g. `system.echo`; the route is `POST /jobs/<type>`. */
  type: string
  description: string
  payload: TSchema
  /** Registered only where `JOBS_ENABLE_TEST_JOBS` is true. */
  testOnly?: boolean
  handle(payload: z.output<TSchema>, ctx: JobContext): Promise<TResult>
}

export function defineJob<TSchema extends z.ZodType, TResult>(
  definition: JobDefinition<TSchema, TResult>,
): JobDefinition<TSchema, TResult> {
  return definition
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
