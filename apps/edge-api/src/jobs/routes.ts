import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, jobs, sql } from '@synthstack/db'
import { JOB_STATUSES, MAX_MAX_ATTEMPTS, PRIORITIES } from '@synthstack/jobs'
import { requireAuth, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import {
  authErrorResponses,
  authSecurity,
  UuidIdParam as IdParam,
  jsonResponse as json,
} from '../schemas'
import { getDb } from '../stores'
import { streamJobEvents } from './events'
import { attemptOut, jobOut } from './serialize'
import { attemptsOf, cancelJob, createJob, getJob, retryJob } from './service'

const JobSchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('job'),
    type: z.string(),
    status: z.enum(JOB_STATUSES),
    priority: z.enum(PRIORITIES),
    payload: z.unknown(),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    progress: z.number().int(),
    progress_message: z.string().nullable(),
    result: z.unknown(),
    error: z.string().nullable(),
    run_at: z.string().nullable(),
    idempotency_key: z.string().nullable(),
    schedule_id: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi('Job')

const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    status: z.enum(['running', 'succeeded', 'failed']),
    error: z.string().nullable(),
    retried: z.number().int(),
    message_id: z.string().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi('JobAttempt')

const JobDetailSchema = JobSchema.extend({ attempts_log: z.array(AttemptSchema) }).openapi(
  'JobDetail',
)

const CreateJobSchema = z
  .object({
    type: z.string().min(1).max(100).openapi({ example: 'email.send' }),
    payload: z.record(z.string(), z.unknown()).default({}).openapi({
      description: "The job type's payload; validated against its schema (400 names the field).",
    }),
    priority: z.enum(PRIORITIES).default('normal'),
    max_attempts: z.number().int().min(1).max(MAX_MAX_ATTEMPTS).optional(),
    delay: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional()
      .openapi({
        description: 'Seconds to wait before the first attempt (exclusive with run_at).',
      }),
    run_at: z.string().datetime({ offset: true }).optional(),
    idempotency_key: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((b) => !(b.delay !== undefined && b.run_at !== undefined), {
    message: 'give delay or run_at, not both',
    path: ['run_at'],
  })
  .openapi('CreateJob')

const common = { tags: ['Jobs'], security: authSecurity }

const createJobRoute = createRoute({
  ...common,
  method: 'post',
  path: '/v1/jobs',
  summary: 'Enqueue a job',
  description:
    'Validates the payload for the job type, stores the job and hands it to its priority lane. ' +
    'The same `idempotency_key` (body or `Idempotency-Key` header) returns the first job (200).',
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateJobSchema } } },
  },
  responses: {
    201: json(JobSchema, 'Enqueued'),
    200: json(JobSchema, 'Already enqueued with this idempotency key'),
    ...authErrorResponses,
  },
})

const listJobsRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/jobs',
  summary: 'List jobs, newest first',
  request: {
    query: z.object({
      status: z.enum(JOB_STATUSES).optional(),
      type: z.string().max(100).optional(),
      created_after: z.string().datetime({ offset: true }).optional(),
      created_before: z.string().datetime({ offset: true }).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: json(
      z.object({
        object: z.literal('list'),
        data: z.array(JobSchema),
        has_more: z.boolean(),
        next_created_before: z.string().nullable(),
      }),
      'Jobs',
    ),
    ...authErrorResponses,
  },
})

const getJobRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/jobs/{id}',
  summary: 'A job with its attempts log',
  request: { params: IdParam },
  responses: { 200: json(JobDetailSchema, 'The job'), ...authErrorResponses },
})

const eventsRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/jobs/{id}/events',
  summary: 'Progress as server-sent events',
  description:
    'Streams `status` and `progress` events in order (`id` = sequence; send `Last-Event-ID` ' +
    'to resume) and ends after the terminal event (succeeded, dead or cancelled).',
  request: { params: IdParam },
  responses: {
    200: { description: 'An SSE stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...authErrorResponses,
  },
})

const cancelRoute = createRoute({
  ...common,
  method: 'post',
  path: '/v1/jobs/{id}/cancel',
  summary: 'Cancel a queued or retrying job',
  request: { params: IdParam },
  responses: {
    200: json(JobSchema, 'Cancelled'),
    409: json(z.unknown(), 'Not cancellable'),
    ...authErrorResponses,
  },
})

const retryRoute = createRoute({
  ...common,
  method: 'post',
  path: '/v1/jobs/{id}/retry',
  summary: 'Replay a dead job',
  description: 'Queues a dead job again with a fresh attempt budget; its attempts log is kept.',
  request: { params: IdParam },
  responses: {
    200: json(JobSchema, 'Queued again'),
    409: json(z.unknown(), 'Not dead'),
    ...authErrorResponses,
  },
})

const router = createRouter()
router.use('/v1/jobs', requireAuth(), requireScope('jobs'))
router.use('/v1/jobs/*', requireAuth(), requireScope('jobs'))

export const jobRoutes = router
  .openapi(createJobRoute, async (c) => {
    const body = c.req.valid('json')
    const auth = c.get('auth')
    const idempotencyKey = body.idempotency_key ?? c.req.header('Idempotency-Key') ?? null
    const runAt = body.run_at
      ? new Date(body.run_at)
      : body.delay
        ? new Date(Date.now() + body.delay * 1000)
        : null
    const { job, created } = await createJob(c, {
      workspaceId: auth.workspaceId,
      type: body.type,
      payload: body.payload,
      priority: body.priority,
      ...(body.max_attempts !== undefined && { maxAttempts: body.max_attempts }),
      runAt,
      idempotencyKey,
    })
    return created ? c.json(jobOut(job), 201) : c.json(jobOut(job), 200)
  })
  .openapi(listJobsRoute, async (c) => {
    const q = c.req.valid('query')
    const auth = c.get('auth')
    const conditions = [eq(jobs.workspaceId, auth.workspaceId)]
    if (q.status) conditions.push(eq(jobs.status, q.status))
    if (q.type) conditions.push(eq(jobs.type, q.type))
    if (q.created_after) conditions.push(sql`${jobs.createdAt} > ${q.created_after}`)
    if (q.created_before) conditions.push(sql`${jobs.createdAt} < ${q.created_before}`)
    const found = await getDb(c.get('config'))
      .select()
      .from(jobs)
      .where(and(...conditions))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(q.limit + 1)
    const page = found.slice(0, q.limit)
    const last = page.at(-1)
    return c.json(
      {
        object: 'list' as const,
        data: page.map(jobOut),
        has_more: found.length > q.limit,
        next_created_before: found.length > q.limit && last ? last.createdAt.toISOString() : null,
      },
      200,
    )
  })
  .openapi(getJobRoute, async (c) => {
    const { id } = c.req.valid('param')
    const config = c.get('config')
    const job = await getJob(config, c.get('auth').workspaceId, id)
    const attempts = await attemptsOf(config, id)
    return c.json({ ...jobOut(job), attempts_log: attempts.map(attemptOut) }, 200)
  })
  .openapi(eventsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const job = await getJob(c.get('config'), c.get('auth').workspaceId, id)
    return streamJobEvents(c, job) as never
  })
  .openapi(cancelRoute, async (c) => {
    const { id } = c.req.valid('param')
    return c.json(jobOut(await cancelJob(c, c.get('auth').workspaceId, id)), 200)
  })
  .openapi(retryRoute, async (c) => {
    const { id } = c.req.valid('param')
    return c.json(jobOut(await retryJob(c, c.get('auth').workspaceId, id)), 200)
  })
