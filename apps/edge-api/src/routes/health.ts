import { createRoute, z } from '@hono/zod-openapi'
import { checkHealth } from '../health/checks'
import { createRouter } from '../router'
import { ErrorSchema } from '../schemas'
import { version } from '../version'

const CheckSchema = z
  .object({
    status: z.enum(['ok', 'error', 'not_configured']),
    latency_ms: z.number().nullable().openapi({ description: 'Round trip of the probe' }),
    error: z.string().optional().openapi({ description: 'Why the probe failed (never secrets)' }),
    detail: z.string().optional(),
  })
  .openapi('HealthCheck')

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']),
    checks: z.object({
      postgres: CheckSchema,
      redis: CheckSchema,
      qstash: CheckSchema,
      ml_node: CheckSchema,
      vectors: CheckSchema,
    }),
    version: z.string(),
  })
  .openapi('Health')

export const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['System'],
  summary: 'Dependency health',
  description:
    'Probes Postgres, Redis, QStash, the ml-node and the vector store in parallel, each under a ' +
    'timeout. 200 when every configured dependency answers, 503 otherwise.',
  responses: {
    200: {
      description: 'Every configured dependency is ok',
      content: { 'application/json': { schema: HealthSchema } },
    },
    503: {
      description: 'At least one dependency failed',
      content: { 'application/json': { schema: HealthSchema } },
    },
    500: {
      description: 'Invalid configuration',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  },
})

export const health = createRouter().openapi(healthRoute, async (c) => {
  const report = await checkHealth(c.get('config'))
  c.header('Cache-Control', 'no-store')
  const body = { ...report, version }
  return report.status === 'ok' ? c.json(body, 200) : c.json(body, 503)
})
