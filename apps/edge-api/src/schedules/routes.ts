import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, eq, type JobSchedule, jobSchedules } from '@synthstack/db'
import { DEFAULT_MAX_ATTEMPTS, LANES, MAX_MAX_ATTEMPTS, PRIORITIES } from '@synthstack/jobs'
import type { Config } from '../config'
import { ApiError } from '../errors'
import { ensureLanes, qstashClient, workerUrl } from '../jobs/queue'
import { validateJob } from '../jobs/service'
import { requireAuth, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import {
  authErrorResponses,
  authSecurity,
  UuidIdParam as IdParam,
  jsonResponse as json,
} from '../schemas'
import { getDb } from '../stores'
import { nextRuns, parseCron } from './cron'

const ScheduleSchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('schedule'),
    cron: z.string(),
    type: z.string(),
    payload: z.unknown(),
    priority: z.enum(PRIORITIES),
    max_attempts: z.number().int(),
    next_run_at: z.string().nullable().openapi({
      description: 'When QStash fires next (its own clock; the cron clock when it cannot say).',
    }),
    next_runs: z.array(z.string()).openapi({ description: 'The next five times by the cron.' }),
    last_run_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Schedule')

const CreateScheduleSchema = z
  .object({
    cron: z.string().min(9).max(200).openapi({
      example: '*/15 * * * *',
      description: 'Five cron fields, UTC unless prefixed with `CRON_TZ=<zone> `.',
    }),
    type: z.string().min(1).max(100).openapi({ example: 'email.send' }),
    payload: z.record(z.string(), z.unknown()).default({}),
    priority: z.enum(PRIORITIES).default('normal'),
    max_attempts: z.number().int().min(1).max(MAX_MAX_ATTEMPTS).default(DEFAULT_MAX_ATTEMPTS),
  })
  .strict()
  .openapi('CreateSchedule')

const common = { tags: ['Schedules'], security: authSecurity }

const createScheduleRoute = createRoute({
  ...common,
  method: 'post',
  path: '/v1/schedules',
  summary: 'Run a job on a cron schedule',
  description:
    'Validates the cron expression and the job payload (400 names the field), then creates a ' +
    'QStash schedule. Each firing creates one job (idempotent per QStash message) and runs it.',
  request: {
    body: { required: true, content: { 'application/json': { schema: CreateScheduleSchema } } },
  },
  responses: { 201: json(ScheduleSchema, 'Created'), ...authErrorResponses },
})
const listSchedulesRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/schedules',
  summary: 'List schedules with their next run times',
  responses: {
    200: json(z.object({ object: z.literal('list'), data: z.array(ScheduleSchema) }), 'Schedules'),
    ...authErrorResponses,
  },
})
const getScheduleRoute = createRoute({
  ...common,
  method: 'get',
  path: '/v1/schedules/{id}',
  summary: 'One schedule',
  request: { params: IdParam },
  responses: { 200: json(ScheduleSchema, 'The schedule'), ...authErrorResponses },
})
const deleteScheduleRoute = createRoute({
  ...common,
  method: 'delete',
  path: '/v1/schedules/{id}',
  summary: 'Stop and remove a schedule (jobs it created stay)',
  request: { params: IdParam },
  responses: {
    200: json(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'),
    ...authErrorResponses,
  },
})

const scheduleNotFound = () =>
  new ApiError(404, {
    type: 'not_found_error',
    code: 'schedule_not_found',
    message: 'No such schedule.',
    param: 'id',
  })

const queueUnavailable = (error: unknown) => {
  console.error(`qstash schedule call failed: ${error instanceof Error ? error.name : 'error'}`)
  return new ApiError(503, {
    type: 'server_error',
    code: 'queue_unavailable',
    message: 'The job queue is unavailable; try again.',
    headers: { 'Retry-After': '5' },
  })
}

interface QStashTimes {
  next: number | undefined
  last: number | undefined
}

/** Next/last firing times as QStash reports them, by QStash schedule id; empty if unreachable. */
async function qstashTimes(config: Config, ids: string[]): Promise<Map<string, QStashTimes>> {
  const out = new Map<string, QStashTimes>()
  if (ids.length === 0) return out
  try {
    const client = qstashClient(config)
    const wanted = new Set(ids)
    const found =
      ids.length === 1
        ? [await client.schedules.get(ids[0] as string)]
        : (await client.schedules.list()).filter((s) => wanted.has(s.scheduleId))
    for (const s of found) {
      out.set(s.scheduleId, { next: s.nextScheduleTime, last: s.lastScheduleTime })
    }
  } catch {
    // QStash unreachable: the cron clock stands in for next_run_at.
  }
  return out
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null)

function scheduleOut(s: JobSchedule, times: QStashTimes | undefined) {
  const runs = nextRuns(s.cron, 5).map((d) => d.toISOString())
  return {
    id: s.id,
    object: 'schedule' as const,
    cron: s.cron,
    type: s.type,
    payload: s.payload,
    priority: s.priority,
    max_attempts: s.maxAttempts,
    next_run_at: iso(times?.next) ?? runs[0] ?? null,
    next_runs: runs,
    last_run_at: iso(times?.last),
    created_at: s.createdAt.toISOString(),
  }
}

const router = createRouter()
router.use('/v1/schedules', requireAuth(), requireScope('jobs'))
router.use('/v1/schedules/*', requireAuth(), requireScope('jobs'))

export const scheduleRoutes = router
  .openapi(createScheduleRoute, async (c) => {
    const body = c.req.valid('json')
    const config = c.get('config')
    const cron = parseCron(body.cron)
    if (!cron.ok) {
      throw new ApiError(400, {
        type: 'invalid_request_error',
        code: 'invalid_parameter',
        message: `Invalid cron expression: ${cron.message}.`,
        param: 'cron',
      })
    }
    const payload = validateJob(config, body.type, body.payload)
    const base = workerUrl(config)
    const db = getDb(config)
    const [row] = await db
      .insert(jobSchedules)
      .values({
        workspaceId: c.get('auth').workspaceId,
        cron: body.cron.trim(),
        type: body.type,
        payload: payload as object,
        priority: body.priority,
        maxAttempts: body.max_attempts,
      })
      .returning()
    if (!row) throw new Error('insert returned nothing')
    // Each firing is one QStash message through the priority lane; it is the job's first
    // attempt and its retries are the job's retries. The worker reads type and payload from the
    // row, so the message carries only the schedule id (in the signed URL).
    let qstashScheduleId: string
    try {
      await ensureLanes(config)
      const created = await qstashClient(config).schedules.create({
        scheduleId: row.id,
        destination: `${base}/schedules/${row.id}/fire`,
        cron: row.cron,
        body: JSON.stringify({ schedule_id: row.id }),
        headers: { 'content-type': 'application/json' },
        retries: row.maxAttempts - 1,
        queueName: LANES[row.priority],
        failureCallback: `${base}/callbacks/failure?schedule_id=${row.id}`,
      })
      qstashScheduleId = created.scheduleId
    } catch (error) {
      await db.delete(jobSchedules).where(eq(jobSchedules.id, row.id))
      throw queueUnavailable(error)
    }
    const [saved] = await db
      .update(jobSchedules)
      .set({ qstashScheduleId })
      .where(eq(jobSchedules.id, row.id))
      .returning()
    const final = saved ?? row
    const times = await qstashTimes(config, [qstashScheduleId])
    return c.json(scheduleOut(final, times.get(qstashScheduleId)), 201)
  })
  .openapi(listSchedulesRoute, async (c) => {
    const config = c.get('config')
    const rows = await getDb(config)
      .select()
      .from(jobSchedules)
      .where(eq(jobSchedules.workspaceId, c.get('auth').workspaceId))
      .orderBy(desc(jobSchedules.createdAt))
    const times = await qstashTimes(
      config,
      rows.flatMap((r) => (r.qstashScheduleId ? [r.qstashScheduleId] : [])),
    )
    return c.json(
      {
        object: 'list' as const,
        data: rows.map((r) => scheduleOut(r, times.get(r.qstashScheduleId ?? ''))),
      },
      200,
    )
  })
  .openapi(getScheduleRoute, async (c) => {
    const { id } = c.req.valid('param')
    const config = c.get('config')
    const [row] = await getDb(config)
      .select()
      .from(jobSchedules)
      .where(and(eq(jobSchedules.id, id), eq(jobSchedules.workspaceId, c.get('auth').workspaceId)))
    if (!row) throw scheduleNotFound()
    const times = await qstashTimes(config, row.qstashScheduleId ? [row.qstashScheduleId] : [])
    return c.json(scheduleOut(row, times.get(row.qstashScheduleId ?? '')), 200)
  })
  .openapi(deleteScheduleRoute, async (c) => {
    const { id } = c.req.valid('param')
    const config = c.get('config')
    const db = getDb(config)
    const [row] = await db
      .select()
      .from(jobSchedules)
      .where(and(eq(jobSchedules.id, id), eq(jobSchedules.workspaceId, c.get('auth').workspaceId)))
    if (!row) throw scheduleNotFound()
    // Stop the timer first: if QStash cannot be reached the row stays, so a retry finds it.
    if (row.qstashScheduleId) {
      try {
        await qstashClient(config).schedules.delete(row.qstashScheduleId)
      } catch (error) {
        if (!/not found/i.test(error instanceof Error ? error.message : '')) {
          throw queueUnavailable(error)
        }
      }
    }
    await db.delete(jobSchedules).where(eq(jobSchedules.id, row.id))
    return c.json({ id: row.id, deleted: true as const }, 200)
  })
