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
