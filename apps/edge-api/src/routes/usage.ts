import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, eq, sql, usageEvents } from '@synthstack/db'
import { ApiError } from '../errors'
import { requireAuth, requireScope } from '../middleware/auth'
import { planLimits } from '../plans'
import { createRouter } from '../router'
import { authErrorResponses, authSecurity } from '../schemas'
import { getDb, getRedis } from '../stores'
import { monthOf, nextMonthStart, tokensUsed } from '../usage/budget'

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } })
const DAY = 86_400_000
const MAX_DAYS = 366

const DateParam = z.iso.date('must be a date (YYYY-MM-DD)')

const UsageRow = z
  .object({
    date: z.string().openapi({ example: '2026-05-01' }),
    model: z.string(),
    api_key_id: z.string().uuid().nullable().openapi({ description: 'null: web session calls' }),
    requests: z.number().int(),
    errors: z.number().int().openapi({ description: 'Calls that answered 4xx/5xx' }),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    avg_latency_ms: z.number(),
  })
  .openapi('UsageDay')

const UsageSchema = z
  .object({
    object: z.literal('usage'),
    start_date: z.string(),
    end_date: z.string(),
    data: z.array(UsageRow),
    budget: z.object({
      month: z.string().openapi({ example: '2026-05' }),
      plan: z.enum(['free', 'pro', 'enterprise']),
      monthly_tokens: z.number().int().openapi({ description: '0: no budget' }),
      used_tokens: z
        .number()
        .int()
        .nullable()
        .openapi({ description: 'null: counter unavailable' }),
      resets_at: z.string(),
    }),
  })
  .openapi('Usage')

const usageRoute = createRoute({
  method: 'get',
  path: '/v1/usage',
  tags: ['Usage'],
  summary: 'Daily usage by model and API key, and the monthly token budget',
  description:
    'Aggregates of the metered calls (UTC days, both ends included; default the last 30 days). ' +
    'Metering is written shortly after each response, so the latest calls can take a moment to appear.',
  security: authSecurity,
  middleware: [requireAuth(), requireScope('admin')] as const,
  request: {
    query: z.object({
      start_date: DateParam.optional(),
      end_date: DateParam.optional(),
    }),
  },
  responses: { 200: { description: 'Usage', ...json(UsageSchema) }, ...authErrorResponses },
})

const day = (d: Date) => d.toISOString().slice(0, 10)
const badRange = (param: string, message: string) =>
  new ApiError(400, {
    type: 'invalid_request_error',
    code: 'invalid_parameter',
    message: `Invalid query parameter '${param}': ${message}`,
    param,
  })

export const usageRoutes = createRouter().openapi(usageRoute, async (c) => {
  const auth = c.get('auth')
  const config = c.get('config')
  const query = c.req.valid('query')
  const now = new Date()
  const end = query.end_date ? new Date(`${query.end_date}T00:00:00Z`) : new Date(day(now))
  const start = query.start_date
    ? new Date(`${query.start_date}T00:00:00Z`)
    : new Date(end.getTime() - 29 * DAY)
  if (start > end) throw badRange('start_date', 'must not be after end_date')
  if ((end.getTime() - start.getTime()) / DAY >= MAX_DAYS) {
    throw badRange('start_date', `the range may span at most ${MAX_DAYS} days`)
  }
  const dateExpr = sql<string>`to_char(${usageEvents.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`
  const [rows, used] = await Promise.all([
    getDb(config)
      .select({
        date: dateExpr,
        model: usageEvents.model,
        api_key_id: usageEvents.apiKeyId,
        requests: sql<number>`count(*)::int`,
        errors: sql<number>`(count(*) filter (where ${usageEvents.status} >= 400))::int`,
        tokens_in: sql<number>`coalesce(sum(${usageEvents.tokensIn}), 0)::int`,
        tokens_out: sql<number>`coalesce(sum(${usageEvents.tokensOut}), 0)::int`,
        avg_latency_ms: sql<number>`round(avg(${usageEvents.latencyMs})::numeric, 1)::float8`,
      })
      .from(usageEvents)
      .where(
        and(
          eq(usageEvents.workspaceId, auth.workspaceId),
          sql`${usageEvents.createdAt} >= ${start.toISOString()}::timestamptz`,
          sql`${usageEvents.createdAt} < ${new Date(end.getTime() + DAY).toISOString()}::timestamptz`,
        ),
      )
      .groupBy(dateExpr, usageEvents.model, usageEvents.apiKeyId)
      .orderBy(asc(dateExpr), asc(usageEvents.model), asc(usageEvents.apiKeyId)),
    tokensUsed(getRedis(config), auth.workspaceId),
  ])
  return c.json(
    {
      object: 'usage' as const,
      start_date: day(start),
      end_date: day(end),
      data: rows.map((r) => ({
        ...r,
        requests: Number(r.requests),
        errors: Number(r.errors),
        tokens_in: Number(r.tokens_in),
        tokens_out: Number(r.tokens_out),
        avg_latency_ms: Number(r.avg_latency_ms),
      })),
      budget: {
        month: monthOf(now),
        plan: auth.plan,
        monthly_tokens: planLimits(config, auth.plan).monthlyTokens,
        used_tokens: used,
        resets_at: nextMonthStart(now).toISOString(),
      },
    },
    200,
  )
})
