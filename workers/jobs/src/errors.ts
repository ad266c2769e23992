import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * QStash retries every non-2xx answer unless it is 489 with `Upstash-NonRetryable-Error: true`,
 * in which case the message goes straight to the dead-letter queue (and the failure callback runs).
 * https://upstash.com/docs/qstash/features/retry#non-retryable-error
 */
export const NON_RETRYABLE_STATUS = 489
export const NON_RETRYABLE_HEADER = 'Upstash-NonRetryable-Error'

export type ErrorType =
  | 'authentication_error'
  | 'invalid_request_error'
  | 'not_found_error'
  | 'job_error'
  | 'server_error'

export interface ErrorBody {
  error: {
    type: ErrorType
    code: string
    message: string
    request_id: string
    /** The payload field at fault, for validation errors. */
    param?: string
  }
}

export interface JobsErrorOptions {
  status: ContentfulStatusCode
  type: ErrorType
  code: string
  param?: string
  /** Ask QStash not to retry: answered as 489 with `Upstash-NonRetryable-Error: true`. */
  nonRetryable?: boolean
  /** Seconds until QStash should retry (sent as `Retry-After`). */
  retryAfterSeconds?: number
  /** What went wrong, redacted, for the job record (never sent in the response). */
  detail?: string
}

/** The one error type the app throws; `app.onError` turns it into the JSON envelope. */
export class JobsError extends Error {
  readonly status: ContentfulStatusCode
  readonly type: ErrorType
  readonly code: string
  readonly param: string | undefined
  readonly nonRetryable: boolean
  readonly retryAfterSeconds: number | undefined
  readonly detail: string | undefined

  constructor(message: string, options: JobsErrorOptions) {
    super(message)
    this.name = 'JobsError'
    this.type = options.type
    this.code = options.code
    this.param = options.param
    this.nonRetryable = options.nonRetryable ?? false
    this.status = this.nonRetryable
      ? (NON_RETRYABLE_STATUS as ContentfulStatusCode)
      : options.status
    this.retryAfterSeconds = options.retryAfterSeconds
    this.detail = options.detail
  }
}

export function errorResponse(c: Context, error: JobsError): Response {
  const body: ErrorBody = {
    error: {
      type: error.type,
      code: error.code,
      message: error.message,
      request_id: requestIdOf(c),
      ...(error.param === undefined ? {} : { param: error.param }),
    },
  }
  if (error.nonRetryable) c.header(NON_RETRYABLE_HEADER, 'true')
  if (error.retryAfterSeconds !== undefined) {
    c.header('Retry-After', String(Math.max(0, Math.ceil(error.retryAfterSeconds))))
  }
  return c.json(body, error.status)
}

function requestIdOf(c: Context): string {
  const id: unknown = c.get('requestId')
  return typeof id === 'string' ? id : 'unknown'
}
