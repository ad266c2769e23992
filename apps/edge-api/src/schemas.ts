import { z } from '@hono/zod-openapi'

/** The error envelope, as documented in the OpenAPI document for every error response. */
export const ErrorSchema = z
  .object({
    error: z.object({
      type: z.string().openapi({ example: 'invalid_request_error' }),
      code: z.string().openapi({ example: 'invalid_parameter' }),
      message: z.string(),
      param: z.string().nullable(),
      request_id: z
        .string()
        .nullable()
        .openapi({ example: 'req_4f1c0c0e8e0b4a4c9a0f1d2b3c4d5e6f' }),
    }),
  })
  .openapi('Error')

export const errorResponses = {
  500: {
    description: 'Server error (for example an invalid configuration)',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const

const errorContent = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
})

/** Error responses every authenticated route can give (documented in the OpenAPI document). */
export const authErrorResponses = {
  400: errorContent('Invalid input; `param` names the field'),
  401: errorContent('Missing, invalid, expired or revoked credentials'),
  403: errorContent('Missing scope, insufficient role, or cross-site request refused'),
  404: errorContent('Not found (or in another workspace)'),
  429: errorContent('Rate limit reached (`Retry-After`) or monthly token budget spent'),
  ...errorResponses,
} as const

/** Security requirement: an API key or session token as a bearer token, or the session cookie. */
export const authSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }]

export const WorkspaceIdParam = z.object({
  workspace_id: z
    .string()
    .uuid()
    .openapi({
      param: { name: 'workspace_id', in: 'path' },
      example: '3f0c1e2a-9b7d-4c1e-8a2f-5d6e7f809a1b',
    }),
})

/** A `{id}` path parameter holding a UUID (jobs, schedules, webhook sources and endpoints). */
export const UuidIdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' } }),
})

/** A described `application/json` response. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
