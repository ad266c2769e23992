import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ZodError } from 'zod'
import { ConfigError } from './config'
import { redact, secretValues } from './redact'
import type { AppEnv } from './types'

/** Error types as the OpenAI API (and its SDKs) use them. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'server_error'

/** `{"error": {...}}`: the envelope every error response uses. */
export interface ErrorBody {
  error: {
    type: ErrorType
    code: string
    message: string
    param: string | null
    request_id: string | null
  }
}

export interface ApiErrorInit {
  type: ErrorType
  code: string
  message: string
  param?: string | null
  headers?: Record<string, string>
}

/** Throw from anywhere in a request; `handleError` turns it into the envelope. */
export class ApiError extends HTTPException {
  readonly type: ErrorType
  readonly code: string
  readonly param: string | null
  readonly headers: Record<string, string>

  constructor(status: ContentfulStatusCode, init: ApiErrorInit) {
    super(status, { message: init.message })
    this.type = init.type
    this.code = init.code
    this.param = init.param ?? null
    this.headers = init.headers ?? {}
  }
}

const typeForStatus = (status: number): ErrorType => {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 404) return 'not_found_error'
  if (status === 409) return 'conflict_error'
  if (status === 429) return 'rate_limit_error'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}

const codeForStatus = (status: number): string => {
  const codes: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    429: 'rate_limited',
    503: 'service_unavailable',
  }
  return codes[status] ?? (status >= 500 ? 'internal_error' : 'bad_request')
}

export function errorResponse(
  c: Context<AppEnv>,
  status: ContentfulStatusCode,
  init: ApiErrorInit,
): Response {
  const body: ErrorBody = {
    error: {
      type: init.type,
      code: init.code,
      message: init.message,
      param: init.param ?? null,
      request_id: c.get('requestId') ?? null,
    },
  }
  return c.json(body, status, init.headers)
}

/** The one `app.onError`: every thrown error leaves as the envelope, never a stack trace. */
export const handleError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) {
    return errorResponse(c, err.status, {
      type: err.type,
      code: err.code,
      message: err.message,
      param: err.param,
      headers: err.headers,
    })
  }
  if (err instanceof ConfigError) {
    // The message names variables only; values never reach it.
    console.error(`[${c.get('requestId')}] ${err.message}`)
    return errorResponse(c, 500, {
      type: 'server_error',
      code: 'config_invalid',
      message: err.message,
      param: err.issues[0]?.variable ?? null,
    })
  }
  if (err instanceof HTTPException) {
    const status = err.status
    const malformedJson = status === 400 && /json/i.test(err.message)
    return errorResponse(c, status, {
      type: typeForStatus(status),
      code: malformedJson ? 'invalid_json' : codeForStatus(status),
      message: err.message || 'Request failed',
    })
  }
  // Logged for operators, with every binding that looks secret removed from the text.
  const name = err instanceof Error ? err.name : 'Error'
  const text = redact(err instanceof Error ? err.message : String(err), secretValues(c.env))
  console.error(`[${c.get('requestId')}] unhandled ${name}: ${text}`)
  return errorResponse(c, 500, {
    type: 'server_error',
    code: 'internal_error',
    message: 'The server had an error while processing your request.',
  })
}

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, 404, {
    type: 'not_found_error',
    code: 'route_not_found',
    message: `Unknown route: ${c.req.method} ${new URL(c.req.url).pathname}`,
  })

/** Turns a zod failure from request validation into a 400 naming the offending field. */
export function validationError(error: ZodError, target: string): ApiError {
  const issue = error.issues[0]
  const path = issue?.path.map(String).join('.') ?? ''
  const param = path || (target === 'json' ? 'body' : target)
  return new ApiError(400, {
    type: 'invalid_request_error',
    code: 'invalid_parameter',
    message: `Invalid ${target === 'json' ? 'body' : target} parameter '${param}': ${issue?.message ?? 'invalid value'}`,
    param,
  })
}
