import { createRoute, z } from '@hono/zod-openapi'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ApiError, type ErrorType } from '../errors'
import { requireAuth, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import { authErrorResponses, authSecurity, ErrorSchema } from '../schemas'
import { recordUsage } from '../usage/meter'

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } })

const Text = z.string().min(1, 'must not be empty')
const EmbeddingsRequest = z
  .object({
    model: z.string().min(1).max(200).openapi({ example: 'use-lite-512' }),
    input: z
      .union([Text, z.array(Text).min(1, 'must not be empty').max(2048, 'at most 2048 inputs')])
      .openapi({ description: 'A string or an array of strings (token arrays are not supported)' }),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().positive().optional(),
    input_type: z
      .enum(['query', 'passage', 'document'])
      .optional()
      .openapi({
        description:
          'What the texts are for: asymmetric embedders put a different instruction before ' +
          'search queries and stored passages (`document` = `passage`); others ignore it',
      }),
    user: z.string().max(256).optional(),
  })
  .openapi('EmbeddingsRequest')

const EmbeddingsResponse = z
  .object({
    object: z.literal('list'),
    data: z.array(
      z.object({
        object: z.literal('embedding'),
        index: z.number().int(),
        embedding: z.union([z.array(z.number()), z.string()]),
      }),
    ),
    model: z.string(),
    usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
  })
  .openapi('EmbeddingsResponse')

const embeddingsRoute = createRoute({
  method: 'post',
  path: '/v1/embeddings',
  tags: ['Inference'],
  summary: 'Create embeddings (OpenAI-compatible; scope `embeddings`; billable)',
  description:
    'Forwarded to the ml-node. The tokens it reports are metered against the workspace; once the ' +
    'monthly token budget is spent the call answers 429 `token_budget_exceeded`.',
  security: authSecurity,
  middleware: [requireAuth({ tokenBudget: true }), requireScope('embeddings')] as const,
  request: { body: { required: true, ...json(EmbeddingsRequest) } },
  responses: {
    200: { description: 'Embeddings', ...json(EmbeddingsResponse) },
    502: { description: 'The ml-node failed', ...json(ErrorSchema) },
    503: { description: 'No ml-node configured', ...json(ErrorSchema) },
    504: { description: 'The ml-node timed out', ...json(ErrorSchema) },
    ...authErrorResponses,
  },
})

interface UpstreamError {
  error?: { type?: string; code?: string | null; message?: string; param?: string | null }
}

const ROUTE = 'POST /v1/embeddings'
const PASS_THROUGH = new Set([400, 404, 413, 422, 429, 503])

export const embeddingsRoutes = createRouter().openapi(embeddingsRoute, async (c) => {
  const body = c.req.valid('json')
  const config = c.get('config')
  const started = Date.now()
  const meter = (status: number, tokensIn = 0) =>
    recordUsage(c, {
      route: ROUTE,
      model: body.model,
      tokensIn,
      tokensOut: 0,
      status,
      latencyMs: Date.now() - started,
    })
  if (!config.ML_NODE_URL) {
    throw new ApiError(503, {
      type: 'server_error',
      code: 'upstream_not_configured',
      message: 'No inference node is configured for embeddings.',
    })
  }
  let res: Response
  try {
    res = await fetch(`${config.ML_NODE_URL.replace(/\/+$/, '')}/v1/embeddings`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Request-Id': c.get('requestId'),
        ...(config.ML_NODE_API_KEY ? { Authorization: `Bearer ${config.ML_NODE_API_KEY}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.ML_NODE_TIMEOUT_MS),
    })
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError'
    meter(timedOut ? 504 : 502)
    throw new ApiError(timedOut ? 504 : 502, {
      type: 'server_error',
      code: timedOut ? 'upstream_timeout' : 'upstream_unavailable',
      message: timedOut
        ? 'The inference node did not answer in time.'
        : 'The inference node could not be reached.',
    })
  }
  if (!res.ok) {
    const upstream = (await res.json().catch(() => ({}))) as UpstreamError
    // The caller's own mistakes (bad model, bad input, busy node) pass through; anything else
    // (e.g. the node refusing our token) is the platform's problem: 502, details withheld.
    const pass = PASS_THROUGH.has(res.status)
    const status = (pass ? res.status : 502) as ContentfulStatusCode
    meter(status)
    const retryAfter = res.headers.get('Retry-After')
    throw new ApiError(status, {
      type: pass
        ? ((upstream.error?.type as ErrorType) ?? 'invalid_request_error')
        : 'server_error',
      code: pass ? (upstream.error?.code ?? 'upstream_error') : 'upstream_error',
      message: pass
        ? (upstream.error?.message ?? 'The inference node refused the request.')
        : 'The inference node failed to answer.',
      param: pass ? (upstream.error?.param ?? null) : null,
      headers: retryAfter ? { 'Retry-After': retryAfter } : {},
    })
  }
  const result = (await res.json()) as z.infer<typeof EmbeddingsResponse>
  meter(200, result.usage?.prompt_tokens ?? 0)
  return c.json(result, 200)
})
