import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, jobs, webhookSchemes, webhookSources } from '@synthstack/db'
import { getJobType, PRIORITIES } from '@synthstack/jobs'
import { ApiError } from '../errors'
import { createJob } from '../jobs/service'
import { requireAuth, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import {
  authErrorResponses,
  authSecurity,
  ErrorSchema,
  UuidIdParam as IdParam,
  jsonResponse as json,
} from '../schemas'
import { getDb, getRedis, redisKey } from '../stores'
import { decryptSecret, encryptSecret, newSecret } from './secrets'
import { SignatureError, verifyWebhook } from './verify'

const MAX_BODY_BYTES = 1024 * 1024
const REPLAY_TTL_SECONDS = 7 * 24 * 3600

const SourceSchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('webhook_source'),
    name: z.string(),
    scheme: z.enum(webhookSchemes),
    mappings: z.record(z.string(), z.string()),
    priority: z.enum(PRIORITIES),
    url_path: z.string().openapi({ example: '/webhooks/3f0c1e2a-9b7d-4c1e-8a2f-5d6e7f809a1b' }),
    created_at: z.string(),
  })
  .openapi('WebhookSource')

const CreateSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    scheme: z.enum(webhookSchemes),
    secret: z.string().min(16).max(500).optional().openapi({
      description:
        'The sender’s signing secret; generated (whsec_…) when omitted. Never returned again.',
    }),
    mappings: z
      .record(z.string().max(200), z.string().max(100))
      .default({ '*': 'webhook.received' })
      .openapi({ description: 'Event type → job type; `*` matches any other event.' }),
    priority: z.enum(PRIORITIES).default('normal'),
  })
  .strict()
  .openapi('CreateWebhookSource')

type SourceRow = typeof webhookSources.$inferSelect
const sourceOut = (s: SourceRow) => ({
  id: s.id,
  object: 'webhook_source' as const,
  name: s.name,
  scheme: s.scheme,
  mappings: s.mappings,
  priority: s.priority,
  url_path: `/webhooks/${s.id}`,
  created_at: s.createdAt.toISOString(),
})

const common = { tags: ['Webhooks'], security: authSecurity }
const createSourceRoute = createRoute({
  ...common,
  method: 'post',
  path: '/v1/webhook-sources',
  summary: 'Configure an inbound webhook sender',
  description: 'Returns the source with its secret, the only time the secret is shown.',
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateSourceSchema } } },
  },
  responses: {
    201: json(SourceSchema.extend({ secret: z.string() }), 'Created'),
    ...authErrorResponses,
  },
})
const listSourcesRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/webhook-sources',
  summary: 'List inbound webhook senders (secrets are never returned)',
  responses: {
    200: json(z.object({ object: z.literal('list'), data: z.array(SourceSchema) }), 'Sources'),
    ...authErrorResponses,
  },
})
const deleteSourceRoute = createRoute({
  ...common,
  method: 'delete',
  path: '/v1/webhook-sources/{id}',
  summary: 'Remove an inbound webhook sender',
  request: { params: IdParam },
  responses: {
    200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'),
    ...authErrorResponses,
  },
})
const receiveRoute = createRoute({
  method: 'post',
  path: '/webhooks/{source}',
  tags: ['Webhooks'],
  summary: 'Receive a signed webhook',
  description:
    'Verifies the signature (Standard Webhooks, Stripe-style or GitHub-style, 5-minute window), ' +
    'deduplicates on the event id and queues the mapped job: 202 with the job id at once; a ' +
    'duplicate answers 200 with the first job’s id.',
  request: {
    params: z.object({ source: z.string().openapi({ param: { name: 'source', in: 'path' } }) }),
  },
  responses: {
    202: json(z.object({ job_id: z.string().nullable(), event_id: z.string() }), 'Queued'),
    200: json(
      z.object({ job_id: z.string().nullable(), event_id: z.string(), duplicate: z.boolean() }),
      'Already received (or no job mapped)',
    ),
    401: json(ErrorSchema, 'Bad signature or stale timestamp'),
    404: json(ErrorSchema, 'Unknown source'),
    413: json(ErrorSchema, 'Body too large'),
  },
})

const sourceNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'webhook_source_not_found',
    message: 'No such webhook source.',
    param: 'source',
  })

const router = createRouter()
router.use('/v1/webhook-sources', requireAuth(), requireScope('jobs'))
router.use('/v1/webhook-sources/*', requireAuth(), requireScope('jobs'))

export const webhookRoutes = router
  .openapi(createSourceRoute, async (c) => {
    const body = c.req.valid('json')
    const config = c.get('config')
    for (const [event, type] of Object.entries(body.mappings)) {
      const spec = getJobType(type, config.JOBS_ENABLE_TEST_JOBS)
      if (!spec?.acceptsWebhooks) {
        throw new ApiError(400, {
          type: 'invalid_request_error',
          code: 'invalid_parameter',
          message: `Job type '${type}' cannot receive webhook events.`,
          param: `mappings.${event}`,
        })
      }
    }
    const secret = body.secret ?? newSecret()
    const [row] = await getDb(config)
      .insert(webhookSources)
      .values({
        workspaceId: c.get('auth').workspaceId,
        name: body.name,
        scheme: body.scheme,
        secretCiphertext: await encryptSecret(config, secret),
        mappings: body.mappings,
        priority: body.priority,
      })
      .returning()
    if (!row) throw new Error('insert returned nothing')
    return c.json({ ...sourceOut(row), secret }, 201)
  })
  .openapi(listSourcesRoute, async (c) => {
    const rows = await getDb(c.get('config'))
      .select()
      .from(webhookSources)
      .where(eq(webhookSources.workspaceId, c.get('auth').workspaceId))
      .orderBy(desc(webhookSources.createdAt))
    return c.json({ object: 'list' as const, data: rows.map(sourceOut) }, 200)
  })
  .openapi(deleteSourceRoute, async (c) => {
    const { id } = c.req.valid('param')
    const [row] = await getDb(c.get('config'))
      .delete(webhookSources)
      .where(
        and(eq(webhookSources.id, id), eq(webhookSources.workspaceId, c.get('auth').workspaceId)),
      )
      .returning({ id: webhookSources.id })
    if (!row) throw sourceNotFound()
    return c.json({ id: row.id, deleted: true as const }, 200)
  })
  .openapi(receiveRoute, async (c) => {
    const { source: sourceId } = c.req.valid('param')
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sourceId)) {
      throw sourceNotFound()
    }
    const config = c.get('config')
    const db = getDb(config)
    const [source] = await db.select().from(webhookSources).where(eq(webhookSources.id, sourceId))
    if (!source) throw sourceNotFound()
    const declared = Number(c.req.header('content-length') ?? '0')
    const body = declared > MAX_BODY_BYTES ? '' : await c.req.text()
    if (declared > MAX_BODY_BYTES || body.length > MAX_BODY_BYTES) {
      throw new ApiError(413, {
        type: 'invalid_request_error',
        code: 'payload_too_large',
        message: `Webhook bodies are limited to ${MAX_BODY_BYTES} bytes.`,
      })
    }
    let event: Awaited<ReturnType<typeof verifyWebhook>>
    try {
      const secret = await decryptSecret(config, source.secretCiphertext)
      event = await verifyWebhook(source.scheme, secret, body, c.req.raw.headers)
    } catch (error) {
      if (!(error instanceof SignatureError)) throw error
      throw new ApiError(401, {
        type: 'authentication_error',
        code: error.code,
        message: error.message,
      })
    }
    const jobType = source.mappings[event.type] ?? source.mappings['*']
    const idempotencyKey = `webhook:${event.id}`
    // Replay protection: the first delivery of an event id claims it (SET NX, a week).
    const replayKey = redisKey('webhook', source.id, event.id)
    let first = true
    try {
      first =
        (await getRedis(config).set(replayKey, '1', { nx: true, ex: REPLAY_TTL_SECONDS })) === 'OK'
    } catch {
      // Redis down: the job's idempotency key below still deduplicates.
    }
    if (!first || !jobType) {
      const [existing] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(
          and(eq(jobs.workspaceId, source.workspaceId), eq(jobs.idempotencyKey, idempotencyKey)),
        )
      if (existing || !jobType) {
        return c.json({ job_id: existing?.id ?? null, event_id: event.id, duplicate: !first }, 200)
      }
      // Claimed by a delivery that failed before queueing its job: queue it now.
    }
    const { job, created } = await createJob(c, {
      workspaceId: source.workspaceId,
      type: jobType,
      payload: {
        source_id: source.id,
        event_id: event.id,
        event_type: event.type,
        body: event.body,
      },
      priority: source.priority,
      idempotencyKey,
    })
    return created
      ? c.json({ job_id: job.id, event_id: event.id }, 202)
      : c.json({ job_id: job.id, event_id: event.id, duplicate: true }, 200)
  })
