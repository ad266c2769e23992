import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'

/** An error answered in OpenAI's envelope: `{"error":{"message","type","param","code"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }

  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

export const badRequest = (param: string, message: string, code: string | null = 'invalid_value') =>
  new ApiError(400, message, 'invalid_request_error', param, code)

/** 404 listing what the route knows: model ids, then aliases as `alias → id`. */
export const modelNotFound = (
  model: string,
  known: string[],
  aliases: [string, string][] = [],
  note = '',
) =>
  new ApiError(
    404,
    `The model '${model}' does not exist on this node${note}. Known models for this route: ${known.join(', ') || '(none)'}${aliases.length > 0 ? `. Aliases: ${aliases.map(([a, id]) => `${a} → ${id}`).join(', ')}` : ''}`,
    'invalid_request_error',
    'model',
    'model_not_found',
  )

/** Queue full: the caller should back off. */
export const overloaded = (what: string, retryAfterS: number) =>
  new ApiError(
    429,
    `${what} is busy: its queue is full. Retry after ${retryAfterS} s.`,
    'rate_limit_error',
    null,
    'queue_full',
    { 'Retry-After': String(retryAfterS) },
  )

export const unavailable = (message: string, retryAfterS = 5, code = 'unavailable') =>
  new ApiError(503, message, 'server_error', null, code, { 'Retry-After': String(retryAfterS) })

export const timedOut = (ms: number) =>
  new ApiError(
    503,
    `The request did not finish within ${ms} ms.`,
    'server_error',
    null,
    'timeout',
    { 'Retry-After': '1' },
  )

export function respondError(c: Context, err: ApiError) {
  for (const [k, v] of Object.entries(err.headers)) c.header(k, v)
  return c.json(err.body(), err.status)
}

/** The first zod issue as a 400 naming the field, e.g. `input[3]`. */
export function fromZod(error: z.ZodError): ApiError {
  const issue = error.issues[0]
  if (!issue) return badRequest('body', 'Invalid request body')
  const param =
    issue.path.reduce<string>(
      (acc, p) =>
        typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p),
      '',
    ) || 'body'
  const code =
    issue.code === 'invalid_type' && issue.input === undefined
      ? 'missing_required_parameter'
      : 'invalid_value'
  const message =
    code === 'missing_required_parameter'
      ? `Missing required parameter: '${param}'.`
      : `Invalid value for '${param}': ${issue.message}`
  return badRequest(param, message, code)
}

/** Parse a JSON body with a zod schema; bad JSON and bad fields become 400s. */
export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown
  try {
    raw = await c.req.json()
  } catch {
    throw badRequest('body', 'We could not parse the JSON body of your request.', 'invalid_json')
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw badRequest('body', 'The request body must be a JSON object.', 'invalid_json')
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) throw fromZod(parsed.error)
  return parsed.data
}
