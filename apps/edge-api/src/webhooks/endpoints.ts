import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, webhookDeliveries, webhookEndpoints } from '@synthstack/db'
import { WEBHOOK_EVENTS } from '@synthstack/jobs'
import { ApiError } from '../errors'
import { requireAuth, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import {
  authErrorResponses,
  authSecurity,
  UuidIdParam as IdParam,
  jsonResponse as json,
} from '../schemas'
import { getDb } from '../stores'
import { encryptSecret, newSecret } from './secrets'

const EndpointSchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    active: z.boolean(),
    created_at: z.string(),
  })
  .openapi('WebhookEndpoint')

const CreateEndpointSchema = z
  .object({
    url: z
      .string()
      .url()
      .max(2000)
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL')
      .openapi({ example: 'https://example.com/hooks/synthstack' }),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  })
  .strict()
  .openapi('CreateWebhookEndpoint')

const DeliverySchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('webhook_delivery'),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    response_status: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookDelivery')

type EndpointRow = typeof webhookEndpoints.$inferSelect
const endpointOut = (e: EndpointRow) => ({
  id: e.id,
  object: 'webhook_endpoint' as const,
  url: e.url,
  events: e.events as (typeof WEBHOOK_EVENTS)[number][],
  active: e.active,
  created_at: e.createdAt.toISOString(),
})

const common = { tags: ['Webhooks'], security: authSecurity }
const createEndpointRoute = createRoute({
  ...common,
  method: 'post',
  path: '/v1/webhook-endpoints',
  summary: 'Register an endpoint for outbound events',
  description:
    'Events are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) ' +
    'with the returned `secret` (shown only here) and retried through QStash.',
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateEndpointSchema } } },
  },
  responses: {
    201: json(EndpointSchema.extend({ secret: z.string() }), 'Created'),
    ...authErrorResponses,
  },
})
const listEndpointsRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/webhook-endpoints',
  summary: 'List outbound endpoints (secrets are never returned)',
  responses: {
    200: json(z.object({ object: z.literal('list'), data: z.array(EndpointSchema) }), 'Endpoints'),
    ...authErrorResponses,
  },
})
const deleteEndpointRoute = createRoute({
  ...common,
  method: 'delete',
  path: '/v1/webhook-endpoints/{id}',
  summary: 'Remove an outbound endpoint',
  request: { params: IdParam },
  responses: {
    200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'),
    ...authErrorResponses,
  },
})
const listDeliveriesRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  summary: 'The delivery log of an endpoint, newest first',
  request: {
    params: IdParam,
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
  },
  responses: {
    200: json(z.object({ object: z.literal('list'), data: z.array(DeliverySchema) }), 'Log'),
    ...authErrorResponses,
  },
})

const endpointNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'webhook_endpoint_not_found',
    message: 'No such webhook endpoint.',
    param: 'id',
  })

const router = createRouter()
router.use('/v1/webhook-endpoints', requireAuth(), requireScope('jobs'))
router.use('/v1/webhook-endpoints/*', requireAuth(), requireScope('jobs'))

export const webhookEndpointRoutes = router
  .openapi(createEndpointRoute, async (c) => {
    const body = c.req.valid('json')
    const config = c.get('config')
    const secret = newSecret()
    const [row] = await getDb(config)
      .insert(webhookEndpoints)
      .values({
        workspaceId: c.get('auth').workspaceId,
        url: body.url,
        events: [...new Set(body.events)],
        secretCiphertext: await encryptSecret(config, secret),
      })
      .returning()
    if (!row) throw new Error('insert returned nothing')
    return c.json({ ...endpointOut(row), secret }, 201)
  })
  .openapi(listEndpointsRoute, async (c) => {
    const rows = await getDb(c.get('config'))
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.workspaceId, c.get('auth').workspaceId))
      .orderBy(desc(webhookEndpoints.createdAt))
    return c.json({ object: 'list' as const, data: rows.map(endpointOut) }, 200)
  })
  .openapi(deleteEndpointRoute, async (c) => {
    const { id } = c.req.valid('param')
    const [row] = await getDb(c.get('config'))
      .delete(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.id, id),
          eq(webhookEndpoints.workspaceId, c.get('auth').workspaceId),
        ),
      )
      .returning({ id: webhookEndpoints.id })
    if (!row) throw endpointNotFound()
    return c.json({ id: row.id, deleted: true as const }, 200)
  })
  .openapi(listDeliveriesRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { limit } = c.req.valid('query')
    const workspaceId = c.get('auth').workspaceId
    const db = getDb(c.get('config'))
    const [endpoint] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.workspaceId, workspaceId)))
    if (!endpoint) throw endpointNotFound()
    const rows = await db
      .select()
      .from(webhookDeliveries)
      .where(
        and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.workspaceId, workspaceId)),
      )
      .orderBy(desc(webhookDeliveries.createdAt))
      .limit(limit)
    return c.json(
      {
        object: 'list' as const,
        data: rows.map((d) => ({
          id: d.id,
          object: 'webhook_delivery' as const,
          event_id: d.eventId,
          event_type: d.eventType,
          status: d.status,
          attempts: d.attempts,
          response_status: d.responseStatus,
          created_at: d.createdAt.toISOString(),
          updated_at: d.updatedAt.toISOString(),
        })),
      },
      200,
    )
  })
