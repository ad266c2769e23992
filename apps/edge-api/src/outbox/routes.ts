import { createRoute, z } from '@hono/zod-openapi'
import { and, desc, emailOutbox, eq, sql } from '@synthstack/db'
import { requireAuth, requireScope } from '../middleware/auth'
import { createRouter } from '../router'
import { authErrorResponses, authSecurity } from '../schemas'
import { getDb } from '../stores'

const EmailSchema = z
  .object({
    id: z.string().uuid(),
    object: z.literal('email'),
    job_id: z.string().nullable(),
    to: z.array(z.string()),
    from: z.string(),
    subject: z.string(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    provider: z.enum(['outbox', 'resend']),
    provider_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('OutboxEmail')

const listOutboxRoute = createRoute({
  tags: ['Jobs'],
  security: authSecurity,
  method: 'get',
  path: '/v1/outbox',
  summary: 'Mail sent by email.send jobs, newest first',
  description:
    'Locally (no RESEND_API_KEY) this is where mail goes; with Resend it is the log of what was ' +
    'sent, with the provider id.',
  request: {
    query: z.object({
      job_id: z.string().uuid().optional(),
      created_before: z.string().datetime({ offset: true }).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: {
      description: 'Emails',
      content: {
        'application/json': {
          schema: z.object({
            object: z.literal('list'),
            data: z.array(EmailSchema),
            has_more: z.boolean(),
          }),
        },
      },
    },
    ...authErrorResponses,
  },
})

const router = createRouter()
router.use('/v1/outbox', requireAuth(), requireScope('jobs'))

export const outboxRoutes = router.openapi(listOutboxRoute, async (c) => {
  const q = c.req.valid('query')
  const conditions = [eq(emailOutbox.workspaceId, c.get('auth').workspaceId)]
  if (q.job_id) conditions.push(eq(emailOutbox.jobId, q.job_id))
  if (q.created_before) conditions.push(sql`${emailOutbox.createdAt} < ${q.created_before}`)
  const rows = await getDb(c.get('config'))
    .select()
    .from(emailOutbox)
    .where(and(...conditions))
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(q.limit + 1)
  return c.json(
    {
      object: 'list' as const,
      data: rows.slice(0, q.limit).map((r) => ({
        id: r.id,
        object: 'email' as const,
        job_id: r.jobId,
        to: r.to as string[],
        from: r.from,
        subject: r.subject,
        text: r.text,
        html: r.html,
        provider: r.provider,
        provider_id: r.providerId,
        created_at: r.createdAt.toISOString(),
      })),
      has_more: rows.length > q.limit,
    },
    200,
  )
})
